"""`gefyra validate` and `gefyra schema` through typer's CliRunner, and the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gefyra.cli.app import app
from gefyra.config.schema import schema_text
from tests.unit.config_helpers import write

REPO = Path(__file__).resolve().parents[2]
INVALID = """
version: 1
containers:
  web:
    imgae: nginx
    ports: ["99999:80"]
"""


def run(*args: str, cwd: Path | None = None):
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        os.chdir(old)


def test_valid_file_exits_0(tmp_path):
    write(tmp_path, "version: 1\nproject: {name: demo}\ncontainers: {web: {image: nginx}}\n")
    result = run("validate", "-f", str(tmp_path / "gefyra.yaml"))
    assert result.exit_code == 0, result.output
    expected = f"{tmp_path / 'gefyra.yaml'}: valid (project demo, 1 container(s), 0 bridge(s))\n"
    assert result.stdout == expected


def test_invalid_file_exits_1_and_prints_every_problem(tmp_path):
    write(tmp_path, INVALID)
    result = run("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "gefyra.yaml:4:5: unknown key 'imgae' in containers.web (did you mean 'image'?)\n"
        "gefyra.yaml:5:13: containers.web.ports[0]: host port 99999 is out of range (1-65535)\n"
    )
    assert result.stdout == ""


def test_json_output_lists_problems(tmp_path):
    write(tmp_path, INVALID)
    result = run("validate", "-o", "json", "gefyra.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert [(p["line"], p["column"]) for p in report["problems"]] == [(4, 5), (5, 13)]
    assert report["problems"][0] == {
        "file": "gefyra.yaml",
        "line": 4,
        "column": 5,
        "message": "unknown key 'imgae' in containers.web (did you mean 'image'?)",
    }


def test_json_output_of_a_valid_file(tmp_path):
    write(tmp_path, "version: 1\n")
    result = run("validate", "-o", "json", "-f", str(tmp_path / "gefyra.yaml"))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"valid": True, "file": str(tmp_path / "gefyra.yaml"), "problems": []}


def test_missing_file_exits_1_with_a_hint(tmp_path):
    result = run("validate", "-f", "absent.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == "absent.yaml: no such file\nhint: pass the path of a gefyra.yaml with -f\n"


def test_unknown_output_format_is_a_usage_error_exiting_1(tmp_path):
    write(tmp_path, "version: 1\n")
    command = [sys.executable, "-m", "gefyra", "validate", "-o", "xml"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    # 1, not click's usual 2: `gefyra plan` reserves 2 for "the plan has changes".
    assert result.returncode == 1, result.stderr
    assert "Invalid value for '-o'" in result.stderr or "xml" in result.stderr


def test_schema_prints_the_committed_schema():
    result = run("schema")
    assert result.exit_code == 0
    assert result.stdout == schema_text() == (REPO / "schemas/gefyra.schema.json").read_text(encoding="utf-8")


def test_console_script_searches_upward_and_sets_the_exit_code(tmp_path):
    write(tmp_path, INVALID)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    script = [sys.executable, "-m", "gefyra", "validate"]
    failed = subprocess.run(script, cwd=deep, capture_output=True, text=True, timeout=60, env=_env())
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[0] == (
        "../../gefyra.yaml:4:5: unknown key 'imgae' in containers.web (did you mean 'image'?)"
    )
    write(tmp_path, "version: 1\n")
    passed = subprocess.run(script, cwd=deep, capture_output=True, text=True, timeout=60, env=_env())
    assert passed.returncode == 0, passed.stderr


def test_help_imports_no_heavy_library():
    """`gefyra --help` stays fast: command modules import pydantic, ruamel, docker, kubernetes lazily."""
    code = (
        "import sys; sys.argv = ['gefyra', '--help']\n"
        "from gefyra.cli.app import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pydantic', 'ruamel.yaml', 'docker', 'kubernetes') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_missing_local_files_make_the_file_invalid(tmp_path):
    write(tmp_path, "version: 1\ncontainers:\n  web:\n    build: {context: nope}\n    mounts: [./x:/x]\n")
    result = run("validate", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "gefyra.yaml:4:22: containers.web.build.context: build context nope does not exist "
        f"(relative to {tmp_path})\n"
        "gefyra.yaml:5:14: containers.web.mounts[0]: mount source ./x does not exist "
        f"(relative to {tmp_path})\n"
    )

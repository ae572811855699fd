"""The README's quick start, run as written: its console block holds exactly two commands; the demo command is
run and must print its proofs; the test command (what CI runs, which would start this suite again) is only
checked: .ci/run sets up and then runs `make test`, whose recipe runs the static checks and pytest."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_COMMAND = "python3 scripts/demo.py"
TEST_COMMAND = "bash .ci/run"  # not run here: it is the whole suite, this test included
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]


def quickstart_commands(readme: str) -> list[str]:
    """The `$ ` lines of the console blocks in README's "## Quick start" section, without their comments."""
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```console\n(.*?)```", section, re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.startswith("$ ")]
    return [line[2:].split(" #", 1)[0].strip() for line in lines]


def test_the_quick_start_is_two_commands_and_the_test_command_runs_make_test():
    commands = quickstart_commands((REPO / "README.md").read_text())
    assert commands == [DEMO_COMMAND, TEST_COMMAND], commands
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-2:] == ["bash .ci/setup", "exec make test"], ci[-2:]
    dry = subprocess.run(["make", "-n", "test", "demo"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "-m pytest" in dry.stdout and "-m mypy" in dry.stdout and "lint-imports" in dry.stdout, dry.stdout
    assert DEMO_COMMAND in [line.strip() for line in dry.stdout.splitlines()]  # `make demo` is the same


def _demo_sandbox_running() -> bool:
    state = Path(os.environ.get("GEFYRA_SANDBOX_STATE", "/tmp/gefyra-sandbox")) / "demo" / "ready.json"
    if not state.exists():
        return False
    try:
        os.kill(int(json.loads(state.read_text())["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return False
    return True


def test_the_quick_start_demo_command_runs_and_prints_its_proofs():
    was_running = _demo_sandbox_running()
    try:
        done = subprocess.run(
            DEMO_COMMAND.split(), cwd=REPO, capture_output=True, text=True, timeout=600, env=dict(os.environ)
        )
    finally:
        if not was_running:  # leave the host as the test found it
            subprocess.run([sys.executable, "scripts/demo.py", "--clean"], cwd=REPO, capture_output=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    proofs = done.stdout.split("\nproof:\n", 1)[1]
    for expected in (
        "-> backend local container",
        "reached http://prices/",
        "variables of the Pod's",
        "edit VERSION",
        "after down",
    ):
        assert expected in proofs, proofs
    assert "demo: finished in" in done.stdout


def _one_line_failure(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The demo's failure: exit 1, `demo: <what>` and `  -> <what to do>` on stderr, no traceback."""
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("demo: ") and lines[1].startswith("  -> "), lines
    return lines


def test_the_demo_refuses_a_user_who_is_not_root_in_one_line():
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *DEMO_COMMAND.split()],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    what, todo = _one_line_failure(done)
    assert "needs root" in what and "sudo make demo" in todo


def test_the_demo_names_a_taken_local_port_and_what_to_do():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        was_running = _demo_sandbox_running()
        try:
            done = subprocess.run(
                DEMO_COMMAND.split(),
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=600,
                env=dict(os.environ, SHOP_LOCAL_PORT=str(port)),
            )
        finally:
            if not was_running:
                subprocess.run([sys.executable, "scripts/demo.py", "--clean"], cwd=REPO, capture_output=True)
    what, todo = _one_line_failure(done)
    assert f"port 127.0.0.1:{port} is taken" in what and "SHOP_LOCAL_PORT=" in todo


def test_the_demo_says_when_the_docker_engine_does_not_answer(tmp_path):
    """DOCKER_HOST at a socket nobody serves (the shared engine stays untouched): set-up waits, gives up."""
    log = tmp_path / "dockerd.log"
    log.write_text("")
    env = dict(
        os.environ,
        DOCKER_HOST=f"unix://{tmp_path}/nobody.sock",
        GEFYRA_ENGINE_TIMEOUT="1",
        GEFYRA_DOCKERD_LOG=str(log),
    )
    done = subprocess.run(
        DEMO_COMMAND.split(), cwd=REPO, capture_output=True, text=True, timeout=120, env=env
    )
    what, todo = _one_line_failure(done)
    assert "Docker engine is not startable" in what and str(log) in todo

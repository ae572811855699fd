"""The fast path of `gefyra plan`, `status` and `list`: it parses exactly what the typer commands parse, takes
only argv that is plainly valid (everything else goes to typer and its messages), and imports no typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from gefyra.cli import fast
from gefyra.cli.app import app

CLI = typer.main.get_command(app)


def _typer_params(argv: list[str]) -> dict[str, str | None]:
    command = CLI.commands[argv[0]]
    params = command.make_context(argv[0], argv[1:]).params
    return {name: (str(value) if value is not None else None) for name, value in params.items()}


@pytest.mark.parametrize("name", sorted(fast.COMMANDS))
def test_the_fast_table_has_the_typer_commands_options_and_defaults(name) -> None:
    command = CLI.commands[name]
    options = {flag: param.name for param in command.params for flag in param.opts if param.name != "help"}
    assert dict(fast.COMMANDS[name].options) == options
    assert dict(fast.COMMANDS[name].defaults) == {p.name: p.default for p in command.params}


@pytest.mark.parametrize(
    "argv",
    [
        ["plan"],
        ["plan", "-o", "json"],
        ["plan", "--output=json", "-f", "x/gefyra.yaml"],
        ["status", "--file", "gefyra.yaml", "--output", "text"],
        ["list", "-p", "demo", "-o", "json"],
        ["list", "--project=demo"],
    ],
)
def test_fast_parsing_equals_typer_parsing(argv) -> None:
    parsed = fast.parse(argv)
    assert parsed is not None and dict(parsed.params) == _typer_params(argv)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["apply"],
        ["--debug", "plan"],
        ["plan", "--help"],
        ["plan", "-o", "yaml"],  # typer names the allowed values
        ["plan", "-o"],
        ["plan", "-ojson"],
        ["plan", "-o=json"],
        ["plan", "-o", "json", "-o", "text"],
        ["plan", "extra"],
        ["status", "--bogus"],
        ["list", "-f", "gefyra.yaml"],
    ],
)
def test_anything_else_goes_to_typer(argv) -> None:
    assert fast.parse(argv) is None


def test_the_fast_path_imports_no_typer(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom gefyra.cli.app import main\n"
        f"sys.argv = ['gefyra', 'status', '-f', {str(tmp_path / 'missing.yaml')!r}]\n"
        "try:\n    main()\nexcept SystemExit as done:\n    print('exit', done.code)\n"
        "print('typer' in sys.modules)\n"
    )
    env = {**os.environ, "GEFYRA_AGENT": "0"}  # the in-process fast path (the agent has its own tests)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.stdout.split() == ["exit", "1", "False"], result.stderr
    assert "missing.yaml" in result.stderr

"""The fast path of read-only commands: `gefyra plan`, `status` and `list` with plain options run without
importing typer (and the pydantic type adapters it builds for every parameter), which is most of their
start-up time.

Only what is certainly valid is taken here: known options given as `--name value`, `--name=value` or
`-x value`, each at most once, with an allowed value. Anything else (help, an unknown or repeated option,
a bad value, arguments) returns None and goes to the typer app, which owns every message and error. A unit
test keeps this table equal to the typer commands' options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

OUTPUTS = ("text", "json")


class FastCommand(NamedTuple):
    """A read-only command: option flag -> parameter name, allowed values, and what runs it."""

    options: Mapping[str, str]
    choices: Mapping[str, tuple[str, ...]]
    defaults: Mapping[str, str | None]
    runner: Callable[[Mapping[str, str | None]], int]


class Parsed(NamedTuple):
    command: FastCommand
    params: Mapping[str, str | None]

    def run(self) -> int:
        return self.command.runner(self.params)


def _plan(params: Mapping[str, str | None]) -> int:
    from gefyra.cli import readonly

    return readonly.plan(_path(params["file"]), params["output"] or "text")


def _status(params: Mapping[str, str | None]) -> int:
    from gefyra.cli import readonly

    return readonly.status(_path(params["file"]), params["output"] or "text")


def _list(params: Mapping[str, str | None]) -> int:
    from gefyra.cli import readonly

    return readonly.containers(params["project"], params["output"] or "text")


def _path(value: str | None) -> Path | None:
    return Path(value) if value is not None else None


_FILE_OUTPUT = {"-f": "file", "--file": "file", "-o": "output", "--output": "output"}
COMMANDS: Mapping[str, FastCommand] = {
    "plan": FastCommand(_FILE_OUTPUT, {"output": OUTPUTS}, {"file": None, "output": "text"}, _plan),
    "status": FastCommand(_FILE_OUTPUT, {"output": OUTPUTS}, {"file": None, "output": "text"}, _status),
    "list": FastCommand(
        {"-o": "output", "--output": "output", "-p": "project", "--project": "project"},
        {"output": OUTPUTS},
        {"output": "text", "project": None},
        _list,
    ),
}


def parse(argv: list[str]) -> Parsed | None:
    """The command and its parameters when `argv` is plainly valid for a fast command, else None."""
    if not argv or argv[0] not in COMMANDS:
        return None
    command = COMMANDS[argv[0]]
    params: dict[str, str | None] = {}
    rest = argv[1:]
    while rest:
        flag, attached, value = rest[0].partition("=")
        name = command.options.get(flag)
        if name is None or name in params or (attached and not flag.startswith("--")):
            return None
        if not attached:
            if len(rest) < 2 or rest[1].startswith("-"):
                return None
            value, rest = rest[1], rest[2:]
        else:
            rest = rest[1:]
        if name in command.choices and value not in command.choices[name]:
            return None
        params[name] = value
    return Parsed(command, {**command.defaults, **params})

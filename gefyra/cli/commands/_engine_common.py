"""Shared bits of the engine commands (not a command module: the leading underscore keeps it undiscovered)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from gefyra.apply.events import EventSink
    from gefyra.render.console import Console

FILE_HELP = "gefyra.yaml to use; default: ./gefyra.yaml, searched upward."
OUTPUTS = ("text", "json")


def file_option() -> Any:  # typer.Option is typed Any: it stands for the parameter's default value
    return typer.Option(None, "-f", "--file", help=FILE_HELP)


def output_option() -> Any:
    return typer.Option("text", "-o", "--output", help="text or json")


def check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise typer.BadParameter(f"'{output}' is not one of 'text', 'json'", param_hint="'-o' / '--output'")


def progress(output: str, console: Console) -> EventSink:
    """The event sink for `output`."""
    from gefyra.render import progress as renderers

    return renderers.jsonl(console) if output == "json" else renderers.plain(console)

"""`gefyra unbridge`: remove bridges `gefyra bridge` made (the Operator restores their Pods)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from pydantic import JsonValue

from gefyra.cli.commands._engine_common import check_output, file_option, output_option, progress


def register(app: typer.Typer) -> None:
    @app.command("unbridge")
    def unbridge(
        names: list[str] = typer.Argument(None, help="Bridges to remove."),
        every: bool = typer.Option(False, "--all", help="Every bridge `gefyra bridge` made in this project."),
        file: Any = file_option(),
        output: str = output_option(),
    ) -> None:
        """Remove bridges made by `gefyra bridge`; each Pod gets its own image back.

        A bridge declared in gefyra.yaml is removed there (then `gefyra apply`)."""
        from gefyra import api, cluster_api
        from gefyra.errors import ConfigError
        from gefyra.render.console import Console

        check_output(output)
        chosen = list(names or [])
        if not chosen and not every:
            raise ConfigError("name the bridges to remove, or pass --all")
        console = Console()
        removed = cluster_api.unbridge(api.load(file), chosen, every=every, emit=progress(output, console))
        if output == "json":
            removed_json: list[JsonValue] = list(removed)
            console.json({"format_version": 1, "removed": removed_json})
        elif not removed:
            console.data("No bridges to remove.")
        for name in removed if output == "text" else ():
            console.data(f"bridge/{name}: removed (its Pods are restored)")

"""`gefyra watch`: apply, then re-apply on every change until Ctrl-C (which leaves the environment up)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gefyra.cli.commands._engine_common import check_output, file_option, output_option, progress

if TYPE_CHECKING:
    from gefyra.apply.events import Event


def register(app: typer.Typer) -> None:
    @app.command("watch")
    def watch(
        file: Path | None = file_option(),
        output: str = output_option(),
        drift_interval: float = typer.Option(5.0, "--drift-interval", help="Seconds between drift checks."),
    ) -> None:
        """Apply now, then again on edits of gefyra.yaml, on watched paths, and when something drifted."""
        from gefyra import api
        from gefyra.errors import ExitCode
        from gefyra.render import plan_text
        from gefyra.render.console import Console

        check_output(output)
        console = Console()
        show = progress(output, console)

        def emit(event: Event) -> None:
            if event.event == "plan" and event.plan is not None and output == "text":
                console.plan(plan_text.render(event.plan))
            else:
                show(event)

        try:
            api.watch(file, emit=emit, drift_interval=drift_interval)
        except KeyboardInterrupt:
            console.note("watch stopped; the environment keeps running (`gefyra down` removes it)")
            raise typer.Exit(ExitCode.INTERRUPTED) from None

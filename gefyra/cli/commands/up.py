"""`gefyra up`: install (cluster.install: auto) and connect this machine, without containers or bridges."""

from __future__ import annotations

from typing import Any

import typer

from gefyra.cli.commands._engine_common import check_output, file_option, output_option, progress


def register(app: typer.Typer) -> None:
    @app.command("up")
    def up(
        file: Any = file_option(),
        output: str = output_option(),
        yes: bool = typer.Option(False, "--yes", "-y", help="Apply without asking."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Only show the plan."),
    ) -> None:
        """Install gefyra in the cluster and connect: network, GefyraClient, tunnel (Cargo).

        `gefyra apply` without local containers and bridges: those stay as they are (made, changed and
        removed only by `apply`, `bridge` and `unbridge`)."""
        import sys

        from gefyra import api, cluster_api
        from gefyra.errors import GefyraError
        from gefyra.render import plan_text
        from gefyra.render.console import Console

        check_output(output)
        console = Console()
        config = api.load(file)
        if not yes and not dry_run and (output == "json" or not sys.stdin.isatty()):
            raise GefyraError("refusing to apply without confirmation", hint="pass --yes (not interactive)")

        def confirm(planned: Any) -> bool:
            if output == "text":
                console.plan(plan_text.render(planned))
            return yes or typer.confirm("Apply these changes?", default=False, err=True)

        emit = progress(output, console)
        events = emit if output == "json" else (lambda event: event.event == "plan" or emit(event))
        outcome = cluster_api.up(config, emit=events, confirm=confirm, dry_run=dry_run)
        if output == "text" and outcome.result is None and outcome.confirmed:
            console.plan(plan_text.render(outcome.plan))
        if not outcome.confirmed:
            console.note("Up cancelled; nothing changed.")
        outcome.raise_for_failures()

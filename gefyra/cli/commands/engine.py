"""`gefyra plan`, `apply`, `down`, `status`: thin over gefyra.api."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gefyra.cli.commands._engine_common import check_output, file_option, output_option, progress

if TYPE_CHECKING:
    from gefyra.apply.events import Event
    from gefyra.planning.plan import Plan


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan(file: Path | None = file_option(), output: str = output_option()) -> None:
        """Show what apply would change. Exit 0: no changes, 2: changes, 1: error."""
        from gefyra.cli import readonly

        check_output(output)
        raise typer.Exit(readonly.plan(file, output))

    @app.command("apply")
    def apply(
        file: Path | None = file_option(),
        output: str = output_option(),
        yes: bool = typer.Option(False, "--yes", "-y", help="Apply without asking."),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Only show the plan (like `gefyra plan`, exit 0)."
        ),
        parallelism: int = typer.Option(4, "--parallelism", help="Steps run at the same time."),
    ) -> None:
        """Make the world match gefyra.yaml: show the plan, then create, replace and delete."""
        import sys

        from gefyra import api
        from gefyra.errors import GefyraError
        from gefyra.render import plan_text
        from gefyra.render.console import Console
        from gefyra.render.progress import notices

        check_output(output)
        console = Console()
        config = api.load(file)
        if not yes and not dry_run and (output == "json" or not sys.stdin.isatty()):
            raise GefyraError("refusing to apply without confirmation", hint="pass --yes (not interactive)")

        def show(planned: Plan) -> None:  # text: notices on stderr, then the plan, once
            notices(console, planned.notices)
            console.plan(plan_text.render(planned))

        def confirm(planned: Plan) -> bool:
            if output == "text":
                show(planned)
            return yes or typer.confirm("Apply these changes?", default=False, err=True)

        emit = progress(output, console)

        def events(event: Event) -> None:
            if output == "json" or event.event != "plan":  # text shows the plan itself (show)
                emit(event)

        outcome = api.apply(config, emit=events, confirm=confirm, dry_run=dry_run, parallelism=parallelism)
        if output == "text" and outcome.result is None and outcome.confirmed:
            show(outcome.plan)  # no changes, or a dry run: confirm was not asked
        if not outcome.confirmed:
            console.note("Apply cancelled; nothing changed.")
        outcome.raise_for_failures()

    @app.command("down")
    def down(
        file: Path | None = file_option(),
        output: str = output_option(),
        all_projects: bool = typer.Option(
            False, "--all", help="Every gefyra project on this machine (no file)."
        ),
        project: str | None = typer.Option(
            None, "--project", "-p", help="Project name instead of gefyra.yaml."
        ),
        images: bool = typer.Option(False, "--images", help="Also remove the images built for `build:`."),
    ) -> None:
        """Remove everything labelled with the project, print what was removed, verify nothing is left."""
        import json

        from gefyra import api
        from gefyra.render.console import Console

        check_output(output)
        console = Console()
        emit = progress(output, console) if output == "json" else (lambda event: None)
        if all_projects:
            reports = api.down_all(emit=emit, images=images)
        else:
            reports = [api.down(project or api.load(file).project.name, emit=emit, images=images)]
        if output == "json":
            finished = {"event": "down_finished", "projects": [r.model_dump() for r in reports]}
            console.json_line(json.dumps(finished))
            return
        if not reports:
            console.data("No gefyra projects found.")
        for report in reports:
            console.data(f"Project {report.project}: removed {len(report.removed)} object(s), nothing left.")
            for item in report.removed:
                console.data(f"  - {item}")

    @app.command("status")
    def status(file: Path | None = file_option(), output: str = output_option()) -> None:
        """Each resource: running / exited / missing / drifted, and why. Exit 0: all healthy, 2: not."""
        from gefyra.cli import readonly

        check_output(output)
        raise typer.Exit(readonly.status(file, output))

"""What `gefyra plan`, `status` and `list` do once their options are parsed, shared by the typer commands and
the fast path (gefyra/cli/fast.py). Each returns the exit code; nothing here imports typer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import JsonValue


def plan(file: Path | None, output: str) -> int:
    """Show what apply would change. Exit 0: no changes, 2: changes."""
    from gefyra import api
    from gefyra.errors import ExitCode
    from gefyra.render.console import Console

    result = api.plan(api.load(file))
    console = Console()
    if output == "json":
        from gefyra.render import plan_json

        console.json(plan_json.plan_to_dict(result))
    else:
        from gefyra.render import plan_text
        from gefyra.render.progress import notices

        notices(console, result.notices)
        console.plan(plan_text.render(result))
    return ExitCode.CHANGES if result.has_changes else ExitCode.OK


def status(file: Path | None, output: str) -> int:
    """Each resource: running / exited / missing / drifted, and why. Exit 0: all healthy, 2: not."""
    from gefyra import api
    from gefyra.errors import ExitCode
    from gefyra.render.console import Console

    report = api.status(api.load(file))
    console = Console()
    if output == "json":
        console.json({"format_version": 1, **report.model_dump(), "healthy": report.healthy})
    else:
        width = max([len(item.address) for item in report.resources] + [8]) + 2
        console.data(f"Project {report.project}:")
        for item in report.resources:
            console.data(f"  {item.address:<{width}}{item.state:<14}{item.detail}".rstrip())
    return ExitCode.OK if report.healthy else ExitCode.CHANGES


def containers(project: str | None, output: str) -> int:
    """Every gefyra container on this machine (or of one project): project, kind, name, state, image."""
    from gefyra.errors import ExitCode
    from gefyra.providers.docker.listing import local_listing
    from gefyra.render.console import Console

    rows = local_listing(project)  # a local engine: standard library only (fast)
    if rows is None:
        from gefyra import api

        rows = api.list_containers(project)
    console = Console()
    if output == "json":
        entries: list[JsonValue] = [{key: value for key, value in row.items()} for row in rows]
        console.json({"format_version": 1, "containers": entries})
        return ExitCode.OK
    if not rows:
        console.data("No gefyra containers.")
        return ExitCode.OK
    header = ("PROJECT", "KIND", "NAME", "STATE", "DOCKER NAME", "IMAGE")
    table = [header] + [
        (r["project"], r["kind"], r["name"], r["state"], r["docker_name"], r["image"]) for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        console.data("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return ExitCode.OK

"""`gefyra check`: pre-flight of the project's cluster path, one line per check with what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from pydantic import JsonValue

from gefyra.cli.commands._engine_common import check_output, file_option, output_option


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(file: Any = file_option(), output: str = output_option()) -> None:
        """Is this machine ready? Docker, the cluster, your permissions there (SelfSubjectAccessReview),
        Stowaway's UDP endpoint, subnet clashes. Exit 0: nothing wrong, 1: something is (see its line)."""
        from gefyra import api
        from gefyra.errors import ExitCode
        from gefyra.providers.kube import preflight
        from gefyra.render.console import Console

        check_output(output)
        results = preflight.run(api.load(file))
        failed = any(item.status == "fail" for item in results)
        console = Console()
        if output == "json":
            rows: list[JsonValue] = [
                {"name": r.name, "status": r.status, "detail": r.detail, "hint": r.hint} for r in results
            ]
            console.json({"format_version": 1, "ok": not failed, "checks": rows})
        else:
            for item in results:
                console.data(
                    f"{item.status.upper() if item.status == 'fail' else item.status:<5} "
                    f"{item.name:<9} {item.detail}"
                )
                if item.hint and item.status != "ok":
                    console.data(f"{'':<15} -> {item.hint}")
        raise typer.Exit(ExitCode.ERROR if failed else ExitCode.OK)

"""`gefyra bridge`: bridge one workload to a local container without editing gefyra.yaml."""

from __future__ import annotations

from typing import Any

import typer

from gefyra.cli.commands._engine_common import check_output, file_option, output_option, progress


def register(app: typer.Typer) -> None:
    @app.command("bridge")
    def bridge(
        name: str = typer.Argument(..., help="The bridge's name (not one gefyra.yaml declares)."),
        target: str = typer.Option(
            ..., "--target", "-t", help="deployment/NAME[/CONTAINER], statefulset/... or pod/..."
        ),
        local: str | None = typer.Option(
            None, "--local", "-l", help="Local container (gefyra.yaml, or `gefyra run -N`); default: NAME."
        ),
        port: list[str] = typer.Option(
            [], "--port", "-p", help="CLUSTER[:LOCAL] port (repeatable); default: every port, same number."
        ),
        container: str | None = typer.Option(
            None, "--container", "-c", help="The Pod's container to replace (or name it in --target)."
        ),
        namespace: str | None = typer.Option(
            None, "--namespace", "-n", help="The target's namespace; default: cluster.namespace."
        ),
        file: Any = file_option(),
        output: str = output_option(),
    ) -> None:
        """Send a workload's traffic to a local container, until `gefyra unbridge` (or `down`).

        The bridge is kept in the cluster, not in gefyra.yaml: `plan`, `apply` and `status` treat it like a
        declared one. It syncs no files (the local container runs already; declare the bridge for that)."""
        from gefyra import api, cluster_api
        from gefyra.config import forms
        from gefyra.errors import ConfigError
        from gefyra.render.console import Console

        check_output(output)
        console = Console()
        config = api.load(file)
        try:
            parsed = forms.parse_workload(target, allow_container=True)
        except ValueError as error:
            raise ConfigError(f"--target: {error}") from None
        assert isinstance(parsed, dict)  # a string always parses into {kind, name[, container]}
        values: dict[str, object] = {"target": {"kind": parsed["kind"], "name": parsed["name"]}}
        if "container" in parsed:
            values["container"] = parsed["container"]
        given = (("local", local), ("namespace", namespace), ("container", container))
        values.update({k: v for k, v in given if v})
        if port:
            values["ports"] = list(port)
        line = cluster_api.bridge(config, name, values, emit=progress(output, console))
        if output == "json":
            console.json({"format_version": 1, "bridge": name, "status": line})
        else:
            console.data(f"bridge/{name}: {line}")

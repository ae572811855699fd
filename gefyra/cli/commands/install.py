"""`gefyra install --print`: the install manifests as YAML (for `kubectl apply -f -` or a review)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gefyra.cli.commands._engine_common import file_option
from gefyra.errors import ConfigError

if TYPE_CHECKING:
    from gefyra.config.model import ClusterImages


def configured_images(file: Path | None, cwd: Path) -> ClusterImages | None:
    """`cluster.images` of gefyra.yaml (the given file, else the nearest one upward); None without one."""
    from gefyra.config import find_config, load

    path = file if file is not None else find_config(cwd)
    if path is None:
        return None
    config = load(path, cwd=cwd)
    return config.cluster.images if config.cluster is not None else None


def register(app: typer.Typer) -> None:
    @app.command("install")
    def install(
        print_: bool = typer.Option(False, "--print", help="Print the manifests as YAML (required)."),
        endpoint: str | None = typer.Option(None, help="host:port where clients reach Stowaway's NodePort."),
        route: list[str] = typer.Option([], help="A cluster range (Pods, Services) for peers; repeatable."),
        dns: list[str] = typer.Option([], help="The cluster DNS server's address; repeatable."),
        node_port: int = typer.Option(31820, help="Stowaway's UDP NodePort (30000-32767)."),
        file: Path | None = file_option(),
    ) -> None:
        """Print gefyra's cluster side (namespace, CRDs, RBAC, Operator, Stowaway).

        Images: GEFYRA_OPERATOR_IMAGE, GEFYRA_STOWAWAY_IMAGE, GEFYRA_CARRIER_IMAGE, else `cluster.images` of
        gefyra.yaml (--file, else the nearest one upward), else this checkout's local tags.
        `gefyra apply` with `cluster.install: auto` installs the same manifests itself."""
        from pydantic import ValidationError

        from gefyra.cluster.install import InstallSettings, render_yaml
        from gefyra.providers.kube.images import image_refs

        if not print_:
            raise ConfigError("only `gefyra install --print` exists", hint="or use cluster.install: auto")
        refs = image_refs(configured_images(file, Path.cwd()))
        try:
            settings = InstallSettings(
                operator_image=refs.operator,
                stowaway_image=refs.stowaway,
                carrier_image=refs.carrier,
                node_port=node_port,
                cluster_routes=route,
                cluster_dns=dns,
                endpoint=endpoint,
            )
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise ConfigError(f"install settings: {problems}") from None
        typer.echo(render_yaml(settings), nl=False)

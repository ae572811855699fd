"""`gefyra install --print`: the install manifests as YAML (for `kubectl apply -f -` or a review)."""

from __future__ import annotations

import typer

from gefyra.errors import ConfigError


def register(app: typer.Typer) -> None:
    @app.command("install")
    def install(
        print_: bool = typer.Option(False, "--print", help="Print the manifests as YAML (required)."),
        endpoint: str | None = typer.Option(None, help="host:port where clients reach Stowaway's NodePort."),
        route: list[str] = typer.Option([], help="A cluster range (Pods, Services) for peers; repeatable."),
        dns: list[str] = typer.Option([], help="The cluster DNS server's address; repeatable."),
        node_port: int = typer.Option(31820, help="Stowaway's UDP NodePort (30000-32767)."),
    ) -> None:
        """Print gefyra's cluster side (namespace, CRDs, RBAC, Operator, Stowaway).

        Images: GEFYRA_OPERATOR_IMAGE, GEFYRA_STOWAWAY_IMAGE, GEFYRA_CARRIER_IMAGE, else this checkout's
        local tags. `gefyra apply` with `cluster.install: auto` installs the same manifests itself."""
        from pydantic import ValidationError

        from gefyra.cluster.install import InstallSettings, render_yaml
        from gefyra.providers.kube.images import image_refs

        if not print_:
            raise ConfigError("only `gefyra install --print` exists", hint="or use cluster.install: auto")
        refs = image_refs()
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

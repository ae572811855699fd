"""`gefyra images build [NAME...] [--print] [--force]`: build the images gefyra runs, or show what it would
build; `gefyra images push REGISTRY [NAME...] [--print]`: push them to a registry the cluster pulls from."""

from __future__ import annotations

import sys

import typer


def register(app: typer.Typer) -> None:
    images = typer.Typer(help="The images gefyra runs: Cargo, Stowaway, Carrier and the Operator.")
    app.add_typer(images, name="images")

    @images.command("build")
    def build(
        names: list[str] = typer.Argument(None, help="cargo, stowaway, carrier, operator (default: all)."),
        print_: bool = typer.Option(False, "--print", help="Only show each image's tag and state."),
        force: bool = typer.Option(False, "--force", help="Build even when the same sources were built."),
    ) -> None:
        """Build the images from this checkout's images/ folder, each only when its sources changed.

        `gefyra apply` builds what it needs by itself; this is for building ahead (a demo, CI, an image
        import into k3d/kind/minikube). Progress goes to stderr; `--print` writes `name tag state` lines."""
        from gefyra.providers import image_builds
        from gefyra.providers.docker.engine import Engine

        engine = Engine.from_env()
        if print_:
            for item in image_builds.states(engine, names or []):
                typer.echo(f"{item.name}\t{item.tag}\t{item.state}")
            return
        image_builds.build(
            engine, names or [], force=force, progress=lambda line: print(line, file=sys.stderr, flush=True)
        )

    @images.command("push")
    def push(
        registry: str = typer.Argument(..., help="host[:port][/path] of a registry the cluster pulls from."),
        names: list[str] = typer.Argument(None, help="cargo, stowaway, carrier, operator (default: all)."),
        print_: bool = typer.Option(
            False, "--print", help="Only show what would be pushed, and the cluster.images block."
        ),
    ) -> None:
        """Push the images as REGISTRY/gefyra-<name>:<tag> (the local content-hash tag), building what is
        missing first.

        Then name them in gefyra.yaml (`cluster.images:`, printed at the end) so that the cluster pulls
        them. Progress goes to stderr; the block to paste goes to stdout."""
        from gefyra.providers import image_builds

        items = image_builds.push_items(registry, names or [])
        block = image_builds.images_block(items)
        if print_:
            for item in items:
                typer.echo(f"{item.name}\t{item.local}\t{item.remote}")
        else:
            from gefyra.providers.docker.engine import Engine

            image_builds.push(
                Engine.from_env(), items, progress=lambda line: print(line, file=sys.stderr, flush=True)
            )
        if block:
            typer.echo(f"\n# gefyra.yaml: the cluster pulls these\n{block}" if print_ else block)

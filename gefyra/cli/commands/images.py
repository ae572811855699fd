"""`gefyra images build [NAME...] [--print] [--force]`: build the images gefyra runs, or show what it would
build."""

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

"""`gefyra version`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("version")
    def version() -> None:
        """Print gefyra's version."""
        from gefyra import __version__

        typer.echo(f"gefyra {__version__}")

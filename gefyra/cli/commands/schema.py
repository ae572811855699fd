"""`gefyra schema`: print the JSON schema of gefyra.yaml."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("schema")
    def schema() -> None:
        """Print the JSON schema of gefyra.yaml (for editors and CI)."""
        from gefyra.config.schema import schema_text

        typer.echo(schema_text(), nl=False)

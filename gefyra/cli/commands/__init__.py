"""Command modules: each defines `register(app: typer.Typer) -> None` and imports heavy things lazily."""

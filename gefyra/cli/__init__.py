"""The thin typer CLI over gefyra.api. Each module in gefyra/cli/commands registers its own commands."""

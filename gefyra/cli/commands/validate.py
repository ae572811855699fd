"""`gefyra validate`: check gefyra.yaml and print every problem as `file:line:col: message`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate(
        file: Path | None = typer.Argument(
            None, help="gefyra.yaml to check (the same as -f).", show_default=False
        ),
        file_option: Path | None = typer.Option(
            None,
            "-f",
            "--file",
            metavar="FILE",
            help="gefyra.yaml to check; default: ./gefyra.yaml, searched upward.",
        ),
        output: str = typer.Option("text", "-o", "--output", metavar="text|json", help="Output format."),
    ) -> None:
        """Check gefyra.yaml: exit 0 when it is valid, 1 with every problem when it is not."""
        import json
        import sys

        from gefyra.config import load
        from gefyra.errors import ConfigError, ExitCode

        if file is not None and file_option is not None and file != file_option:
            raise typer.BadParameter("give the file as an argument or with -f, not both", param_hint="'-f'")
        file = file or file_option
        if output not in ("text", "json"):
            raise typer.BadParameter(
                f"'{output}' is not one of 'text', 'json'", param_hint="'-o' / '--output'"
            )
        try:
            config = load(file)
        except ConfigError as error:
            if output == "json":
                problems = [p.to_dict() for p in error.problems]
                if not problems:  # the file itself is missing or unreadable: no position to give
                    problems = [{"file": str(file or ""), "line": 0, "column": 0, "message": error.message}]
                typer.echo(json.dumps({"valid": False, "problems": problems}, indent=2))
            else:
                print(error.message, file=sys.stderr)
                if error.hint:
                    print(f"hint: {error.hint}", file=sys.stderr)
            raise typer.Exit(ExitCode.ERROR) from None
        if output == "json":
            summary = {"valid": True, "file": str(config.source), "problems": []}
            typer.echo(json.dumps(summary, indent=2))
        else:
            counts = f"{len(config.containers)} container(s), {len(config.bridges)} bridge(s)"
            typer.echo(f"{config.source}: valid (project {config.project.name}, {counts})")

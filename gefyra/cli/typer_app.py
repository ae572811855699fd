"""The typer application: every command, its options and help.

Command modules are discovered in gefyra/cli/commands (each has `register(app)`), so adding a command
group never edits this file. Modules import heavy libraries (docker, kubernetes, ruamel) inside their
functions, which keeps `gefyra --help` fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

state = {"debug": False}


def build() -> typer.Typer:
    app = typer.Typer(
        name="gefyra",
        help="Develop against Kubernetes from local containers: gefyra.yaml -> plan -> apply.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    @app.callback()
    def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
        state["debug"] = debug

    from gefyra.cli import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{commands.__name__}.{info.name}").register(app)
    return app


app = build()

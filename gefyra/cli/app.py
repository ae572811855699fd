"""The typer application and its single error boundary.

Command modules are discovered in gefyra/cli/commands (each has `register(app)`), so adding a command
group never edits this file. Modules import heavy libraries (docker, kubernetes, ruamel) inside their
functions, which keeps `gefyra --help` fast.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Protocol, cast

import typer

from gefyra.errors import ExitCode, GefyraError

app = typer.Typer(
    name="gefyra",
    help="Develop against Kubernetes from local containers: gefyra.yaml -> plan -> apply.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    _state["debug"] = debug


def _register_commands() -> None:
    from gefyra.cli import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry point: run the app behind one error boundary."""
    click_error = _click_exception()

    try:
        result = app(standalone_mode=False)
    except click_error as error:
        # Usage errors exit 1, not click's 2: `gefyra plan` reserves 2 for "the plan has changes".
        cast(_UsageError, error).show()
        sys.exit(ExitCode.ERROR)
    except typer.Abort:
        print("gefyra: aborted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except GefyraError as error:
        _report(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("gefyra: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - the boundary: one line unless --debug
        if _state["debug"] or "--debug" in sys.argv:
            raise
        print(f"gefyra: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print("hint: run again with --debug for a traceback", file=sys.stderr)
        sys.exit(ExitCode.ERROR)
    sys.exit(result if isinstance(result, int) else ExitCode.OK)


class _UsageError(Protocol):
    def show(self) -> None: ...


def _click_exception() -> type[Exception]:
    """click's usage error type: typer >= 0.25 vendors click, older typer uses click itself."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer
        from click import exceptions  # type: ignore[no-redef]
    return exceptions.ClickException


def _report(error: GefyraError) -> None:
    if _state["debug"] or "--debug" in sys.argv:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    print(f"error: {error.message}", file=sys.stderr)
    if error.hint:
        print(f"hint: {error.hint}", file=sys.stderr)

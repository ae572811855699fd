"""The CLI's entry point and its single error boundary.

`gefyra plan`, `status` and `list` with plain options take a fast path (gefyra/cli/fast.py) that never imports
typer, and run in the warm agent when one is up (gefyra/cli/agent_client.py; GEFYRA_AGENT=0 turns it off);
everything else, including help and every usage error, goes through the typer app (gefyra/cli/typer_app.py).
`app` here is that typer app, imported on first use.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, cast

from gefyra.errors import ExitCode, GefyraError

if TYPE_CHECKING:
    import typer

    app: typer.Typer


def __getattr__(name: str) -> object:
    if name == "app":
        from gefyra.cli.typer_app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: run the command behind one error boundary."""
    try:
        result = _run(sys.argv[1:])
    except GefyraError as error:
        _report(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("gefyra: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:  # the reader went away (`gefyra plan | head`): nothing more to say
        _silence_stdout()
        sys.exit(ExitCode.ERROR)
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - the boundary: one line unless --debug
        if _usage_error(error):
            # Usage errors exit 1, not click's 2: `gefyra plan` reserves 2 for "the plan has changes".
            cast(_UsageError, error).show()
            sys.exit(ExitCode.ERROR)
        if _aborted(error):
            print("gefyra: aborted", file=sys.stderr)
            sys.exit(ExitCode.INTERRUPTED)
        if _debug():
            raise
        print(f"gefyra: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print("hint: run again with --debug for a traceback", file=sys.stderr)
        sys.exit(ExitCode.ERROR)
    sys.exit(result)


def _run(argv: list[str]) -> int:
    from gefyra.cli import fast

    command = fast.parse(argv)
    if command is not None:
        from gefyra.cli import agent_client

        if not agent_client.in_worker:  # a worker of the agent runs the command itself
            code = agent_client.run(argv)
            if code is not None:
                return code
        return command.run()
    from gefyra.cli.typer_app import app

    result = app(args=argv, prog_name="gefyra", standalone_mode=False)
    return result if isinstance(result, int) else ExitCode.OK


class _UsageError(Protocol):
    def show(self) -> None: ...


def _click_exceptions() -> ModuleType | None:
    """click's exceptions module when typer was imported (otherwise no click error can have happened)."""
    if "typer" not in sys.modules:
        return None
    try:
        from typer._click import exceptions  # typer >= 0.25 vendors click
    except ImportError:  # pragma: no cover - older typer uses click itself
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def _usage_error(error: Exception) -> bool:
    exceptions = _click_exceptions()
    return exceptions is not None and isinstance(error, exceptions.ClickException)


def _aborted(error: Exception) -> bool:
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(error, typer.Abort)


def _debug() -> bool:
    """--debug was given (the typer app's callback records it; the fast path never takes it)."""
    typer_app = sys.modules.get("gefyra.cli.typer_app")
    return "--debug" in sys.argv or (typer_app is not None and bool(typer_app.state["debug"]))


def _silence_stdout() -> None:
    """Point stdout at /dev/null so flushing it at exit does not fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _report(error: GefyraError) -> None:
    if _debug():
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    print(f"error: {error.message}", file=sys.stderr)
    if error.hint:
        print(f"hint: {error.hint}", file=sys.stderr)

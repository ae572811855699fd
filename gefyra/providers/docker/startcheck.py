"""After a start: is the container still up? A container that exits right away fails its step with its exit
code and last log lines, instead of an apply that reports success and a plan that never converges."""

from __future__ import annotations

import os
import time

from gefyra.errors import ProviderError
from gefyra.providers.docker.engine import Engine
from gefyra.providers.errors import EngineError

DEFAULT_WINDOW_S = 0.3  # short: every create waits this long; later crashes are the drift tick's business
_POLL_S = 0.05
LOG_LINES = 10


def window_s() -> float:
    return float(os.environ.get("GEFYRA_START_CHECK_S", DEFAULT_WINDOW_S))


def last_lines(engine: Engine, ident: str, count: int = LOG_LINES) -> str:
    """The last `count` log lines (stdout and stderr), indented for an error message; '' when none."""
    try:
        text = engine.logs(ident, tail=count).rstrip()
    except EngineError:  # logs are a courtesy; the exit code is the message
        return ""
    return "\n".join(f"    {line}" for line in text.splitlines())


def exited(engine: Engine, what: str, ident: str) -> ProviderError | None:
    """A ProviderError describing a failed exit of the container (exit code, last lines), else None."""
    state = engine.inspect_container(ident).state
    if state.running or state.status != "exited" or state.exit_code == 0:
        return None  # running, or a one-shot container that finished its job
    lines = last_lines(engine, ident)
    detail = f"; last log lines:\n{lines}" if lines else " (no log output)"
    return ProviderError(
        f"{what} exited right after start with code {state.exit_code}{detail}",
        hint=f"`gefyra logs {what.split('/', 1)[-1]}` shows more; fix the command or image",
    )


def check_started(engine: Engine, what: str, ident: str, window: float | None = None) -> None:
    """Raise when the container exits with a non-zero code within the window after its start."""
    deadline = time.monotonic() + (window_s() if window is None else window)
    while True:
        problem = exited(engine, what, ident)
        if problem is not None:
            raise problem
        if time.monotonic() >= deadline:
            return
        time.sleep(_POLL_S)

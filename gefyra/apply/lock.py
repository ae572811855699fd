"""One apply (or down, or watch iteration) per project at a time on this machine: an flock on a
per-project file.

A second process waits up to `timeout` seconds, then fails with LockError naming the holder's pid.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gefyra.errors import LockError, ProjectTakenDown

DEFAULT_TIMEOUT_S = 30.0
_POLL_S = 0.05


def lock_dir() -> Path:
    base = os.environ.get("GEFYRA_LOCK_DIR") or os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"gefyra-locks-{os.getuid()}"


def default_timeout() -> float:
    return float(os.environ.get("GEFYRA_LOCK_TIMEOUT", DEFAULT_TIMEOUT_S))


def _safe(project: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", project)


def down_marker(project: str) -> str:
    """What the last `down` of `project` left (empty when none): a watch compares it with its start value."""
    try:
        return (lock_dir() / f"{_safe(project)}.down").read_text()
    except OSError:
        return ""


def mark_down(project: str) -> None:
    """Called by `down` under the project's lock, so a watch waiting for the lock sees it before applying."""
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{_safe(project)}.down").write_text(f"{time.time_ns()} pid {os.getpid()}")


def check_not_down(project: str, since: str | None) -> None:
    """Raise ProjectTakenDown when a `down` happened after `since` (a down_marker value; None: no check)."""
    if since is not None and down_marker(project) != since:
        raise ProjectTakenDown("project taken down by `gefyra down`; watch ends")


@contextmanager
def project_lock(project: str, timeout: float | None = None) -> Iterator[Path]:
    """Hold the project's lock for the body; waits up to `timeout` (default GEFYRA_LOCK_TIMEOUT or 30 s)."""
    timeout = default_timeout() if timeout is None else timeout
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_safe(project)}.lock"
    handle = open(path, "a+")  # noqa: SIM115 - closed in finally
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise LockError(
                        f"project {project!r} is locked by pid {holder} (waited {timeout:g}s)",
                        hint="another gefyra apply, down or watch runs for this project; wait or stop it",
                    ) from None
                time.sleep(_POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield path
    finally:
        handle.close()  # closing releases the flock

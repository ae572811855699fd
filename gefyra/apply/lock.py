"""One apply (or down, or watch iteration) per project at a time on this machine: an flock on a
per-project file.

A second process waits up to `timeout` seconds, then fails with LockError naming the holder's pid.

The lock folder may sit in a shared, world-writable temp folder (no XDG_RUNTIME_DIR), where another local user
could make it first and plant symlinks to files of ours. So, as systemd and git do for such folders: the
folder is opened without following a link and used only when it belongs to us and nobody else can write to it
(we tighten our own folder to 0700, we refuse anything else), and every file in it is opened relative to that
folder with O_NOFOLLOW, checked to be a plain file of ours, and only then truncated or written.
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gefyra.errors import LockError, ProjectTakenDown, ProviderError

DEFAULT_TIMEOUT_S = 30.0
_POLL_S = 0.05
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # NONBLOCK: a FIFO would otherwise hang open()


def lock_dir() -> Path:
    base = os.environ.get("GEFYRA_LOCK_DIR") or os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"gefyra-locks-{os.geteuid()}"


def default_timeout() -> float:
    return float(os.environ.get("GEFYRA_LOCK_TIMEOUT", DEFAULT_TIMEOUT_S))


def _safe(project: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", project)


def _unsafe(path: Path, why: str) -> ProviderError:
    return ProviderError(
        f"lock folder {path} is not safe to use: {why}",
        hint=(
            f"another local user may have made it to make gefyra overwrite files; check and remove it "
            f"(rm -r {path}), or set GEFYRA_LOCK_DIR to a folder only you can write"
        ),
    )


def _open_private_dir(path: Path) -> int:
    """An fd of `path`, made with mode 0700 when missing; refused unless it is a real folder of ours that
    nobody else can write to. One of ours with group/other read bits (made by an earlier gefyra under the
    umask) is tightened to 0700: nobody else could have put anything into it."""
    path.parent.mkdir(parents=True, exist_ok=True)  # the base: /tmp, XDG_RUNTIME_DIR or GEFYRA_LOCK_DIR
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError as error:
        kind = "a symbolic link" if path.is_symlink() else "not a folder"
        raise _unsafe(path, f"it is {kind} ({error.strerror})") from None
    info = os.fstat(fd)
    if info.st_uid != os.geteuid():
        os.close(fd)
        raise _unsafe(path, f"it belongs to uid {info.st_uid}, not to uid {os.geteuid()}")
    if info.st_mode & 0o022:
        os.close(fd)
        raise _unsafe(path, f"others may write to it (mode {stat.S_IMODE(info.st_mode):04o}; must be 0700)")
    if info.st_mode & 0o077:
        os.fchmod(fd, 0o700)
    return fd


def _open_file(dir_fd: int, name: str, flags: int, folder: Path) -> int:
    """Open `name` inside the checked folder without following a link; refuse anything but a plain file of
    ours with one name (a hard link to another file would be written through as well)."""
    try:
        fd = os.open(name, flags | _FILE_FLAGS, 0o600, dir_fd=dir_fd)
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise _unsafe(
            folder, f"{name} cannot be opened safely ({error.strerror}: a symbolic link?)"
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_nlink != 1:
        os.close(fd)
        raise _unsafe(folder, f"{name} is not a plain file of uid {os.geteuid()} with a single name")
    return fd


def _read(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode(errors="replace")


def _overwrite(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def down_marker(project: str) -> str:
    """What the last `down` of `project` left (empty when none): a watch compares it with its start value."""
    folder = lock_dir()
    dir_fd = _open_private_dir(folder)
    try:
        fd = _open_file(dir_fd, f"{_safe(project)}.down", os.O_RDONLY, folder)
    except FileNotFoundError:
        return ""
    finally:
        os.close(dir_fd)
    try:
        return _read(fd)
    finally:
        os.close(fd)


def mark_down(project: str) -> None:
    """Called by `down` under the project's lock, so a watch waiting for the lock sees it before applying.
    Written to a fresh file, then renamed over the marker: a reader sees the old or the new one, whole."""
    folder = lock_dir()
    name = f"{_safe(project)}.down"
    temporary = f".{name}.{os.getpid()}.tmp"
    dir_fd = _open_private_dir(folder)
    try:
        try:
            os.unlink(temporary, dir_fd=dir_fd)  # left by a killed process of the same pid
        except FileNotFoundError:
            pass
        fd = _open_file(dir_fd, temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, folder)
        try:
            _overwrite(fd, f"{time.time_ns()} pid {os.getpid()}")
        finally:
            os.close(fd)
        os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # replaces a link, never follows it
    finally:
        os.close(dir_fd)


def check_not_down(project: str, since: str | None) -> None:
    """Raise ProjectTakenDown when a `down` happened after `since` (a down_marker value; None: no check)."""
    if since is not None and down_marker(project) != since:
        raise ProjectTakenDown("project taken down by `gefyra down`; watch ends")


def _open_lock(project: str) -> tuple[int, Path]:
    folder = lock_dir()
    name = f"{_safe(project)}.lock"
    dir_fd = _open_private_dir(folder)
    try:
        return _open_file(dir_fd, name, os.O_RDWR | os.O_CREAT, folder), folder / name
    finally:
        os.close(dir_fd)


@contextmanager
def project_lock(project: str, timeout: float | None = None) -> Iterator[Path]:
    """Hold the project's lock for the body; waits up to `timeout` (default GEFYRA_LOCK_TIMEOUT or 30 s)."""
    timeout = default_timeout() if timeout is None else timeout
    fd, path = _open_lock(project)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read(fd).strip() or "another process"
                    raise LockError(
                        f"project {project!r} is locked by pid {holder} (waited {timeout:g}s)",
                        hint="another gefyra apply, down or watch runs for this project; wait or stop it",
                    ) from None
                time.sleep(_POLL_S)
        _overwrite(fd, str(os.getpid()))
        yield path
    finally:
        os.close(fd)  # closing releases the flock

"""A private folder in a shared temp folder, made and checked the way systemd and git do it.

Under /tmp another local user could make our folder first, or plant a symlink under its name, and have the
sandbox (root) write its state, logs and pid files through it. So the folder is opened without following a
link and used only when it is a real folder of ours that nobody else can write to. One of ours with read bits
for others (made under the umask before this check) is tightened to 0700; anything else is refused. Inside
such a folder only we can make entries, so paths below it are safe to use as they are.
(The product has its own copy of this rule in gefyra/apply/lock.py: the product never imports the sandbox.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# For files inside a private folder: nothing but us can have put a link there; refusing one anyway is cheap.
FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeFolder(RuntimeError):
    """A state folder that another user made, or may write to, or that is a link."""


def _unsafe(path: Path, why: str) -> UnsafeFolder:
    return UnsafeFolder(
        f"state folder {path} is not safe to use: {why}; another local user may have made it to make the "
        f"sandbox overwrite files: check and remove it (rm -r {path}), or point GEFYRA_SANDBOX_STATE at a "
        "folder only you can write"
    )


def private_dir(path: Path) -> Path:
    """`path`, made with mode 0700 when missing (parents as usual); raise UnsafeFolder unless it is a folder
    (not a link) of this effective uid without group/other write bits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError as error:
        kind = "a symbolic link" if path.is_symlink() else "not a folder"
        raise _unsafe(path, f"it is {kind} ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise _unsafe(path, f"it belongs to uid {info.st_uid}, not to uid {os.geteuid()}")
        if info.st_mode & 0o022:
            raise _unsafe(path, f"others may write to it (mode {stat.S_IMODE(info.st_mode):04o})")
        if info.st_mode & 0o077:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    return path

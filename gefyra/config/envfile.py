"""KEY=VALUE env files, the way Docker reads them (plus optional quotes and `export`).

An env file's values are often secrets: no message here ever shows a value or a line, only the file, a
line number and (when it is well-formed enough to tell) the key.
Only regular files are read: not FIFOs or devices (a read could block or never end), and not the pseudo
files of /proc and /sys (`/proc/self/environ` would copy gefyra's own environment into a container).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

MAX_SIZE = 1024 * 1024
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_PSEUDO = ("/proc", "/sys", "/dev")  # kernel files: sizes lie, contents are the machine's, not the project's


class EnvFileError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def read_env_file(path: Path) -> dict[str, str]:
    """Lines `KEY=VALUE`; blank lines and `#` comments are skipped; matching outer quotes are removed."""
    return parse_env_text(_read(path), path)


def _read(path: Path) -> str:
    real = os.path.realpath(path)
    if any(real == top or real.startswith(top + "/") for top in _PSEUDO):
        raise EnvFileError(f"env file {path} is a kernel file ({real}), not a file of the project")
    try:
        # O_NONBLOCK: a FIFO swapped in after any check cannot block the open; fstat judges the open file
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise EnvFileError(f"env file {path} does not exist") from None
    except OSError as error:
        raise EnvFileError(f"cannot read env file {path}: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise EnvFileError(f"env file {path} is not a regular file")
        if info.st_size > MAX_SIZE:
            raise EnvFileError(f"env file {path} is larger than {MAX_SIZE // 1024} KiB")
        data = _read_at_most(fd, MAX_SIZE + 1)
    except OSError as error:
        raise EnvFileError(f"cannot read env file {path}: {error.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_SIZE:
        raise EnvFileError(f"env file {path} is larger than {MAX_SIZE // 1024} KiB")
    if data and info.st_size == 0:  # a pseudo file (procfs, sysfs and the like) says 0 and has content
        raise EnvFileError(f"env file {path} is not a regular file (its size is 0 but it has content)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise EnvFileError("is not UTF-8 text", line) from None


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def parse_env_text(text: str, path: Path) -> dict[str, str]:
    """The variables of an env file's text; EnvFileError names a line, never its content."""
    nul = text.find("\x00")
    if nul >= 0:
        raise EnvFileError(
            "holds a NUL character, which no environment can take", text.count("\n", 0, nul) + 1
        )
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            raise EnvFileError("expected KEY=VALUE (the line has no '=')", number)
        if not _KEY.fullmatch(key):
            # not even the name: a broken multi-line value would show a piece of a secret here
            raise EnvFileError(
                "the name before '=' is not a variable name (letters, digits, '_', '.' and '-', not "
                "starting with a digit; a value spans one line)",
                number,
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values

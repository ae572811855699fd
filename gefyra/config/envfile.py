"""KEY=VALUE env files, the way Docker reads them (plus optional quotes and `export`)."""

from __future__ import annotations

import re
from pathlib import Path

MAX_SIZE = 1024 * 1024
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class EnvFileError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def read_env_file(path: Path) -> dict[str, str]:
    """Lines `KEY=VALUE`; blank lines and `#` comments are skipped; matching outer quotes are removed."""
    if not path.exists():
        raise EnvFileError(f"env file {path} does not exist")
    if not path.is_file():  # a FIFO or device could block or never end
        raise EnvFileError(f"env file {path} is not a regular file")
    if path.stat().st_size > MAX_SIZE:
        raise EnvFileError(f"env file {path} is larger than {MAX_SIZE // 1024} KiB")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EnvFileError(f"cannot read env file {path}: {error}") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise EnvFileError(f"expected KEY=VALUE, got '{raw.strip()}'", number)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values

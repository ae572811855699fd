"""Helpers of the config tests: write a gefyra.yaml into a folder and load it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gefyra.config import load
from gefyra.errors import ConfigError


def write(folder: Path, text: str, name: str = "gefyra.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(folder: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    """Every problem of `text` as `gefyra.yaml:line:col: message`."""
    write(folder, text)
    with pytest.raises(ConfigError) as info:
        load("gefyra.yaml", cwd=folder, environ=environ or {})
    assert info.value.message == "\n".join(str(p) for p in info.value.problems)
    return [str(p) for p in info.value.problems]

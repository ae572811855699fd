"""The only printer: data to stdout, diagnostics and progress to stderr."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pydantic import JsonValue


class Console:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self._out = out
        self._err = err

    @property
    def out_stream(self) -> TextIO:
        return self._out or sys.stdout

    @property
    def err_stream(self) -> TextIO:
        return self._err or sys.stderr

    def data(self, text: str) -> None:
        """A result (plan text, status table, JSON): stdout."""
        print(text, file=self.out_stream, flush=True)

    def json(self, value: JsonValue) -> None:
        print(json.dumps(value, indent=2, sort_keys=False), file=self.out_stream, flush=True)

    def json_line(self, text: str) -> None:
        """One NDJSON record: stdout, flushed so consumers see it at once."""
        print(text, file=self.out_stream, flush=True)

    def note(self, text: str) -> None:
        """Progress and diagnostics: stderr."""
        print(text, file=self.err_stream, flush=True)

    def is_tty(self) -> bool:
        return self.err_stream.isatty()

    def color(self) -> bool:
        """Colours on stdout: a terminal and no NO_COLOR (https://no-color.org)."""
        import os

        return self.out_stream.isatty() and not os.environ.get("NO_COLOR")

    def plan(self, text: str) -> None:
        """Plan text on stdout, coloured on a terminal."""
        from gefyra.render.plan_text import colorize

        self.data(colorize(text) if self.color() else text)

"""Debouncing of file-change triggers (pure: the clock is injected) and filtering of editor noise."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

DEFAULT_QUIET_S = 0.05  # holds an editor's save together (tests/unit/test_watch_editor_saves.py)

# Editor temp and backup files: vim (.swp, .swx, ~, 4913), emacs (.#x, #x#), JetBrains (___jb_tmp___), sed -i,
# etc.
_TEMP_PATTERNS = (
    "*.swp",
    "*.swx",
    "*.swo",
    "*~",
    ".#*",
    "#*#",
    "4913",
    "*.tmp",
    "*___jb_tmp___",
    "*___jb_old___",
    ".goutputstream-*",
    "sed??????",
    "*.kate-swp",
)


def is_editor_temp(path: str | PurePath) -> bool:
    name = PurePath(path).name
    return any(fnmatch.fnmatch(name, pattern) for pattern in _TEMP_PATTERNS)


def ignored(path: str | PurePath, root: str | PurePath, patterns: Iterable[str]) -> bool:
    """True when `path` (below `root`) matches one of the rule's ignore globs, by relative path or file
    name."""
    path = PurePath(path)
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(
        fnmatch.fnmatch(relative, pattern)
        or fnmatch.fnmatch(path.name, pattern)
        or fnmatch.fnmatch(relative, pattern.rstrip("/") + "/*")
        for pattern in patterns
    )


@dataclass(frozen=True, order=True)
class Trigger:
    """Why watch acts: the config changed, a watched path of a container changed, or a drift tick."""

    reason: Literal["config", "restart", "rebuild", "drift"]
    container: str = ""
    path: str = ""

    def describe(self) -> str:
        if self.reason == "config":
            return f"{self.path or 'gefyra.yaml'} changed"
        if self.reason == "drift":
            return "drift check"
        return f"{self.path} changed ({self.reason} {self.container})"


@dataclass
class Debouncer:
    """Collects triggers; they become due once nothing new arrived for `quiet_s` seconds."""

    quiet_s: float = DEFAULT_QUIET_S
    clock: Callable[[], float] = time.monotonic
    _pending: set[Trigger] = field(default_factory=set)
    _last: float = 0.0

    def add(self, trigger: Trigger) -> None:
        self._pending.add(trigger)
        self._last = self.clock()

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def wait_s(self) -> float | None:
        """Seconds until the pending triggers are due (0 when due now), None when nothing is pending."""
        if not self._pending:
            return None
        return max(0.0, self._last + self.quiet_s - self.clock())

    def take(self) -> list[Trigger]:
        """The due triggers, sorted (empty while the quiet period runs)."""
        wait = self.wait_s()
        if wait is None or wait > 0:
            return []
        due, self._pending = sorted(self._pending), set()
        return due

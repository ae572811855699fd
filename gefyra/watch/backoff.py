"""Repair backoff of watch (pure, clock given): a container the drift tick had to (re)create is not repaired
again before 5 s, then 10, 20, ... (at most 5 minutes). A tick that needed no repair, or an edit by the user,
starts over."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 300.0


@dataclass
class Backoff:
    """Container name -> (repairs in a row, no repair before this clock reading)."""

    entries: dict[str, tuple[int, float]] = field(default_factory=dict)

    def reset(self, names: Iterable[str]) -> None:
        for name in names:
            self.entries.pop(name, None)

    def held(self, now: float) -> frozenset[str]:
        """Names whose next repair must wait."""
        return frozenset(name for name, (_, at) in self.entries.items() if at > now)

    def track(self, repaired: set[str], held: frozenset[str], now: float) -> dict[str, tuple[int, float]]:
        """Record this tick's repairs; forget names neither repaired nor held. Returns name -> (count, delay)
        for the names repaired now."""
        for name in set(self.entries) - repaired - held:
            del self.entries[name]
        delays: dict[str, tuple[int, float]] = {}
        for name in sorted(repaired):
            count = self.entries.get(name, (0, 0.0))[0] + 1
            delay = min(BACKOFF_BASE_S * 2 ** (count - 1), BACKOFF_MAX_S)
            self.entries[name] = (count, now + delay)
            delays[name] = (count, delay)
        return delays

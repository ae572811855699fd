"""One result format for every benchmark, so `bench/run.py` can print one table.

Each benchmark script accepts `--json PATH` and, when given, writes a JSON list of `Figure` rows to it,
besides its own human-readable output. Times are in seconds unless `unit` says otherwise; `ratio` is
figure / anchor, measured side by side in the same run; `met` is None when the figure has no goal.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel


class Figure(BaseModel):
    """One row of the benchmark table."""

    figure: str  # what was measured, e.g. "plan, 50 containers (command)"
    unit: str = "s"  # "s", "ms", "MB/s", ...
    median: float
    low: float  # min over runs
    high: float  # max over runs
    runs: int
    anchor: str | None = None  # what it is compared with, e.g. "docker ps"
    anchor_median: float | None = None
    ratio: float | None = None  # median / anchor_median
    goal: str | None = None  # human-readable goal, e.g. "< 0.3 s"
    met: bool | None = None
    note: str | None = None


def figure(
    name: str,
    samples: Sequence[float],
    *,
    unit: str = "s",
    anchor: str | None = None,
    anchor_samples: Sequence[float] | None = None,
    goal_below: float | None = None,
    goal: str | None = None,
    note: str | None = None,
) -> Figure:
    """A Figure from raw samples; `goal_below` sets goal text and `met` (median < goal_below)."""
    median = statistics.median(samples)
    anchor_median = statistics.median(anchor_samples) if anchor_samples else None
    ratio = median / anchor_median if anchor_median else None
    if goal_below is not None:
        goal = goal or f"< {goal_below:g} {unit}"
    return Figure(
        figure=name,
        unit=unit,
        median=median,
        low=min(samples),
        high=max(samples),
        runs=len(samples),
        anchor=anchor,
        anchor_median=anchor_median,
        ratio=ratio,
        goal=goal,
        met=None if goal_below is None else median < goal_below,
        note=note,
    )


def json_path(argv: Sequence[str] | None = None) -> Path | None:
    """The PATH of a `--json PATH` argument, if any (benchmarks keep their own simple argument handling)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--json" not in args:
        return None
    at = args.index("--json")
    if at + 1 >= len(args):
        raise SystemExit("--json needs a file path")
    return Path(args[at + 1])


def write(figures: Sequence[Figure], path: Path | None) -> None:
    """Write the rows to `path` (no-op when None)."""
    if path is None:
        return
    path.write_text(json.dumps([f.model_dump() for f in figures], indent=1))


def read(path: Path) -> list[Figure]:
    """Rows written by `write`."""
    return [Figure.model_validate(row) for row in json.loads(path.read_text())]

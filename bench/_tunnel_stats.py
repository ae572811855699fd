"""Statistics of the tunnel bench's latency rounds (pure, no I/O).

A run measures every variant in many short blocks of requests, the variants shuffled within each round, so
a busy moment of the machine hits all of them alike. Block i of two variants therefore saw (nearly) the same
machine: the verdict is the paired difference of their block statistics, with a bootstrap interval over
rounds, never the difference of two figures taken minutes apart.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Blocks = Sequence[Sequence[float]]  # one list of request times (ms) per round


def p90(samples: Sequence[float]) -> float:
    """Nearest-rank 90th percentile: the smallest sample with at least 90 % of the samples at or below it."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * 0.9) - 1)]


@dataclass(frozen=True)
class Summary:
    """One variant over a whole run: pooled median and p90 of every request, the range of its block medians
    (how much a single block, i.e. a short run, could have said) and the slowest request (about 1000 ms:
    a lost SYN, resent after TCP's initial 1 s timeout; about 200 ms: a lost segment)."""

    median: float
    p90: float
    block_min: float
    block_max: float
    slowest: float
    requests: int


def summarize(blocks: Blocks) -> Summary:
    pooled = [sample for block in blocks for sample in block]
    if not pooled:
        raise ValueError("no latency samples")
    medians = [statistics.median(block) for block in blocks]
    return Summary(
        statistics.median(pooled), p90(pooled), min(medians), max(medians), max(pooled), len(pooled)
    )


@dataclass(frozen=True)
class Interval:
    """A paired difference (ms): the median over rounds of (variant - reference) and its bootstrap CI."""

    estimate: float
    low: float
    high: float
    rounds: int

    def verdict(self, goal: float) -> str:
        """'met' when the whole interval lies at or below `goal`, 'missed' when all of it lies above,
        else 'undecided' (more rounds would tell)."""
        if self.high <= goal:
            return "met"
        if self.low > goal:
            return "missed"
        return "undecided"


def paired(
    variant: Blocks,
    reference: Blocks,
    stat: Callable[[Sequence[float]], float] = statistics.median,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 9,
) -> Interval:
    """Median over rounds of stat(variant block) - stat(reference block), with a percentile bootstrap
    interval (rounds resampled with replacement; fixed seed, so the same data give the same interval)."""
    if len(variant) != len(reference):
        raise ValueError(f"unpaired blocks: {len(variant)} rounds vs {len(reference)}")
    if not variant:
        raise ValueError("no rounds to compare")
    diffs = [stat(v) - stat(r) for v, r in zip(variant, reference, strict=True)]
    rng = random.Random(seed)
    n = len(diffs)
    boot = sorted(statistics.median(rng.choices(diffs, k=n)) for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = boot[int(tail * resamples)]
    high = boot[min(resamples - 1, int((1 - tail) * resamples))]
    return Interval(statistics.median(diffs), low, high, n)

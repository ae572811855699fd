"""The tunnel bench's verdict: the goals, the anchor the latency goal is judged against, and the rows
`--json` writes (bench/_results.py).

Goals (issue 9): throughput >= 85 % of a bare wireguard-go pair's, median latency within +0.3 ms.
The latency goal is judged against `pair` - the same wireguard-go pair hosted in two containers on a
Docker network - because the tunnel's ends are containers too: like for like. The bare pair (two network
namespaces, no containers) is printed next to it for honesty; see docs/tunnel-benchmark.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench._results import Figure, figure
from bench._tunnel_stats import Blocks, Interval, paired

GOAL_RATIO, GOAL_MS = 0.85, 0.3
ANCHOR = "pair"
REFERENCES = {
    "pair": "containerised wireguard-go pair (two Cargo-image containers on a Docker network)",
    "bare": "bare wireguard-go pair (two network namespaces, no containers)",
}


@dataclass(frozen=True)
class Latency:
    """tunnel - `reference`: the paired median difference, its verdict against GOAL_MS, and whether the
    goal is judged against this reference."""

    reference: str
    interval: Interval
    verdict: str
    anchor: bool


def latencies(blocks: Mapping[str, Blocks]) -> list[Latency]:
    """tunnel against every reference present, the anchor first."""
    found = []
    for reference in REFERENCES:
        if reference in blocks:
            interval = paired(blocks["tunnel"], blocks[reference])
            found.append(Latency(reference, interval, interval.verdict(GOAL_MS), reference == ANCHOR))
    return found


def throughput_verdict(ratio: float) -> str:
    return "met" if ratio >= GOAL_RATIO else "missed"


def lines(results: Sequence[Latency], ratio: float | None) -> list[str]:
    """The verdict as printed: the anchor named, both comparisons, throughput."""
    anchor = next((r for r in results if r.anchor), None)
    out = [
        f"verdict (goals: median latency within +{GOAL_MS} ms of the anchor; "
        f"throughput >= {GOAL_RATIO} x bare)",
        f"  anchor: {REFERENCES[ANCHOR]} - like for like, the tunnel's ends are containers too"
        if anchor
        else f"  anchor `{ANCHOR}` left out (--no-pair): no verdict on the latency goal",
    ]
    for r in results:
        i = r.interval
        role = "the goal, judged here" if r.anchor else "for reference, not the goal's anchor"
        out.append(
            f"  latency tunnel - {r.reference:4} {i.estimate:+.3f} ms [{i.low:+.3f}, {i.high:+.3f}]: "
            f"{r.verdict:9} ({role})"
        )
    if ratio is not None:
        out.append(f"  throughput tunnel/bare {ratio:.2f}: {throughput_verdict(ratio)}")
    return out


def figures(
    blocks: Mapping[str, Blocks], rates: Mapping[str, Sequence[float]] | None, results: Sequence[Latency]
) -> list[Figure]:
    """Rows for `--json`: throughput against the bare pair, latency against each reference (samples: the
    block medians of the rounds; `met` from the paired interval, as printed)."""
    rows = []
    if rates:
        row = figure(
            "tunnel throughput (download)",
            rates["tunnel"],
            unit="MB/s",
            anchor=REFERENCES["bare"],
            anchor_samples=rates["bare"],
            goal=f">= {GOAL_RATIO} x anchor",
        )
        rows.append(row.model_copy(update={"met": (row.ratio or 0) >= GOAL_RATIO}))
    medians = {name: [statistics.median(block) for block in blocks[name]] for name in blocks}
    for r in results:
        i = r.interval
        row = figure(
            f"tunnel latency per request vs {r.reference} (block medians)",
            medians["tunnel"],
            unit="ms",
            anchor=REFERENCES[r.reference],
            anchor_samples=medians[r.reference],
            goal=f"paired median difference <= +{GOAL_MS} ms (95 % CI)",
        )
        role = "the goal's anchor" if r.anchor else "for reference"
        note = (
            f"paired difference {i.estimate:+.3f} ms [{i.low:+.3f}, {i.high:+.3f}] over {i.rounds} rounds: "
        )
        rows.append(row.model_copy(update={"met": r.verdict == "met", "note": note + f"{r.verdict}; {role}"}))
    return rows

"""The tunnel bench's statistics (pure): `PYTHONPATH=$PWD python3 -m pytest -q bench/test_tunnel_stats.py`."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._results import read, write  # noqa: E402
from bench._tunnel_stats import Interval, p90, paired, summarize  # noqa: E402
from bench._tunnel_verdict import figures, latencies, lines  # noqa: E402


def test_p90_is_nearest_rank() -> None:
    assert p90([float(i) for i in range(1, 11)]) == 9.0
    assert p90([float(i) for i in range(1, 101)]) == 90.0
    assert p90([5.0]) == 5.0
    with pytest.raises(ValueError):
        p90([])


def test_summary_pools_samples_and_ranges_block_medians() -> None:
    s = summarize([[1.0, 2.0, 3.0], [10.0, 11.0, 12.0]])
    assert (s.median, s.block_min, s.block_max, s.slowest, s.requests) == (6.5, 2.0, 11.0, 12.0, 6)
    assert s.p90 == 12.0


def test_paired_difference_cancels_what_hits_both_variants_alike() -> None:
    """A busy moment (a per-round offset shared by both variants) must not move the estimate: only the
    variant's own excess remains, and the interval is tight."""
    rng = random.Random(1)
    reference, variant = [], []
    for _ in range(60):
        busy = rng.uniform(0, 5)  # load that changes from round to round
        reference.append([busy + 1.0 + rng.gauss(0, 0.05) for _ in range(30)])
        variant.append([busy + 1.2 + rng.gauss(0, 0.05) for _ in range(30)])
    result = paired(variant, reference)
    assert result.estimate == pytest.approx(0.2, abs=0.03)
    assert result.low <= result.estimate <= result.high
    assert result.high - result.low < 0.05
    assert result.verdict(0.3) == "met"
    assert paired(variant, reference, p90).estimate == pytest.approx(0.2, abs=0.05)


def test_paired_is_reproducible_and_rejects_unpaired_rounds() -> None:
    a = [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [0.5, 1.5, 9.0]]
    b = [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]
    assert paired(a, b) == paired(a, b)
    with pytest.raises(ValueError, match="unpaired"):
        paired(a, b[:2])
    with pytest.raises(ValueError):
        paired([], [])


def test_verdict_needs_the_whole_interval_on_one_side_of_the_goal() -> None:
    assert Interval(0.1, 0.0, 0.3, 10).verdict(0.3) == "met"
    assert Interval(0.25, 0.1, 0.35, 10).verdict(0.3) == "undecided"
    assert Interval(0.5, 0.31, 0.6, 10).verdict(0.3) == "missed"


def _blocks(base: float, rounds: int = 40) -> list[list[float]]:
    return [[base + 0.01 * (i % 5) + 0.001 * j for j in range(5)] for i in range(rounds)]


def test_the_goal_is_judged_against_the_containerised_pair_and_bare_is_shown_beside_it() -> None:
    blocks = {"tunnel": _blocks(1.5), "pair": _blocks(1.4), "bare": _blocks(1.0)}
    judged = latencies(blocks)
    assert [(r.reference, r.anchor, r.verdict) for r in judged] == [
        ("pair", True, "met"),
        ("bare", False, "missed"),
    ]
    text = "\n".join(lines(judged, 0.9))
    assert "tunnel - pair +0.100 ms" in text and "judged here" in text
    assert "tunnel - bare +0.500 ms" in text and "not the goal's anchor" in text
    assert "throughput tunnel/bare 0.90: met" in text


def test_without_the_pair_there_is_no_anchor_and_the_text_says_so() -> None:
    judged = latencies({"tunnel": _blocks(1.1), "bare": _blocks(1.0)})
    assert [r.anchor for r in judged] == [False]
    assert "no verdict on the latency goal" in "\n".join(lines(judged, None))


def test_json_rows_carry_goal_met_and_the_paired_interval(tmp_path: Path) -> None:
    blocks = {"tunnel": _blocks(1.5), "pair": _blocks(1.4), "bare": _blocks(1.0)}
    rates = {"tunnel": [80.0, 90.0, 100.0], "bare": [100.0, 100.0, 110.0]}
    rows = figures(blocks, rates, latencies(blocks))
    write(rows, tmp_path / "rows.json")
    back = {row.figure: row for row in read(tmp_path / "rows.json")}
    throughput = back["tunnel throughput (download)"]
    assert (throughput.ratio, throughput.met, throughput.unit) == (0.9, True, "MB/s")
    pair = back["tunnel latency per request vs pair (block medians)"]
    assert pair.met is True and "+0.100 ms" in (pair.note or "") and "anchor" in (pair.note or "")
    bare = back["tunnel latency per request vs bare (block medians)"]
    assert bare.met is False and bare.anchor_median is not None and "missed" in (bare.note or "")


def test_stand_knobs_parse_and_bad_ones_are_named() -> None:
    from bench._tunnel_stand import parse_stand

    assert parse_stand("").label == ""
    assert parse_stand("nat=off, gomaxprocs=2").label == "gomaxprocs=2,nat=off"
    with pytest.raises(ValueError, match="endpoint=shared has none"):
        parse_stand("nat=off,endpoint=shared")
    with pytest.raises(ValueError, match="'gomaxprocs' is not KEY=VALUE"):
        parse_stand("gomaxprocs")

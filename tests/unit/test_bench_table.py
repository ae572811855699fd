"""bench/run.py's table and RESULTS.md rendering from Figure rows (pure functions, no benchmark is run)."""

from __future__ import annotations

from bench._results import figure
from bench.run import HEADER, Machine, Outcome, cells, markdown, number, table

BRIDGE = figure(
    "bridge: apply -> first local answer",
    [2.0, 2.5, 4.0],
    anchor="no-op `gefyra apply`",
    anchor_samples=[1.0, 1.25, 1.5],
    goal_below=3.0,
    note="apply exit 3.1 s",
)
TUNNEL = figure("throughput", [400.0, 420.0, 436.0], unit="MB/s")
HOST = Machine(cores=2, memory_gib=7.8, cpu="Some CPU", python="3.11.2")


def test_a_figure_becomes_one_row_with_ratio_goal_and_verdict() -> None:
    (row,) = cells(Outcome(script="bridge", figures=[BRIDGE]))
    assert row == (
        "bridge",
        "bridge: apply -> first local answer",
        "2.50 s",
        "2.00-4.00 s (3)",
        "no-op `gefyra apply` (1.25 s)",
        "2.00x",
        "< 3 s",
        "yes",
    )


def test_a_missed_goal_and_a_figure_without_goal_or_anchor() -> None:
    missed = figure("unbridge", [3.5, 4.0], goal_below=3.0)
    rows = cells(Outcome(script="bridge", figures=[missed, TUNNEL]))
    assert rows[0][-1] == "NO" and rows[0][2] == "3.75 s"
    assert rows[1][2:] == ("420 MB/s", "400-436 MB/s (3)", "-", "-", "-", "-")


def test_a_script_without_rows_gets_one_row_saying_why() -> None:
    (row,) = cells(Outcome(script="tunnel", problem="no --json yet (not run)"))
    assert row[:2] == ("tunnel", "no --json yet (not run)") and set(row[2:]) == {"-"}


def test_numbers_keep_three_significant_digits() -> None:
    values = (0.01234, 0.5, 1.2, 12.34, 436.2)
    assert [number(v, "s") for v in values] == ["0.0123 s", "0.5 s", "1.20 s", "12.3 s", "436 s"]


def test_the_terminal_table_is_aligned() -> None:
    text = table([Outcome(script="bridge", figures=[BRIDGE]), Outcome(script="x", problem="exit 1, no rows")])
    lines = text.splitlines()
    assert lines[0].split() == [word for cell in HEADER for word in cell.split()]
    column = lines[0].index("median")
    assert all(line[column - 2 : column] == "  " for line in lines[1:] if len(line) > column)
    assert len(lines) == 3


def test_results_markdown_has_machine_load_date_table_and_notes() -> None:
    text = markdown(
        [Outcome(script="bridge", figures=[BRIDGE], seconds=61.0), Outcome(script="t|x", problem="a|b")],
        HOST,
        "0.50 0.40 0.30",
        "3.00 1.00 0.50",
        "2026-12-03 12:30 UTC",
    )
    assert "2026-12-03 12:30 UTC" in text
    assert "2 cores, 7.8 GiB memory, Some CPU" in text
    assert "before: 0.50 0.40 0.30; after: 3.00 1.00 0.50" in text
    assert "| script | figure | median | min-max | anchor | ratio | goal | met? |" in text
    assert "| bridge | bridge: apply -> first local answer | 2.50 s | 2.00-4.00 s (3) |" in text
    assert "| t\\|x | a\\|b | - |" in text  # a `|` in a cell does not break the table
    assert "- `bridge` bridge: apply -> first local answer: apply exit 3.1 s" in text
    assert "bridge 61 s" in text

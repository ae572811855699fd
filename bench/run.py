"""Every benchmark in one table (issue 12): runs each bench/<name>.py as a subprocess with `--json <tmp>`,
collects its `Figure` rows (bench/_results.py), prints one table (figure, median, min-max, anchor, ratio,
goal, met?) and writes bench/RESULTS.md with the machine (cores, memory, CPU model), the load average before
and after, the date and the table. A script that fails, times out or has no `--json` yet gets a row saying
so; the others still run.

    python3 bench/run.py                 # every script, full length; writes bench/RESULTS.md
    python3 bench/run.py --quick         # shorter runs (each script's --quick, or fewer runs)
    python3 bench/run.py --only bridge --only tunnel --out /tmp/r.md
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench._results import Figure, read  # noqa: E402

SCRIPTS = (
    "cli_start",
    "config_load",
    "plan_noop",
    "apply",
    "watch_reaction",
    "pod_start",
    "bridge",
    "tunnel",
)
# Shorter runs for scripts without a --quick flag of their own.
QUICK_ARGS = {
    "cli_start": ["--runs", "10"],
    "config_load": ["--runs", "1"],
    "pod_start": ["3"],
    "tunnel": ["--mb", "50", "--runs", "1", "--rounds", "40", "--block", "10"],
    "watch_reaction": ["--edits", "5"],
}
TIMEOUT_S = 900


class Outcome(BaseModel):
    """What one script gave: its rows, or why there are none (and how long it ran)."""

    script: str
    figures: list[Figure] = []
    problem: str | None = None
    seconds: float = 0.0


class Machine(BaseModel):
    cores: int
    memory_gib: float
    cpu: str
    python: str


def machine() -> Machine:
    memory_kib = 0
    cpu = platform.processor() or "unknown"
    try:
        memory_kib = int(
            next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1]
        )
        cpu = next(line for line in open("/proc/cpuinfo") if line.startswith("model name")).split(":", 1)[1]
    except (OSError, StopIteration, ValueError):
        pass
    return Machine(
        cores=os.cpu_count() or 0,
        memory_gib=memory_kib / 2**20,
        cpu=cpu.strip(),
        python=platform.python_version(),
    )


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def command(script: Path, json_file: Path, quick: bool) -> list[str] | None:
    """The command line for `script`, or None when it does not take --json yet."""
    source = script.read_text()
    if "--json" not in source and "json_path(" not in source:
        return None
    args = [sys.executable, str(script), "--json", str(json_file)]
    if quick:
        args += ["--quick"] if '"--quick"' in source else QUICK_ARGS.get(script.stem, [])
    return args


def run_one(name: str, quick: bool, timeout: float) -> Outcome:
    script = HERE / f"{name}.py"
    if not script.exists():
        return Outcome(script=name, problem="no such script")
    with tempfile.TemporaryDirectory(prefix="gefyra-bench-") as temp:
        json_file = Path(temp) / "rows.json"
        args = command(script, json_file, quick)
        if args is None:
            return Outcome(script=name, problem="no --json yet (not run)")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")])),
        }
        start = time.perf_counter()
        try:
            done = subprocess.run(
                args, env=env, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent
            )
        except subprocess.TimeoutExpired:
            return Outcome(script=name, problem=f"timed out after {timeout:.0f} s", seconds=timeout)
        seconds = time.perf_counter() - start
        sys.stdout.write(done.stdout)
        figures = read(json_file) if json_file.exists() else []
        if figures:  # a script may exit 1 for a missed goal: its rows say so
            return Outcome(script=name, figures=figures, seconds=seconds)
        last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"])[-1]
        return Outcome(script=name, problem=f"exit {done.returncode}, no rows: {last[:200]}", seconds=seconds)


# --- rendering (pure) --------------------------------------------------------------------------------------
HEADER = ("script", "figure", "median", "min-max", "anchor", "ratio", "goal", "met?")


def number(value: float, unit: str) -> str:
    """3 significant digits (2 decimals from 1 to 10, none from 100): 0.0123 s, 1.20 s, 12.3 s, 432 MB/s."""
    size = abs(value)
    text = f"{value:.2f}" if 1 <= size < 10 else f"{value:.0f}" if size >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def cells(outcome: Outcome) -> list[tuple[str, ...]]:
    """Table rows of one script: one per figure, or one saying why there is none."""
    if outcome.problem is not None:
        return [(outcome.script, outcome.problem, "-", "-", "-", "-", "-", "-")]
    rows: list[tuple[str, ...]] = []
    for f in outcome.figures:
        anchor = "-"
        if f.anchor:
            anchor = f.anchor + (
                f" ({number(f.anchor_median, f.unit)})" if f.anchor_median is not None else ""
            )
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        rows.append(
            (
                outcome.script,
                f.figure,
                number(f.median, f.unit),
                f"{number(f.low, '')}-{number(f.high, f.unit)} ({f.runs})",
                anchor,
                f"{f.ratio:.2f}x" if f.ratio is not None else "-",
                f.goal or "-",
                met,
            )
        )
    return rows


def table(outcomes: Sequence[Outcome]) -> str:
    """A plain-text table aligned for a terminal."""
    rows = [HEADER] + [row for outcome in outcomes for row in cells(outcome)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def markdown(
    outcomes: Sequence[Outcome], host: Machine, before: str, after: str, date: str, how: str = ""
) -> str:
    """bench/RESULTS.md: the machine, the load, the date and the table (cells with `|` escaped)."""

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"

    rows = [line(HEADER), line(["---"] * len(HEADER))]
    rows += [line(row) for outcome in outcomes for row in cells(outcome)]
    notes = [f"- `{o.script}` {f.figure}: {f.note}" for o in outcomes for f in o.figures if f.note]
    took = ", ".join(f"{o.script} {o.seconds:.0f} s" for o in outcomes)
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Written by `python3 bench/run.py{how}` on {date}.",
            "",
            f"- machine: {host.cores} cores, {host.memory_gib:.1f} GiB memory, {host.cpu}; "
            f"Python {host.python}",
            f"- load average (1, 5, 15 min) before: {before}; after: {after}",
            f"- run time per script: {took}",
            "",
            *rows,
            "",
            *(["Notes:", "", *notes, ""] if notes else []),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=SCRIPTS, help="run only this script (repeatable)")
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per script")
    parser.add_argument("--out", type=Path, help="markdown file (default bench/RESULTS.md for a full run)")
    args = parser.parse_args(argv)
    names = args.only or list(SCRIPTS)
    out = args.out or (None if args.only else HERE / "RESULTS.md")
    before = load()
    outcomes = []
    for name in names:
        print(f"== {name}", flush=True)
        outcomes.append(run_one(name, args.quick, args.timeout))
    after = load()
    print()
    print(table(outcomes))
    print(f"\nload average before: {before}; after: {after}")
    if out is not None:
        date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        how = " --quick" if args.quick else ""
        out.write_text(markdown(outcomes, machine(), before, after, date, how))
        print(f"written: {out}")
    return 0 if all(o.problem is None for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

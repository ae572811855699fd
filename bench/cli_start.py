"""Start-up time of the CLI: median wall time of `gefyra --help` and `gefyra validate gefyra.example.yaml`.

    python3 bench/cli_start.py [--runs 20] [--check]

Prints each median next to `python -c pass` (the floor any Python CLI pays) and the ratio to it, plus
the median CPU time (user + system), which other load on the machine disturbs less than wall time.
The commands run interleaved, round by round, so a burst of load hits all of them alike.
With --check the exit status is 1 when `gefyra --help` is slower than the goal (0.15 s wall).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOAL_HELP_SECONDS = 0.15


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of `command`."""
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per command (at least 10)")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if `gefyra --help` > {GOAL_HELP_SECONDS} s"
    )
    args = parser.parse_args()
    runs = max(10, args.runs)
    gefyra = shutil.which("gefyra")
    cli = [gefyra] if gefyra else [sys.executable, "-m", "gefyra"]
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "gefyra --help": [*cli, "--help"],
        "gefyra validate gefyra.example.yaml": [*cli, "validate", "gefyra.example.yaml"],
    }
    for command in cases.values():  # warm-up: page cache and .pyc files
        timed(command)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, command in cases.items():
            samples[name].append(timed(command))
    wall = {name: statistics.median(s[0] for s in runs_) for name, runs_ in samples.items()}
    cpu = {name: statistics.median(s[1] for s in runs_) for name, runs_ in samples.items()}
    how = f"console script {gefyra}" if gefyra else "python -m gefyra"
    print(f"medians over {runs} interleaved runs ({how})")
    print(f"  {'command':<40} {'wall':>8} {'ratio':>7} {'cpu':>8} {'ratio':>7}")
    for name in cases:
        ratio_wall = wall[name] / wall["python -c pass"]
        ratio_cpu = cpu[name] / max(cpu["python -c pass"], 1e-9)
        print(f"  {name:<40} {wall[name]:7.3f}s {ratio_wall:6.1f}x {cpu[name]:7.3f}s {ratio_cpu:6.1f}x")
    help_seconds = wall["gefyra --help"]
    verdict = "ok" if help_seconds <= GOAL_HELP_SECONDS else "SLOWER THAN THE GOAL"
    load = os.getloadavg()[0]
    goal = f"gefyra --help <= {GOAL_HELP_SECONDS:.2f} s wall"
    print(f"goal: {goal}: {help_seconds:.3f} s, {verdict} (load average {load:.1f})")
    return 1 if args.check and help_seconds > GOAL_HELP_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())

"""Start-up time of the CLI: median wall time of `gefyra --help` and `gefyra validate gefyra.example.yaml`.

    python3 bench/cli_start.py [--runs 20] [--check]

Prints each median next to `python -c pass` (the floor any Python CLI pays) and the ratio to it.
With --check the exit status is 1 when `gefyra --help` is slower than the goal (0.15 s).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOAL_HELP_SECONDS = 0.15


def median_seconds(command: list[str], runs: int) -> float:
    """Median wall time of `command` over `runs` runs, after one warm-up run (page cache, .pyc files)."""
    subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return statistics.median(times)


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
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("gefyra --help", [*cli, "--help"]),
        ("gefyra validate gefyra.example.yaml", [*cli, "validate", "gefyra.example.yaml"]),
    ]
    results = {name: median_seconds(command, runs) for name, command in cases}
    floor = results["python -c pass"]
    print(
        f"median wall time over {runs} runs ({'console script ' + gefyra if gefyra else 'python -m gefyra'})"
    )
    for name, seconds in results.items():
        print(f"  {name:<40} {seconds:7.3f} s   x{seconds / floor:5.1f} of python -c pass")
    help_seconds = results["gefyra --help"]
    verdict = "ok" if help_seconds <= GOAL_HELP_SECONDS else "SLOWER THAN THE GOAL"
    print(f"goal: gefyra --help <= {GOAL_HELP_SECONDS:.2f} s: {help_seconds:.3f} s, {verdict}")
    return 1 if args.check and help_seconds > GOAL_HELP_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())

"""No-op plan with 1, 10, 50 and 200 containers: medians in-process (api.plan) and as a command (`gefyra
plan`), each with its ratio to `docker ps -a --filter label=...` over the same containers.

Goal: 50 containers under 0.3 s as a command, growing linearly.
Run: python3 bench/plan_noop.py [--counts 1,10,50,200] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import BenchProject, docker_ps, timed  # noqa: E402
from bench._results import Figure, figure, write  # noqa: E402

RUNS = 7
# As installed: from bytecode caches (kept in their own folder; CI runs with PYTHONDONTWRITEBYTECODE).
ENV = {
    **{key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": "/var/tmp/gefyra-bench-pycache",
    "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
}


def gefyra_plan(folder: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "gefyra", "plan"], cwd=folder, env=ENV, capture_output=True, check=False
    )


def main() -> None:
    from gefyra import api

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,10,50,200", help="container counts, comma-separated")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here (bench/_results.py)")
    options = parser.parse_args()
    rows: list[Figure] = []
    print(
        f"{'containers':>10} {'api.plan':>10} {'api/ps':>7} "
        f"{'gefyra plan':>12} {'cli/ps':>7} {'docker ps':>10}"
    )
    for count in (int(text) for text in options.counts.split(",")):
        with BenchProject(count) as project:
            config = project.config()
            api.apply(config).raise_for_failures()
            assert not api.plan(config).has_changes
            in_process = [timed(lambda: api.plan(config)) for _ in range(RUNS)]  # noqa: B023
            gefyra_plan(project.folder)  # warm-up: bytecode caches
            as_cli = [timed(lambda: gefyra_plan(project.folder)) for _ in range(RUNS)]  # noqa: B023
            ps = [timed(lambda: docker_ps(project.name)) for _ in range(RUNS)]  # noqa: B023
            load = f"load {os.getloadavg()[0]:.1f}"
            goal = 0.3 if count == 50 else None
            rows += [
                figure(
                    f"plan, {count} containers (in-process)",
                    in_process,
                    anchor="docker ps",
                    anchor_samples=ps,
                    note=load,
                ),
                figure(
                    f"plan, {count} containers (command)",
                    as_cli,
                    anchor="docker ps",
                    anchor_samples=ps,
                    goal_below=goal,
                    note=load,
                ),
            ]
            api_s, cli_s, ps_s = (statistics.median(s) for s in (in_process, as_cli, ps))
            print(
                f"{count:>10} {api_s:>9.3f}s {api_s / ps_s:>6.1f}x {cli_s:>11.3f}s "
                f"{cli_s / ps_s:>6.1f}x {ps_s:>9.3f}s  ({load})",
                flush=True,
            )
    write(rows, options.json)


if __name__ == "__main__":
    main()

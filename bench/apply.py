"""Apply from zero of 10 containers (network included): median over runs, and the ratios to `docker ps` and to
10 sequential `docker run -d` of the same image.   Run: python3 bench/apply.py [--quick] [--json PATH]
"""

from __future__ import annotations

import secrets
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchProject, cli, docker_ps, median_of, timed  # noqa: E402
from bench._results import figure, json_path, write  # noqa: E402

RUNS = 3
COUNT = 10


def _docker_run_baseline() -> float:
    label = f"dev.gefyra.project=t-eng-bench-baseline-{secrets.token_hex(3)}"

    def run_all() -> None:
        for _ in range(COUNT):
            cli("docker", "run", "-d", "--label", label, "debian:bookworm-slim", "sleep", "infinity")

    took = timed(run_all)
    cli("sh", "-c", f"docker rm -f $(docker ps -aq --filter label={label})")
    return took


def main() -> None:
    from gefyra import api

    runs = 2 if "--quick" in sys.argv else RUNS
    times, ps = [], []
    for _ in range(runs):
        with BenchProject(COUNT) as project:
            config = project.config()
            times.append(timed(lambda: api.apply(config).raise_for_failures()))  # noqa: B023
            ps.append(median_of(lambda: docker_ps(project.name), 5))  # noqa: B023
    baselines = [_docker_run_baseline() for _ in range(runs)]
    baseline = statistics.median(baselines)
    median = statistics.median(times)
    median_ps = statistics.median(ps)
    print(
        f"apply from zero, {COUNT} containers: median {median:.3f}s over {runs} runs "
        f"({median / median_ps:.1f}x `docker ps` {median_ps:.3f}s; "
        f"{median / baseline:.2f}x {COUNT} sequential `docker run -d` {baseline:.3f}s)"
    )
    row = figure(
        f"apply from zero, {COUNT} containers",
        times,
        anchor=f"{COUNT} sequential docker run -d",
        anchor_samples=baselines,
        note=f"`docker ps` of the project: {median_ps:.3f} s",
    )
    write([row], json_path())


if __name__ == "__main__":
    main()

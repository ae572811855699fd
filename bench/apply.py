"""Apply from zero of 10 containers (network included): median over runs, and the ratios to `docker ps` and to
10 sequential `docker run -d` of the same image.   Run: python3 bench/apply.py
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchProject, cli, docker_ps, median_of, timed  # noqa: E402

RUNS = 3
COUNT = 10


def _docker_run_baseline() -> float:
    label = f"dev.gefyra.project=t-eng-bench-baseline-{secrets.token_hex(3)}"
    took = timed(
        lambda: [
            cli("docker", "run", "-d", "--label", label, "debian:bookworm-slim", "sleep", "infinity")
            for _ in range(COUNT)
        ]
    )
    cli("sh", "-c", f"docker rm -f $(docker ps -aq --filter label={label})")
    return took


def main() -> None:
    from gefyra import api

    times, ps = [], []
    for _ in range(RUNS):
        with BenchProject(COUNT) as project:
            config = project.config()
            times.append(timed(lambda: api.apply(config).raise_for_failures()))  # noqa: B023
            ps.append(median_of(lambda: docker_ps(project.name), 5))  # noqa: B023
    baseline = sorted(_docker_run_baseline() for _ in range(RUNS))[RUNS // 2]
    median = sorted(times)[RUNS // 2]
    median_ps = sorted(ps)[RUNS // 2]
    print(
        f"apply from zero, {COUNT} containers: median {median:.3f}s over {RUNS} runs "
        f"({median / median_ps:.1f}x `docker ps` {median_ps:.3f}s; "
        f"{median / baseline:.2f}x {COUNT} sequential `docker run -d` {baseline:.3f}s)"
    )


if __name__ == "__main__":
    main()

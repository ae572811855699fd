"""No-op plan with 1, 10 and 50 containers: medians in-process (api.plan) and as CLI (`gefyra plan`), each
with its ratio to `docker ps -a --filter label=...` over the same containers.

Goal: 50 containers under 0.5 s, growing linearly.   Run: python3 bench/plan_noop.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchProject, docker_ps, gefyra_cli, median_of  # noqa: E402

RUNS = 7


def main() -> None:
    from gefyra import api

    print(
        f"{'containers':>10} {'api.plan':>10} {'api/ps':>7} "
        f"{'gefyra plan':>12} {'cli/ps':>7} {'docker ps':>10}"
    )
    for count in (1, 10, 50):
        with BenchProject(count) as project:
            config = project.config()
            api.apply(config).raise_for_failures()
            assert not api.plan(config).has_changes
            in_process = median_of(lambda: api.plan(config), RUNS)  # noqa: B023 - called before the loop moves on
            as_cli = median_of(lambda: gefyra_cli("plan", cwd=project.folder), RUNS)  # noqa: B023
            ps = median_of(lambda: docker_ps(project.name), RUNS)  # noqa: B023
            print(
                f"{count:>10} {in_process:>9.3f}s {in_process / ps:>6.1f}x {as_cli:>11.3f}s "
                f"{as_cli / ps:>6.1f}x {ps:>9.3f}s",
                flush=True,
            )


if __name__ == "__main__":
    main()

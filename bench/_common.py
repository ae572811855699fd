"""Shared bits of the engine benchmarks: throw-away projects (`t-eng-bench-*`), timing, medians."""

from __future__ import annotations

import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gefyra.config.model import Config

SLEEPER = {"image": "debian:bookworm-slim", "args": ["sleep", "infinity"]}


class BenchProject:
    """A throw-away project of `containers` sleepers; `cluster`: its gefyra.yaml `cluster:` section (the
    apps then run behind Cargo, each in an infra container's namespace)."""

    def __init__(
        self, containers: int, env: dict[str, str] | None = None, *, cluster: dict[str, str] | None = None
    ) -> None:
        self.name = f"t-eng-bench-{secrets.token_hex(3)}"
        self.folder = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.file = self.folder / "gefyra.yaml"
        self.count = containers
        self.cluster = cluster
        self.write(env or {})

    def write(self, env: dict[str, str], *, first_only: bool = False) -> None:
        """gefyra.yaml with `count` sleepers; `env` for every one, or for c0 only."""
        containers = {
            f"c{i}": {**SLEEPER, "env": env if i == 0 or not first_only else {}} for i in range(self.count)
        }
        document: dict[str, object] = {"version": 1, "project": {"name": self.name}, "containers": containers}
        if self.cluster is not None:
            document["cluster"] = self.cluster
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(document))
        tmp.replace(self.file)

    def config(self) -> Config:
        from gefyra import api

        return api.load(self.file)

    def __enter__(self) -> BenchProject:
        return self

    def __exit__(self, *exc: object) -> None:
        from gefyra import api

        api.down(self.name)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_of(action: Callable[[], object], runs: int) -> float:
    return statistics.median(timed(action) for _ in range(runs))


def cli(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(list(args), cwd=cwd, check=False, capture_output=True)


def gefyra_cli(*args: str, cwd: Path) -> None:
    cli(sys.executable, "-m", "gefyra", *args, cwd=cwd)


def docker_ps(project: str) -> None:
    cli("docker", "ps", "-a", "--filter", f"label=dev.gefyra.project={project}")

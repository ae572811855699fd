"""Watch reaction: from a saved env edit of one container in gefyra.yaml to its replacement running with the
new env (3 containers in the project).

Goal: median under 1 s.   Run: python3 bench/watch_reaction.py
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchProject, docker_ps, median_of  # noqa: E402

EDITS = 7
COUNT = 3


def _running_with(client, project: str, value: str) -> bool:
    for item in client.api.containers(
        filters={"label": [f"dev.gefyra.project={project}", "dev.gefyra.name=c0"]}
    ):
        env = client.api.inspect_container(item["Id"])["Config"]["Env"]
        if f"VERSION={value}" in env:
            return True
    return False


def main() -> None:
    import docker

    from gefyra import api

    client = docker.from_env()
    with BenchProject(COUNT) as project:
        project.write({"VERSION": "0"}, first_only=True)
        stop = threading.Event()
        watcher = threading.Thread(
            target=api.watch, args=(project.file,), kwargs={"stop": stop, "drift_interval": 60.0}, daemon=True
        )
        watcher.start()
        deadline = time.monotonic() + 60
        while not _running_with(client, project.name, "0"):
            assert time.monotonic() < deadline, "initial apply did not finish"
            time.sleep(0.02)
        reactions = []
        for edit in range(1, EDITS + 1):
            time.sleep(0.5)  # let the previous change settle so edits do not merge into one
            start = time.perf_counter()
            project.write({"VERSION": str(edit)}, first_only=True)
            while not _running_with(client, project.name, str(edit)):
                assert time.perf_counter() - start < 30, "watch did not react"
                time.sleep(0.01)
            reactions.append(time.perf_counter() - start)
        stop.set()
        watcher.join(timeout=30)
        ps = median_of(lambda: docker_ps(project.name), 5)
    median = statistics.median(reactions)
    print(
        f"watch reaction (edit saved -> new container running), {EDITS} edits: median {median:.3f}s "
        f"(min {min(reactions):.3f}s, max {max(reactions):.3f}s; {median / ps:.1f}x `docker ps` {ps:.3f}s)"
    )


if __name__ == "__main__":
    main()

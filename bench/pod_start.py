"""Sandbox Pod start latency: create -> Running (and -> Ready) through the official client, image cached.
Median and spread over N Pods started one after another, plus the baseline of one plain `docker run` of the
same image (what a Pod costs the engine: infra + app container). Goal: median create -> Running < 1 s.

Run: python3 bench/pod_start.py [N] [--json PATH]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._results import figure, write  # noqa: E402
from tests.sandbox.cluster import Sandbox, random_instance  # noqa: E402
from tests.sandbox.images import ensure_image  # noqa: E402

GOAL = 1.0


def docker_run_baseline(image: str, label: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["docker", "run", "-d", "--label", label, image, "sleep", "infinity"], check=True, capture_output=True
    )
    return time.perf_counter() - start


def pod_problem(status: Any) -> str | None:
    """Why a Pod will not get Running by itself (a terminal phase or a container stuck with a reason)."""
    if status.phase in ("Failed", "Succeeded"):
        return f"phase {status.phase}: {status.reason or ''} {status.message or ''}".strip()
    for container in status.container_statuses or []:
        waiting = container.state.waiting if container.state else None
        if waiting and waiting.reason not in (None, "ContainerCreating", "PodInitializing"):
            return f"container {container.name}: {waiting.reason}: {waiting.message or ''}".strip()
        terminated = container.state.terminated if container.state else None
        if terminated and terminated.exit_code:
            return f"container {container.name} exited {terminated.exit_code}: {terminated.reason or ''}"
    return None


def start_pod(core: Any, namespace: str, name: str, image: str) -> tuple[float, float]:
    """Seconds from create to phase Running, and to Ready (watching the Pod, as a controller would)."""
    from kubernetes import watch

    start = time.perf_counter()
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": name}, "spec": {"containers": [{"name": "main", "image": image}]}}
    )
    running = None
    status = None
    for event in watch.Watch().stream(  # type: ignore[no-untyped-call]
        core.list_namespaced_pod, namespace, field_selector=f"metadata.name={name}", timeout_seconds=30
    ):
        status = event["object"].status
        if running is None and status.phase == "Running":
            running = time.perf_counter() - start
        if any(c.type == "Ready" and c.status == "True" for c in status.conditions or []):
            return running or time.perf_counter() - start, time.perf_counter() - start
        problem = pod_problem(status)
        if problem:
            raise RuntimeError(f"pod {name} failed to start: {problem}")
    last = pod_problem(status) if status else None
    phase = status.phase if status else "no status"
    raise TimeoutError(
        f"pod {name} did not become Ready within 30 s (phase {phase}; {last or 'no reason given'})"
    )


def main(count: int, json_file: Path | None = None) -> int:
    from kubernetes import client

    sandbox = Sandbox(instance=random_instance()).start()
    try:
        image = ensure_image(sandbox.docker, "echo")
        api = sandbox.api_client()
        core = client.CoreV1Api(api)
        try:
            start_pod(core, "default", "warmup", image)  # first use of the image after a build primes caches
            runs = [start_pod(core, "default", f"bench-{i}", image) for i in range(count)]
        except (RuntimeError, TimeoutError) as error:  # the Pod's own reason, not just "did not become Ready"
            print(f"bench failed: {error}", file=sys.stderr)
            return 1
        baselines = [docker_run_baseline(image, f"dev.gefyra.sandbox={sandbox.instance}") for _ in range(3)]
        baseline = statistics.median(baselines)
        api.close()
    finally:
        left = sandbox.stop()
    running = [r for r, _ in runs]
    ready = [r for _, r in runs]
    median = statistics.median(running)
    print(f"pod start, {count} pods, image cached (sandbox on Docker, official client watch):")
    print(f"  create -> Running: median {median:.3f}s  min {min(running):.3f}s  max {max(running):.3f}s")
    print(f"  create -> Ready:   median {statistics.median(ready):.3f}s")
    print(
        f"  baseline `docker run -d` (one container): median {baseline:.3f}s; ratio {median / baseline:.1f}x"
    )
    verdict = "met" if median < GOAL else "MISSED"
    anchor = "one docker run -d"
    rows = [
        figure(
            "sandbox Pod create -> Running", running, anchor=anchor, anchor_samples=baselines, goal_below=GOAL
        ),
        figure("sandbox Pod create -> Ready", ready, anchor=anchor, anchor_samples=baselines),
    ]
    write(rows, json_file)
    print(f"  goal < {GOAL:.1f}s: {verdict}; leftovers after stop: {left or 'none'}")
    return 0 if median < GOAL and not left else 1


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=10, help="Pods to start (after a warm-up)")
    parser.add_argument("--json", type=Path, help="write Figure rows here")
    arguments = parser.parse_args()
    sys.exit(main(arguments.count, arguments.json))

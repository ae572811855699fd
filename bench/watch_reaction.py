"""Watch reaction: from a saved env edit of one container in gefyra.yaml to its replacement running with the
new env (3 containers in the project), with the time spent in each phase.

Goal: median under 0.7 s, p95 under 1 s.
Run: python3 bench/watch_reaction.py [--edits 15] [--quiet S] [--probe events|poll] [--cluster] [--json PATH]

`--cluster`: the project has a cluster (a data-plane test stand: Stowaway, cluster DNS, reached like a
NodePort), so the apps run behind Cargo, each in its infra container's network namespace; a replace joins
the running infra container again (docs/dataplane.md "Replaces keep the namespace").

How the bench sees "running": `events` (default) reads the engine's start events of c0 and inspects each
started container once; `poll` (the former probe) lists and inspects c0 every 5 ms, which loads the engine it
measures (on 2 loaded cores it made the start ~0.15 s slower: docs/engine.md).

Phases, from the moment the edit is saved (medians):
  trigger    watchfiles saw the change and the quiet period is over: the loop acts (watch_triggered)
  plan       ... config re-loaded, world observed, plan made (plan event)
  remove     ... the old container is removed (delete step done)
  start      ... the new container runs with the new env (its start event; --probe poll: seen by polling)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BenchProject, docker_ps, timed  # noqa: E402
from bench._results import figure, write  # noqa: E402

COUNT = 3
PHASES = ("trigger", "plan", "remove", "start")


def _running_with(client, project: str, value: str) -> bool:
    for item in client.api.containers(
        filters={"label": [f"dev.gefyra.project={project}", "dev.gefyra.name=c0"]}
    ):
        env = client.api.inspect_container(item["Id"])["Config"]["Env"]
        if f"VERSION={value}" in env:
            return True
    return False


class StartProbe:
    """Engine start events of c0 (a thread reading the event stream): the perf_counter reading of the start
    of a container whose env has VERSION=<value>, as soon as the engine reports it."""

    def __init__(self, client, project: str) -> None:
        self.client = client
        self.started: dict[str, float] = {}
        self.changed = threading.Condition()
        self.stream = client.api.events(
            decode=True,
            filters={
                "type": "container",
                "event": "start",
                "label": [f"dev.gefyra.project={project}", "dev.gefyra.name=c0"],
            },
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for event in self.stream:
            seen = time.perf_counter()
            env = self.client.api.inspect_container(event["id"])["Config"]["Env"]
            with self.changed:
                for item in env:
                    if item.startswith("VERSION="):
                        self.started[item.removeprefix("VERSION=")] = seen
                self.changed.notify_all()

    def wait(self, value: str, timeout: float) -> float:
        with self.changed:
            assert self.changed.wait_for(lambda: value in self.started, timeout), "watch did not react"
            return self.started[value]

    def close(self) -> None:
        self.stream.close()


def _poll_running(client, project: str, value: str, start: float) -> float:
    while not _running_with(client, project, value):
        assert time.perf_counter() - start < 30, "watch did not react"
        time.sleep(0.005)
    return time.perf_counter()


class Timeline:
    """perf_counter readings of the watch's events, as they are emitted (in the watch's thread)."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, str, str]] = []
        self.lock = threading.Lock()
        self.finished = threading.Event()

    def emit(self, event) -> None:
        with self.lock:
            self.marks.append((time.perf_counter(), event.event, event.step or ""))
        if event.event == "apply_finished":
            self.finished.set()

    def first(self, after: float, event: str, step: str = "") -> float:
        with self.lock:
            return next(t for t, e, s in self.marks if t >= after and e == event and (not step or s == step))


def main() -> None:
    import docker

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--quiet", type=float, default=None, help="debounce quiet period (default: watch's)")
    parser.add_argument("--probe", choices=("events", "poll"), default="events", help="how `running` is seen")
    parser.add_argument("--cluster", action="store_true", help="apps behind Cargo (a test cluster stand)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here (bench/_results.py)")
    options = parser.parse_args()
    client = docker.from_env()
    timeline = Timeline()
    with contextlib.ExitStack() as stack:
        cluster = _cluster_stand(client, stack) if options.cluster else None
        project = stack.enter_context(BenchProject(COUNT, cluster=cluster))
        _measure(client, project, timeline, options)


def _cluster_stand(client, stack: contextlib.ExitStack) -> dict[str, str]:
    """A data-plane test stand (torn down with `stack`) and the `cluster:` section reaching it; the engine
    finds its Stowaway through the stand's settings while `stack` is open."""
    from gefyra.providers.docker.dataplane.images import ensure_images
    from tests.dataplane.testbed import Testbed, host_bridge_ip, new_run_id, stowaway_settings

    stand = Testbed(client, new_run_id("bwr"), publish_ip=host_bridge_ip(client))
    ensure_images(stand.engine)
    stack.callback(stand.teardown)
    stand.start_cluster()
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gefyra-bench-stowaway-")))
    stack.enter_context(stowaway_settings(stand, folder))
    return {"endpoint": f"{stand.publish_ip}:{stand.wg_port}"}


def _measure(client, project: BenchProject, timeline: Timeline, options: argparse.Namespace) -> None:
    from gefyra import api

    edits = options.edits
    project.write({"VERSION": "0"}, first_only=True)
    stop = threading.Event()
    watcher = threading.Thread(
        target=api.watch,
        args=(project.file,),
        kwargs={"stop": stop, "drift_interval": 60.0, "emit": timeline.emit, "quiet_s": options.quiet},
        daemon=True,
    )
    watcher.start()
    deadline = time.monotonic() + 60
    while not (_running_with(client, project.name, "0") and timeline.finished.is_set()):
        assert time.monotonic() < deadline, "initial apply did not finish"
        time.sleep(0.02)
    reactions, phases = [], {name: [] for name in PHASES}
    probe = StartProbe(client, project.name) if options.probe == "events" else None
    for edit in range(1, edits + 1):
        timeline.finished.clear()
        start = time.perf_counter()
        project.write({"VERSION": str(edit)}, first_only=True)
        if probe is not None:
            running = probe.wait(str(edit), 30)
        else:
            running = _poll_running(client, project.name, str(edit), start)
        reactions.append(running - start)
        assert timeline.finished.wait(30), "the apply did not finish"  # before the next edit
        triggered = timeline.first(start, "watch_triggered")
        planned = timeline.first(start, "plan")
        removed = timeline.first(start, "step_succeeded", "delete:container/c0")
        marks = {"trigger": triggered, "plan": planned, "remove": removed, "start": running}
        previous = start
        for name in PHASES:
            phases[name].append(marks[name] - previous)
            previous = marks[name]
    if probe is not None:
        probe.close()
    stop.set()
    watcher.join(timeout=30)
    ps_samples = [timed(lambda: docker_ps(project.name)) for _ in range(5)]  # noqa: B023
    ps = statistics.median(ps_samples)
    reactions.sort()
    median = statistics.median(reactions)
    p95 = reactions[min(len(reactions) - 1, round(0.95 * (len(reactions) - 1)))]
    print(
        f"watch reaction{' with Cargo' if options.cluster else ''} (edit saved -> new container running), "
        f"{edits} edits: median {median:.3f}s, "
        f"p95 {p95:.3f}s (min {reactions[0]:.3f}s, max {reactions[-1]:.3f}s; "
        f"{median / ps:.1f}x `docker ps` {ps:.3f}s)"
    )
    print("  phase medians: " + ", ".join(f"{n} {statistics.median(v):.3f}s" for n, v in phases.items() if v))
    load = f"load {os.getloadavg()[0]:.1f}; probe {options.probe}"
    rows = [
        figure(
            f"watch reaction{' with Cargo' if options.cluster else ''}, env edit -> new container running "
            f"({COUNT} containers)",
            reactions,
            anchor="docker ps",
            anchor_samples=ps_samples,
            goal_below=0.7,
            note=f"p95 {p95:.3f}s (goal < 1 s); {load}",
        ),
        *(figure(f"watch reaction phase: {name}", got, note=load) for name, got in phases.items() if got),
    ]
    write(rows, options.json)


if __name__ == "__main__":
    main()

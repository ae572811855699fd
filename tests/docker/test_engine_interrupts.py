"""Ctrl-C against the real engine: watch ends promptly while a step blocks on a slow engine call (an image
build), and after a double Ctrl-C during apply the final report says what exists in the world (issue 10)."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from gefyra.model import labels
from tests.docker.engine_helpers import SLEEPER, wait_for

pytestmark = pytest.mark.docker


def _events_until(proc: subprocess.Popen, done) -> list[dict]:
    """NDJSON events of `proc` up to and including the first one for which `done(event)` holds."""
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if done(events[-1]):
            return events
    raise AssertionError(f"stream ended before the awaited event: {events}")


def test_ctrl_c_ends_watch_promptly_while_a_step_waits_on_a_slow_build(engine_project) -> None:
    (engine_project.folder / "slow").mkdir()
    marker = f"sleep 120 && echo {engine_project.name}"  # the build's RUN, unique to this test
    (engine_project.folder / "slow" / "Dockerfile").write_text(f"FROM debian:bookworm-slim\nRUN {marker}\n")
    engine_project.write({"slow": {"build": "slow"}})
    proc = engine_project.popen("watch", "-o", "json")
    try:
        _events_until(proc, lambda e: e["event"] == "step_started" and e["step"] == "create:container/slow")
        wait_for("the build to run", lambda: _building(engine_project, marker), timeout=60)
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()
        assert proc.wait(timeout=30) == 130
        took = time.monotonic() - interrupted
    finally:
        proc.kill()
        proc.wait()
    assert took < 25, f"watch took {took:.1f}s to end after Ctrl-C (the build alone takes 120 s)"
    events = [json.loads(line) for line in rest.splitlines()]
    cancelled = [e for e in events if e["event"] == "step_cancelled"]
    assert [e["step"] for e in cancelled] == ["create:container/slow"]
    finished = [e for e in events if e["event"] == "apply_finished"]
    assert finished and finished[0]["data"]["interrupted"] is True


def _building(project, marker: str) -> bool:
    """The build's RUN container runs (watch -o json shows no build output)."""
    found = project.client.api.containers(filters={"status": "running"})
    return any(marker in c.get("Command", "") for c in found)


@pytest.mark.slow
def test_a_double_ctrl_c_during_apply_reports_what_exists(engine_project) -> None:
    names = [f"c{i}" for i in range(10)]
    engine_project.write({name: SLEEPER for name in names})
    proc = engine_project.popen("apply", "--yes", "-o", "json", "--parallelism", "4")
    try:
        events = _events_until(
            proc, lambda e: e["event"] == "step_succeeded" and e["address"].startswith("container/")
        )
        proc.send_signal(signal.SIGINT)
        events += _events_until(proc, lambda e: e["event"] == "log" and "interrupted" in e["message"])
        proc.send_signal(signal.SIGINT)  # the second one: stop waiting for the running steps
        events += [json.loads(line) for line in proc.stdout.read().splitlines()]
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
        proc.wait()
    done = {e["address"] for e in events if e["event"] == "step_succeeded" and e["op"] == "create"}
    cancelled = {e["address"] for e in events if e["event"] == "step_cancelled"}
    running = wait_for("the engine to settle", Unchanged(lambda: _running(engine_project), 0.5), timeout=30)
    shown = "\n".join(f"{e['time']} {e['event']} {e.get('step', '')} {e.get('message', '')}" for e in events)
    assert {f"container/{name}" for name in running} == done - {"network/default"}, shown
    assert cancelled == {f"container/{name}" for name in names} - done
    finished = [e for e in events if e["event"] == "apply_finished"][-1]["data"]
    assert finished["interrupted"] is True
    assert (finished["succeeded"], finished["cancelled"]) == (len(done), len(cancelled))


def _running(project) -> frozenset[str]:
    selector = {"label": [f"{labels.PROJECT}={project.name}"], "status": "running"}
    return frozenset(c["Labels"][labels.NAME] for c in project.client.api.containers(filters=selector))


class Unchanged:
    """A wait_for check: the value of `look` once it has not changed for `quiet_s` (requests the engine still
    carries out after the CLI exited would change it)."""

    def __init__(self, look, quiet_s: float) -> None:
        self.look, self.quiet_s = look, quiet_s
        self.value, self.since = None, 0.0

    def __call__(self):
        value = self.look()
        if value != self.value:
            self.value, self.since = value, time.monotonic()
        return value if value and time.monotonic() - self.since >= self.quiet_s else None

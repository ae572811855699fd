"""The executor over real plans with an in-process step function (no Docker): ordering, parallelism, failure
isolation, Ctrl-C (grace period, abandoning, settling by observation); and the per-project lock."""

from __future__ import annotations

import _thread
import threading
import time

import pytest

from gefyra.apply.events import Event
from gefyra.apply.executor import SETTLE_S, Executor, run_concurrently
from gefyra.apply.lock import project_lock
from gefyra.apply.results import Outcome
from gefyra.errors import LockError
from gefyra.model.resources import Resource, ResourceKey
from gefyra.planning.planner import plan

NET = ResourceKey("network", "default")


def _from_zero(*names: str):
    desired = [Resource(kind="network", name="default", spec={})]
    desired += [Resource(kind="container", name=n, spec={}, depends_on=(NET,)) for n in names]
    return plan("p", desired, [])


def test_steps_run_after_their_dependencies() -> None:
    done: list[str] = []
    result = Executor(lambda step: done.append(step.id)).execute(_from_zero("a", "b"))
    assert result.ok
    assert done[0] == "create:network/default" and sorted(done[1:]) == [
        "create:container/a",
        "create:container/b",
    ]


def test_independent_steps_run_in_parallel() -> None:
    barrier = threading.Barrier(3, timeout=5)  # fails unless all three containers are being created at once

    def run(step) -> None:
        if step.key.kind == "container":
            barrier.wait()

    assert Executor(run, parallelism=3).execute(_from_zero("a", "b", "c")).ok


def test_parallelism_is_bounded() -> None:
    running, peak, lock = [0], [0], threading.Lock()

    def run(step) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)  # a step that takes time, so overlapping would show
        with lock:
            running[0] -= 1

    assert Executor(run, parallelism=2).execute(_from_zero(*"abcdef")).ok
    assert peak[0] == 2


def test_a_failed_step_skips_only_its_dependants() -> None:
    desired = [
        Resource(kind="network", name="default", spec={}),
        Resource(kind="container", name="a", spec={}, depends_on=(NET,)),
        Resource(kind="x", name="independent", spec={}),
    ]
    events: list[Event] = []

    def run(step) -> None:
        if step.key == NET:
            raise RuntimeError("boom")

    result = Executor(run, emit=events.append).execute(plan("p", desired, []))
    assert result.failed == {"create:network/default": "boom"}
    assert result.skipped == ("create:container/a",)
    assert result.succeeded == ("create:x/independent",)
    kinds = [(e.event, e.step) for e in events if e.step]
    assert ("step_skipped", "create:container/a") in kinds
    assert events[-1].event == "apply_finished" and events[-1].data["failed"] == 1


def test_ctrl_c_lets_running_steps_finish_and_cancels_the_rest() -> None:
    seen: list[str] = []

    def run(step) -> None:
        seen.append(step.id)
        if step.key == NET:
            _thread.interrupt_main()  # what Ctrl-C does: KeyboardInterrupt in the main thread
            time.sleep(0.3)  # still running when the interrupt arrives: must be allowed to finish

    events: list[Event] = []
    executor = Executor(run, emit=events.append)
    with pytest.raises(KeyboardInterrupt):
        executor.execute(_from_zero("a", "b"))
    assert seen == ["create:network/default"]
    assert ("step_succeeded", "create:network/default") in [(e.event, e.step) for e in events]
    assert sorted(e.step for e in events if e.event == "step_cancelled") == [
        "create:container/a",
        "create:container/b",
    ]


def test_a_second_holder_of_the_project_lock_waits_then_fails(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GEFYRA_LOCK_DIR", str(tmp_path))
    with project_lock("t-eng-lock", timeout=1):
        started = time.monotonic()
        with pytest.raises(LockError, match=r"project 't-eng-lock' is locked by pid \d+ \(waited 0.3s\)"):
            with project_lock("t-eng-lock", timeout=0.3):
                pass
        assert time.monotonic() - started >= 0.3
    with project_lock("t-eng-lock", timeout=0):  # released
        pass


def test_locks_of_different_projects_are_independent(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GEFYRA_LOCK_DIR", str(tmp_path))
    with project_lock("t-eng-one", timeout=0), project_lock("t-eng-two", timeout=0):
        pass


def test_a_second_ctrl_c_stops_at_once_and_still_reports() -> None:
    release, cancel, daemon = threading.Event(), threading.Event(), []

    def run(step) -> None:
        if step.key == NET:
            daemon.append(threading.current_thread().daemon)
            _thread.interrupt_main()  # first Ctrl-C: let running steps finish ...
            assert cancel.wait(5)
            _thread.interrupt_main()  # ... second one: stop now
            release.wait(30)  # a step that would hold the executor for 30 s

    events: list[Event] = []
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            Executor(run, emit=events.append, cancel=cancel).execute(_from_zero("a", "b"))
        assert time.monotonic() - started < SETTLE_S + 1.5
    finally:
        release.set()
    assert daemon == [True]  # an abandoned step cannot keep the process alive at exit
    assert sorted(e.step for e in events if e.event == "step_cancelled") == [
        "create:container/a",
        "create:container/b",
        "create:network/default",
    ]
    finished = [e for e in events if e.event == "apply_finished"]
    assert len(finished) == 1 and finished[0].data["cancelled"] == 3


def test_results_are_keyed_by_resource() -> None:
    result = Executor(lambda step: None).execute(_from_zero("a"))
    assert result.keys(Outcome.SUCCEEDED, op="create") == {NET, ResourceKey("container", "a")}
    assert result.keys(Outcome.SUCCEEDED, op="delete") == frozenset()
    assert result.counts() == {"succeeded": 2, "failed": 0, "skipped": 0, "cancelled": 0}


def test_a_step_blocked_on_a_slow_call_does_not_hold_ctrl_c_past_the_grace_period() -> None:
    release = threading.Event()

    def run(step) -> None:
        if step.key == NET:
            _thread.interrupt_main()  # one Ctrl-C while the step waits on a call that takes 30 s
            release.wait(30)

    events: list[Event] = []
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            Executor(run, emit=events.append, grace_s=0.3).execute(_from_zero("a"))
        assert time.monotonic() - started < 0.3 + SETTLE_S + 1.5
    finally:
        release.set()
    said = [e.message for e in events if e.event == "log"]
    assert said == [
        "interrupted: waiting for network/default to finish (at most 0.3s); Ctrl-C again stops at once"
    ]
    cancelled = {e.step: e.message for e in events if e.event == "step_cancelled"}
    assert cancelled == {
        "create:network/default": "abandoned while running; the next apply completes it",
        "create:container/a": "interrupted before it started",
    }


def test_after_an_interruption_steps_whose_effect_exists_are_reported_done() -> None:
    """Issue 10: a double Ctrl-C reported `succeeded 1, cancelled 10` while 4 containers ran. The executor
    asks `verify` (the API observes the world again) which unfinished steps took effect."""
    release, cancel = threading.Event(), threading.Event()
    asked: list[list[str]] = []

    def run(step) -> None:
        if step.key.kind == "container":
            if step.key.name == "a":
                _thread.interrupt_main()
                assert cancel.wait(5)
                _thread.interrupt_main()  # the second Ctrl-C abandons a and b while they run
            release.wait(30)

    def verify(unfinished) -> frozenset[str]:
        asked.append(sorted(step.id for step in unfinished))
        return frozenset({"create:container/a", "create:container/b"})  # both exist in the world

    events: list[Event] = []
    try:
        with pytest.raises(KeyboardInterrupt):
            Executor(run, emit=events.append, cancel=cancel, parallelism=2, verify=verify).execute(
                _from_zero("a", "b", "c")
            )
    finally:
        release.set()
    assert asked == [["create:container/a", "create:container/b", "create:container/c"]]
    finished = [e for e in events if e.event == "apply_finished"]
    assert finished[0].data == {
        "succeeded": 3,
        "failed": 0,
        "skipped": 0,
        "cancelled": 1,
        "interrupted": True,
    }
    done = [e for e in events if e.event == "step_succeeded" and e.message.startswith("done (found")]
    assert sorted(e.step for e in done) == ["create:container/a", "create:container/b"]
    assert [e.step for e in events if e.event == "step_cancelled"] == ["create:container/c"]


def test_a_cancel_without_ctrl_c_returns_an_interrupted_result() -> None:
    cancel = threading.Event()

    def run(step) -> None:
        cancel.set()  # e.g. the caller's stop

    result = Executor(run, cancel=cancel).execute(_from_zero("a"))
    assert result.interrupted and not result.ok
    assert result.succeeded == ("create:network/default",) and result.cancelled == ("create:container/a",)


def test_calls_run_concurrently_and_each_error_is_returned_in_order() -> None:
    barrier = threading.Barrier(3, timeout=5)  # fails unless all three run at once

    def ok() -> None:
        barrier.wait()

    def broken() -> None:
        barrier.wait()
        raise RuntimeError("no such container")

    errors = run_concurrently([ok, broken, ok])
    assert [str(e) if e else None for e in errors] == [None, "no such container", None]

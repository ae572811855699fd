"""Ctrl-C (a real SIGINT to this process) at each phase of the watch loop ends it promptly and stops the file
watchers: waiting for changes, loading gefyra.yaml, restarting a container, and applying while a step blocks
on a call that would take 30 s (the CI flake: `gefyra watch` not exiting within 30 s under load).

The engine behind the loop is in memory (WatchActions); the apply phase runs the real executor with watch's
grace period. No Docker."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from gefyra.apply.events import Event
from gefyra.apply.executor import SETTLE_S, Executor
from gefyra.apply.results import ApplyOutcome
from gefyra.config import load
from gefyra.model.resources import Observed, Resource
from gefyra.planning.planner import plan
from gefyra.watch.loop import WATCH_GRACE_S, ApplyRequest, WatchLoop, WatchSettings

RUNNING = Observed(status="running", healthy=True)
BLOCK_S = 30.0  # what a blocked engine call would take; every phase must end far sooner


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


class Engine:
    """Sends Ctrl-C in one phase (`phase`), then blocks there like a slow engine call."""

    def __init__(self, config_path: Path, phase: str) -> None:
        self.config_path = config_path
        self.phase = phase
        self.release = threading.Event()
        self.applies = 0

    def load(self, path: Path):
        config = load(path)
        if self.phase == "load" and self.applies:  # a re-load after an edit, not the first load
            self._interrupt_and_block()
        return config

    def apply(self, config, request: ApplyRequest) -> ApplyOutcome:
        """The first apply creates container/app, later ones find it up to date."""
        want = Resource(kind="container", name="app", spec={"v": 1})
        have = [want.model_copy(update={"observed": RUNNING})] if self.applies else []
        self.applies += 1
        planned = plan(config.project.name, [want], have)
        request.emit(Event(event="plan", plan=planned))
        if self.phase == "apply":
            run = lambda step: self._interrupt_and_block()  # noqa: E731 - the step's slow engine call
        else:
            run = lambda step: None  # noqa: E731
        result = Executor(run, emit=request.emit, grace_s=WATCH_GRACE_S).execute(planned)
        return ApplyOutcome(plan=planned, result=result)

    def restart(self, config, names) -> None:
        if self.phase == "restart":
            self._interrupt_and_block()

    def _interrupt_and_block(self) -> None:
        ctrl_c()
        if threading.current_thread() is threading.main_thread():
            time.sleep(BLOCK_S)  # the KeyboardInterrupt lands here, like in a blocked socket read
        else:
            self.release.wait(BLOCK_S)


def _project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    config = tmp_path / "gefyra.yaml"
    config.write_text(
        "version: 1\nproject: {name: t-eng-sigint}\ncontainers:\n"
        "  app: {image: img, watch: [{path: src, action: restart}]}\n"
    )
    return config


@pytest.mark.parametrize("phase", ["idle", "load", "restart", "apply"])
def test_ctrl_c_in_each_phase_of_the_watch_loop_ends_it_promptly(tmp_path, phase) -> None:
    config_path = _project(tmp_path)
    engine = Engine(config_path, phase)
    events: list[Event] = []
    loop = WatchLoop(
        config_path,
        engine,
        emit=events.append,
        settings=WatchSettings(drift_interval=60, quiet_s=0.05),
        subscribe=None,
    )
    trigger = {
        "idle": ctrl_c,
        "load": lambda: loop.changes.put(config_path),
        "restart": lambda: loop.changes.put(tmp_path / "src" / "app.py"),
        "apply": lambda: None,  # the first apply's step sends it
    }[phase]
    timer = threading.Timer(0.5, trigger)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            loop.run()
        took = time.monotonic() - started
    finally:
        timer.cancel()
        engine.release.set()
    assert took < WATCH_GRACE_S + SETTLE_S + 2.5, f"{phase}: watch took {took:.1f}s to stop"
    assert not [t for t in threading.enumerate() if t.name == "gefyra-watch-files" and t.is_alive()]
    if phase == "apply":
        cancelled = [e for e in events if e.event == "step_cancelled"]
        assert [e.message for e in cancelled] == ["abandoned while running; the next apply completes it"]

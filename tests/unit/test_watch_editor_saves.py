"""An editor's save of gefyra.yaml is one reaction of the watch loop with the default quiet period: real
files, real watchfiles (FileWatcher), the real loop and config loader; the engine behind the loop is in memory
(WatchActions recording applies). Each editor writes its own way (temp + rename, backup rename, in-place
writes): several file events each, and for a moment the file may be missing or half written. A quiet period
too short for that shows here as a second apply or a "gefyra.yaml is invalid" error. No Docker."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gefyra.apply.results import ApplyOutcome
from gefyra.config import Config, load
from gefyra.planning.plan import Plan
from gefyra.watch.debounce import DEFAULT_QUIET_S
from gefyra.watch.loop import ApplyRequest, WatchLoop, WatchSettings

# An editor's steps on a busy disk lie this far apart: beyond watchfiles' own grouping (files.py STEP_MS), so
# only the loop's quiet period holds them together.
DISK_S = 0.015
AFTERMATH_S = 6 * DEFAULT_QUIET_S + 0.3  # a second reaction would come within this after the first
REACTION_TIMEOUT_S = 10.0


def _document(version: int) -> str:
    app = f"{{image: img, env: {{V: '{version}'}}}}"
    return f"version: 1\nproject: {{name: t-eng-saves}}\ncontainers:\n  app: {app}\n"


def _fsynced(path: Path, text: str) -> None:
    with path.open("w") as handle:  # the file exists, empty, from here on
        time.sleep(DISK_S)  # the editor writes a large buffer to a busy disk
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def vim(path: Path, text: str) -> None:
    """vim with `backupcopy=no` (its default on Linux for a plain file): probe file 4913, rename the original
    to the backup, write the new file, delete the backup."""
    probe = path.parent / "4913"
    probe.write_text("")
    probe.unlink()
    backup = path.with_name(path.name + "~")
    path.rename(backup)
    _fsynced(path, text)
    backup.unlink()


def jetbrains(path: Path, text: str) -> None:
    """JetBrains "safe write": the new text in a temp file, the original out of the way, the temp in place."""
    temp = path.with_name(path.name + "___jb_tmp___")
    old = path.with_name(path.name + "___jb_old___")
    _fsynced(temp, text)
    path.rename(old)
    temp.rename(path)
    old.unlink()


def in_place(path: Path, text: str) -> None:
    """VS Code and most others: truncate, then write in two chunks (a half-written file for a moment)."""
    half = len(text) // 2
    with path.open("w") as handle:
        handle.write(text[:half])
        handle.flush()
        time.sleep(DISK_S)  # the editor writes in chunks
        handle.write(text[half:])
        handle.flush()
        os.fsync(handle.fileno())


def atomic(path: Path, text: str) -> None:
    """Write a temp file, rename it over the original (what bench/watch_reaction.py does)."""
    temp = path.with_suffix(".tmp")
    _fsynced(temp, text)
    temp.replace(path)


class Engine:
    """WatchActions: loads the real file, records what each apply was given."""

    def __init__(self) -> None:
        self.applied: list[Config] = []
        self.lock = threading.Lock()

    def load(self, path: Path) -> Config:
        return load(path)

    def apply(self, config: Config, request: ApplyRequest) -> ApplyOutcome:
        with self.lock:
            self.applied.append(config)
        return ApplyOutcome(plan=Plan(project=config.project.name), result=None)

    def restart(self, config: Config, names: object) -> None:
        raise AssertionError("nothing here asks for a restart")

    def count(self) -> int:
        with self.lock:
            return len(self.applied)


def _wait(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _watching(path: Path, engine: Engine) -> int:
    """Save the unchanged file until the loop reacts (the watcher thread does not say when it watches);
    the number of applies once they stopped coming."""
    deadline = time.monotonic() + REACTION_TIMEOUT_S
    while engine.count() == 1:
        assert time.monotonic() < deadline, "the file watcher never reported a change"
        atomic(path, _document(0))
        time.sleep(0.1)
    count, since = engine.count(), time.monotonic()
    while time.monotonic() - since < AFTERMATH_S:  # quiet for as long as a second reaction would take
        if engine.count() != count:
            count, since = engine.count(), time.monotonic()
        time.sleep(0.02)
    return count


@pytest.mark.parametrize("save", [vim, jetbrains, in_place, atomic], ids=lambda f: f.__name__)
def test_an_editor_save_is_one_reaction_with_the_default_quiet_period(tmp_path, save) -> None:
    path = tmp_path / "gefyra.yaml"
    path.write_text(_document(0))
    engine, events = Engine(), []
    stop = threading.Event()
    loop = WatchLoop(
        path,
        engine,
        emit=events.append,
        settings=WatchSettings(drift_interval=600),
        stop=stop,
        subscribe=None,
    )
    assert loop.settings.quiet_s == DEFAULT_QUIET_S
    runner = threading.Thread(target=loop.run, daemon=True)
    runner.start()
    try:
        _wait("the first apply", lambda: engine.count() == 1, REACTION_TIMEOUT_S)
        base = _watching(path, engine)
        for version in (1, 2, 3):
            save(path, _document(version))
            _wait(
                f"the reaction to save {version}", lambda seen=base: engine.count() > seen, REACTION_TIMEOUT_S
            )
            base += 1
            deadline = time.monotonic() + AFTERMATH_S  # no second reaction to the same save
            while time.monotonic() < deadline:
                assert engine.count() == base, f"save {version} by {save.__name__} made two reactions"
                time.sleep(0.02)
            assert engine.applied[-1].containers["app"].env == {"V": str(version)}
    finally:
        stop.set()
        runner.join(timeout=5)
    errors = [e for e in events if e.event == "watch_error"]
    assert errors == [], f"{save.__name__}: {[(e.message, e.error) for e in errors]}"

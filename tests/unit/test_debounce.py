"""Debouncing with an injected clock, and the filters for editor noise and ignore globs. No I/O."""

from __future__ import annotations

import pytest

from gefyra.watch.debounce import Debouncer, Trigger, ignored, is_editor_temp


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_pending_means_nothing_due() -> None:
    debouncer = Debouncer(quiet_s=0.3, clock=Clock())
    assert debouncer.wait_s() is None and debouncer.take() == []


def test_triggers_wait_for_the_quiet_period_after_the_last_change() -> None:
    clock = Clock()
    debouncer = Debouncer(quiet_s=0.3, clock=clock)
    debouncer.add(Trigger("config", path="gefyra.yaml"))
    clock.now += 0.2
    debouncer.add(Trigger("restart", container="api", path="src/a.py"))  # restarts the quiet period
    clock.now += 0.2
    assert debouncer.take() == []
    assert debouncer.wait_s() == pytest.approx(0.1)
    clock.now += 0.1
    assert debouncer.take() == [Trigger("config", path="gefyra.yaml"), Trigger("restart", "api", "src/a.py")]
    assert not debouncer.pending


def test_a_burst_of_saves_becomes_one_trigger() -> None:
    clock = Clock()
    debouncer = Debouncer(quiet_s=0.3, clock=clock)
    for _ in range(20):
        debouncer.add(Trigger("config", path="gefyra.yaml"))
        clock.now += 0.01
    clock.now += 0.3
    assert debouncer.take() == [Trigger("config", path="gefyra.yaml")]


@pytest.mark.parametrize(
    "name",
    [
        ".app.py.swp",
        "app.py~",
        ".#app.py",
        "#app.py#",
        "4913",
        "x___jb_tmp___",
        ".goutputstream-ABC123",
        "sedAb12Cd",
    ],
)
def test_editor_temp_files_are_noise(name: str) -> None:
    assert is_editor_temp(f"/src/{name}")


@pytest.mark.parametrize("name", ["app.py", "gefyra.yaml", "Dockerfile", "swp.py"])
def test_real_files_are_not_noise(name: str) -> None:
    assert not is_editor_temp(f"/src/{name}")


def test_ignore_globs_match_relative_paths_and_names() -> None:
    assert ignored("/p/src/__pycache__/a.pyc", "/p/src", ["*.pyc"])
    assert ignored("/p/src/node_modules/x/y.js", "/p/src", ["node_modules"])
    assert not ignored("/p/src/app.py", "/p/src", ["*.pyc", "node_modules"])


def test_trigger_descriptions() -> None:
    assert Trigger("rebuild", "api", "src/app.py").describe() == "src/app.py changed (rebuild api)"
    assert Trigger("config", path="gefyra.yaml").describe() == "gefyra.yaml changed"

"""The watch loop's decisions with an in-memory engine (a WatchActions recording calls): which paths trigger
what, what is applied, what is restarted, and that a bad edit keeps the last good config. No Docker, no file
watchers (paths under a folder that does not exist)."""

from __future__ import annotations

from pathlib import Path

from gefyra.apply.events import Event
from gefyra.apply.results import ApplyOutcome, ApplyResult, Outcome, StepResult
from gefyra.config import Config
from gefyra.errors import ConfigError
from gefyra.model.resources import ResourceKey
from gefyra.planning.plan import Action, Change, Notice, Plan
from gefyra.watch.debounce import Trigger
from gefyra.watch.loop import ApplyRequest, WatchLoop, WatchSettings

BASE = Path("/nonexistent-gefyra-watch-test")


def _config(env: str = "1") -> Config:
    data = {
        "version": 1,
        "project": {"name": "t-eng-watch"},
        "containers": {
            "api": {
                "image": "img",
                "env": {"V": env},
                "watch": [{"path": "src", "action": "restart", "ignore": ["*.log"]}],
            },
            "web": {"build": "web", "watch": [{"path": "web", "action": "rebuild"}]},
        },
    }
    config = Config.model_validate(data, context={"base_dir": BASE})
    object.__setattr__(config, "_source", BASE / "gefyra.yaml")
    return config


def outcome(created: list[str], *, outcome: Outcome = Outcome.SUCCEEDED, notices=()) -> ApplyOutcome:
    """What apply returns when it (re)created these containers."""
    results = tuple(
        StepResult(
            step=f"create:container/{name}",
            key=ResourceKey("container", name),
            op="create",
            action=Action.REPLACE,
            outcome=outcome,
        )
        for name in created
    )
    return ApplyOutcome(
        plan=Plan(project="t-eng-watch", notices=tuple(notices)),
        result=ApplyResult(results=results) if results else None,
    )


class Engine:
    """WatchActions over a list of configs to hand out on load (a ConfigError instance is raised)."""

    def __init__(self, *loads) -> None:
        self.loads = list(loads)
        self.applied: list[tuple[Config, ApplyRequest]] = []
        self.restarted: list[str] = []
        self.recreate: list[str] = []
        self.notices: tuple[Notice, ...] = ()

    def load(self, path: Path):
        item = self.loads.pop(0) if len(self.loads) > 1 else self.loads[0]
        if isinstance(item, Exception):
            raise item
        return item

    def apply(self, config, request: ApplyRequest) -> ApplyOutcome:
        self.applied.append((config, request))
        changes = tuple(
            Change(key=ResourceKey("container", name), action=Action.REPLACE, cause="exited")
            for name in self.recreate
        )
        request.emit(Event(event="plan", plan=Plan(project="t-eng-watch", changes=changes)))
        return outcome(self.recreate, notices=self.notices)

    def restart(self, config, names) -> None:
        self.restarted.extend(names)


def _loop(engine: Engine) -> tuple[WatchLoop, list[Event]]:
    events: list[Event] = []
    return WatchLoop(BASE / "gefyra.yaml", engine, emit=events.append, subscribe=None), events


def test_paths_map_to_triggers() -> None:
    loop, _ = _loop(Engine(_config()))
    assert loop.triggers_for(BASE / "gefyra.yaml") == [Trigger("config", path="gefyra.yaml")]
    assert loop.triggers_for(BASE / "src" / "app.py") == [Trigger("restart", "api", "src/app.py")]
    assert loop.triggers_for(BASE / "web" / "index.html") == [Trigger("rebuild", "web", "web/index.html")]
    assert loop.triggers_for(BASE / "src" / "debug.log") == []  # the rule's ignore glob
    assert loop.triggers_for(BASE / "src" / ".app.py.swp") == []  # editor noise
    assert loop.triggers_for(BASE / "other.txt") == []


def test_rebuild_forces_a_replace_with_rebuild_option() -> None:
    engine = Engine(_config())
    loop, _ = _loop(engine)
    loop._act([Trigger("rebuild", "web", "web/index.html")])
    _, request = engine.applied[-1]
    key = ResourceKey("container", "web")
    assert request.force_replace == {key: "watch: web/index.html changed (rebuild)"}
    assert request.rebuild == {key}


def test_restart_happens_unless_the_apply_recreated_the_container() -> None:
    engine = Engine(_config())
    loop, _ = _loop(engine)
    loop._act([Trigger("restart", "api", "src/app.py")])
    assert engine.restarted == ["api"]
    engine.recreate = ["api"]
    loop._act([Trigger("restart", "api", "src/app.py")])
    assert engine.restarted == ["api"]  # not again: the new container already runs the new files


def test_a_bad_edit_reports_and_keeps_the_last_good_config() -> None:
    good = _config("1")
    engine = Engine(good, ConfigError("gefyra.yaml:5:3: unknown key 'imagee'"), _config("2"))
    loop, events = _loop(engine)
    loop._act([Trigger("config", path="gefyra.yaml")])
    errors = [e for e in events if e.event == "watch_error"]
    assert errors and errors[0].error == "gefyra.yaml:5:3: unknown key 'imagee'"
    assert engine.applied[-1][0] is good  # still applied: drift of the last good state is repaired
    loop._act([Trigger("config", path="gefyra.yaml")])
    assert engine.applied[-1][0].containers["api"].env == {"V": "2"}


def test_quiet_applies_are_not_reported() -> None:
    engine = Engine(_config())
    loop, events = _loop(engine)
    loop._act([Trigger("drift")])
    assert [e.event for e in events] == []  # no watch_triggered for drift, no plan without changes
    engine.recreate = ["api"]
    loop._act([Trigger("drift")])
    assert [e.event for e in events] == ["plan"]


def test_an_engine_failure_is_reported_and_watch_goes_on() -> None:
    class Broken(Engine):
        def apply(self, config, request):
            raise ConnectionError("engine went away")

    loop, events = _loop(Broken(_config()))
    loop._act([Trigger("drift")])
    assert [(e.event, e.error) for e in events] == [("watch_error", "ConnectionError: engine went away")]


def test_drift_repairs_of_a_container_back_off_exponentially_and_an_edit_resets() -> None:
    class Crashing(Engine):
        """`api` is found exited on every tick it is not held."""

        def apply(self, config, request):
            self.applied.append((config, request))
            self.holds.append(request.hold)
            return outcome([] if ResourceKey("container", "api") in request.hold else ["api"])

    engine = Crashing(_config())
    engine.holds = []
    now = [0.0]
    events: list[Event] = []
    loop = WatchLoop(BASE / "gefyra.yaml", engine, emit=events.append, clock=lambda: now[0], subscribe=None)
    assert loop.settings == WatchSettings()
    repairs = []
    for second in range(0, 40):
        now[0] = float(second)
        loop._act([Trigger("drift")])
        if not engine.holds[-1]:
            repairs.append(second)
    assert repairs == [0, 5, 15, 35]  # waits 5 s, 10, 20, ...
    assert any("next repair not before 20s" in (e.message or "") for e in events)
    loop._act([Trigger("restart", container="api", path="x")])  # the user touched it: repair at once
    assert not engine.holds[-1]


def test_each_notice_is_emitted_once_per_watch() -> None:
    engine = Engine(_config())
    engine.notices = (Notice(code="risky-mount", message="gefyra.yaml:5:9: /etc is mounted"),)
    loop, events = _loop(engine)
    loop._act([])
    loop._act([Trigger("drift")])
    engine.notices += (Notice(code="other", message="something else"),)
    loop._act([Trigger("drift")])
    shown = [(e.event, e.message, e.data) for e in events if e.event == "notice"]
    assert shown == [
        ("notice", "gefyra.yaml:5:9: /etc is mounted", {"code": "risky-mount"}),
        ("notice", "something else", {"code": "other"}),
    ]


def test_containers_due_for_a_restart_restart_together() -> None:
    engine = Engine(_config())
    loop, events = _loop(engine)
    loop._act([Trigger("restart", "api", "src/a.py"), Trigger("restart", "web", "web/x")])
    assert engine.restarted == ["api", "web"]  # one call: the engine restarts them at the same time
    assert [e.address for e in events if e.message == "restarted"] == ["container/api", "container/web"]


def test_watch_ready_follows_the_first_apply() -> None:
    """A tool driving watch (the demo, an editor) knows from `watch_ready` that edits are seen from now on."""
    engine = Engine(_config())
    loop, events = _loop(engine)
    applied_before_ready: list[int] = []

    def first_apply(config, request: ApplyRequest) -> ApplyOutcome:
        applied_before_ready.append(len(engine.applied))
        loop.stop.set()  # one round is enough: run() returns after the first apply
        return Engine.apply(engine, config, request)

    engine.apply = first_apply  # type: ignore[method-assign]
    loop.run()
    names = [e.event for e in events]
    assert names[0] == "watch_started" and names[-1] == "watch_ready", names
    assert applied_before_ready == [0] and len(engine.applied) == 1

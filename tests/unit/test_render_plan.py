"""Plan renderers: golden text with every symbol, the JSON shape (with notices)."""

from __future__ import annotations

import json

from gefyra.model.resources import Observed, Resource, ResourceKey
from gefyra.planning.plan import Notice
from gefyra.planning.planner import plan
from gefyra.render.plan_json import FORMAT_VERSION, plan_to_dict
from gefyra.render.plan_text import render, summary

NET = ResourceKey("network", "default")
OK = Observed(status="running", healthy=True)


def _mixed_plan():
    def c(name, spec, **kw):
        return Resource(kind="container", name=name, spec=spec, depends_on=(NET,), **kw)

    net = Resource(kind="network", name="default", spec={"subnet": "auto"})
    desired = [
        net,
        c("api", {"image": "api:1", "env": {"GREETING": "hello", "NEW": "x"}, "ports": [8080]}),
        c("web", {"image": "web", "note": "b"}, mutable=("note",)),
        c("worker", {"image": "w", "args": ["run", "--a-very-long-argument-list", "x" * 80]}),
    ]
    actual = [
        net.model_copy(update={"observed": OK}),
        c("api", {"image": "api:1", "env": {"GREETING": "hi", "OLD": "y"}, "ports": [8080]}).model_copy(
            update={"observed": OK}
        ),
        c("web", {"image": "web", "note": "a"}, mutable=("note",)).model_copy(update={"observed": OK}),
        c("zombie", {"image": "z"}).model_copy(update={"observed": OK}),
    ]
    return plan("demo", desired, actual)


GOLDEN = """gefyra will change project demo:

-/+ container/api     env.GREETING changed, env.NEW added, env.OLD removed
        ~ env.GREETING: "hi" => "hello"
        + env.NEW: "x"
        - env.OLD: "y"
  ~ container/web     (update in place) note changed
        ~ note: "a" => "b"
  + container/worker  not present
  - container/zombie  not in gefyra.yaml

Plan: 1 to add, 1 to update, 1 to replace, 1 to destroy."""


def test_plan_text_is_golden() -> None:
    assert render(_mixed_plan()) == GOLDEN


def test_no_changes_is_one_line() -> None:
    assert render(plan("demo", [], [])) == "No changes."


def test_summary_without_updates_has_the_short_form() -> None:
    result = plan("demo", [Resource(kind="network", name="default", spec={})], [])
    assert summary(result) == "Plan: 1 to add, 0 to replace, 0 to destroy."


def test_long_values_are_shortened() -> None:
    want = Resource(kind="x", name="y", spec={"v": "a" * 100})
    have = Resource(kind="x", name="y", spec={"v": "b"}, observed=OK)
    line = render(plan("demo", [want], [have])).splitlines()[3]
    assert line.endswith("...") and len(line.strip()) < 90


def test_plan_json_shape() -> None:
    data = json.loads(json.dumps(plan_to_dict(_mixed_plan())))
    assert data["format_version"] == FORMAT_VERSION
    assert data["has_changes"] is True
    assert data["summary"] == {"add": 1, "update": 1, "replace": 1, "destroy": 1, "unchanged": 1}
    api = next(change for change in data["changes"] if change["address"] == "container/api")
    assert api["action"] == "replace"
    assert api["diff"][0] == {"path": "env.GREETING", "change": "changed", "before": "hi", "after": "hello"}
    assert [step["id"] for step in data["steps"]][:2] == ["delete:container/api", "delete:container/zombie"]


def test_plan_json_carries_the_notices() -> None:
    notice = Notice(code="cluster-ignored", message="the `cluster:` section is ignored: ...")
    data = plan_to_dict(plan("demo", [], [], notices=[notice]))
    assert data["notices"] == [
        {"code": "cluster-ignored", "message": "the `cluster:` section is ignored: ..."}
    ]
    assert plan_to_dict(_mixed_plan())["notices"] == []


def test_colours_only_touch_symbols_and_the_summary() -> None:
    from gefyra.render.plan_text import colorize

    coloured = colorize(GOLDEN)
    assert "\x1b[33m-/+\x1b[0m container/api" in coloured
    assert "        \x1b[33m~\x1b[0m env.GREETING" in coloured
    assert "  \x1b[31m-\x1b[0m container/zombie" in coloured
    assert "\x1b[1mPlan: 1 to add, 1 to update, 1 to replace, 1 to destroy.\x1b[0m" in coloured
    assert __import__("re").sub(r"\x1b\[[0-9;]*m", "", coloured) == GOLDEN

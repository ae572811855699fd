"""Planner cases as data: desired + actual -> expected plan text and step DAG. No I/O."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from gefyra.errors import PlanError
from gefyra.model.resources import Observed, Resource, ResourceKey
from gefyra.planning.planner import plan
from gefyra.render.plan_text import render

NET = ResourceKey("network", "default")
RUNNING = Observed(status="running", healthy=True)


def net(subnet: str = "auto", **kw) -> Resource:
    return Resource(kind="network", name="default", spec={"subnet": subnet}, **kw)


def ctr(name: str, env: dict | None = None, **kw) -> Resource:
    kw.setdefault("depends_on", (NET,))
    return Resource(kind="container", name=name, spec={"image": "img", "env": env or {}}, **kw)


def seen(resource: Resource, observed: Observed = RUNNING) -> Resource:
    return resource.model_copy(update={"observed": observed})


@dataclass
class Case:
    id: str
    desired: list[Resource]
    actual: list[Resource]
    text: str
    steps: list[str]  # "id <- dep, dep"
    force: dict = field(default_factory=dict)


CASES = [
    Case("nothing", [], [], "No changes.", []),
    Case(
        "from-zero",
        [net(), ctr("b"), ctr("a")],
        [],
        """gefyra will change project p:

  + network/default  not present
  + container/a      not present
  + container/b      not present

Plan: 3 to add, 0 to replace, 0 to destroy.""",
        [
            "create:network/default <- ",
            "create:container/a <- create:network/default",
            "create:container/b <- create:network/default",
        ],
    ),
    Case("unchanged", [net(), ctr("a")], [seen(net()), seen(ctr("a"))], "No changes.", []),
    Case(
        "env-change-replaces-only-that-container",
        [net(), ctr("a", {"X": "2"}), ctr("b")],
        [seen(net()), seen(ctr("a", {"X": "1"})), seen(ctr("b"))],
        """gefyra will change project p:

-/+ container/a  env.X changed
        ~ env.X: "1" => "2"

Plan: 0 to add, 1 to replace, 0 to destroy.""",
        ["delete:container/a <- ", "create:container/a <- delete:container/a"],
    ),
    Case(
        "removed-is-deleted",
        [net(), ctr("a")],
        [seen(net()), seen(ctr("a")), seen(ctr("gone"))],
        """gefyra will change project p:

  - container/gone  not in gefyra.yaml

Plan: 0 to add, 0 to replace, 1 to destroy.""",
        ["delete:container/gone <- "],
    ),
    Case(
        "rename-is-delete-and-create",
        [net(), ctr("new")],
        [seen(net()), seen(ctr("old"))],
        """gefyra will change project p:

  + container/new  not present
  - container/old  not in gefyra.yaml

Plan: 1 to add, 0 to replace, 1 to destroy.""",
        ["delete:container/old <- ", "create:container/new <- delete:container/old"],
    ),
    Case(
        "stopped-by-hand-is-replaced",
        [net(), ctr("a")],
        [seen(net()), seen(ctr("a"), Observed(status="exited", healthy=False, detail="Exited (137) 2s ago"))],
        """gefyra will change project p:

-/+ container/a  container is exited: Exited (137) 2s ago

Plan: 0 to add, 1 to replace, 0 to destroy.""",
        ["delete:container/a <- ", "create:container/a <- delete:container/a"],
    ),
    Case(
        "network-replace-cascades-in-order",
        [net("10.0.0.0/24"), ctr("a")],
        [seen(net("10.0.1.0/24")), seen(ctr("a"))],
        """gefyra will change project p:

-/+ network/default  subnet changed
        ~ subnet: "10.0.1.0/24" => "10.0.0.0/24"
-/+ container/a      network/default is recreated

Plan: 0 to add, 2 to replace, 0 to destroy.""",
        [
            "delete:container/a <- ",
            "delete:network/default <- delete:container/a",
            "create:network/default <- delete:container/a, delete:network/default",
            "create:container/a <- create:network/default, delete:container/a, delete:network/default",
        ],
    ),
    Case(
        "network-replace-still-shows-the-containers-own-diff",
        [net("10.0.0.0/24"), ctr("a", {"X": "2"})],
        [seen(net("10.0.1.0/24")), seen(ctr("a", {"X": "1"}))],
        """gefyra will change project p:

-/+ network/default  subnet changed
        ~ subnet: "10.0.1.0/24" => "10.0.0.0/24"
-/+ container/a      network/default is recreated; env.X changed
        ~ env.X: "1" => "2"

Plan: 0 to add, 2 to replace, 0 to destroy.""",
        [
            "delete:container/a <- ",
            "delete:network/default <- delete:container/a",
            "create:network/default <- delete:container/a, delete:network/default",
            "create:container/a <- create:network/default, delete:container/a, delete:network/default",
        ],
    ),
    Case(
        "down-deletes-in-reverse-dependency-order",
        [],
        [seen(net()), seen(ctr("a")), seen(ctr("b"))],
        """gefyra will change project p:

  - network/default  not in gefyra.yaml
  - container/a      not in gefyra.yaml
  - container/b      not in gefyra.yaml

Plan: 0 to add, 0 to replace, 3 to destroy.""",
        [
            "delete:container/a <- ",
            "delete:container/b <- ",
            "delete:network/default <- delete:container/a, delete:container/b",
        ],
    ),
    Case(
        "mutable-field-is-an-update",
        [Resource(kind="thing", name="t", spec={"a": 1, "note": "new"}, mutable=("note",))],
        [seen(Resource(kind="thing", name="t", spec={"a": 1, "note": "old"}, mutable=("note",)))],
        """gefyra will change project p:

  ~ thing/t  (update in place) note changed
        ~ note: "old" => "new"

Plan: 0 to add, 1 to update, 0 to replace, 0 to destroy.""",
        ["update:thing/t <- "],
    ),
    Case(
        "create-first-policy-creates-before-destroying",
        [Resource(kind="thing", name="t", spec={"a": 2}, replace_policy="create_first")],
        [seen(Resource(kind="thing", name="t", spec={"a": 1}, replace_policy="create_first"))],
        """gefyra will change project p:

-/+ thing/t  a changed
        ~ a: 1 => 2

Plan: 0 to add, 1 to replace, 0 to destroy.""",
        ["create:thing/t <- ", "delete:thing/t <- create:thing/t"],
    ),
    Case(
        "forced-replace-names-its-cause",
        [net(), ctr("a")],
        [seen(net()), seen(ctr("a"))],
        """gefyra will change project p:

-/+ container/a  watch: src/app.py changed (rebuild)

Plan: 0 to add, 1 to replace, 0 to destroy.""",
        ["delete:container/a <- ", "create:container/a <- delete:container/a"],
        force={ResourceKey("container", "a"): "watch: src/app.py changed (rebuild)"},
    ),
    Case(
        "after-orders-without-cascading",
        [net("10.0.0.0/24"), Resource(kind="x", name="y", spec={}, after=(NET,))],
        [seen(net("10.0.1.0/24")), seen(Resource(kind="x", name="y", spec={}))],
        """gefyra will change project p:

-/+ network/default  subnet changed
        ~ subnet: "10.0.1.0/24" => "10.0.0.0/24"

Plan: 0 to add, 1 to replace, 0 to destroy.""",
        ["delete:network/default <- ", "create:network/default <- delete:network/default"],
    ),
    Case(
        "duplicate-actual-copies-are-deleted",
        [net()],
        [seen(net()), seen(net())],
        """gefyra will change project p:

  - network/default  another copy with the same labels

Plan: 0 to add, 0 to replace, 1 to destroy.""",
        ["delete:network/default#2 <- "],
    ),
]


def _steps(result) -> list[str]:
    return [f"{step.id} <- {', '.join(step.depends_on)}" for step in result.steps]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_plan_case(case: Case) -> None:
    result = plan("p", case.desired, case.actual, force_replace=case.force)
    assert _steps(result) == case.steps
    assert render(result) == case.text


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_plan_does_not_depend_on_input_order(case: Case) -> None:
    first = plan("p", case.desired, case.actual, force_replace=case.force)
    for desired in itertools.islice(itertools.permutations(case.desired), 6):
        again = plan("p", list(desired), list(reversed(case.actual)), force_replace=case.force)
        if (
            case.id != "duplicate-actual-copies-are-deleted"
        ):  # which copy is "the" one depends on provider order
            assert again == first


def test_unchanged_resources_are_listed_as_such() -> None:
    result = plan("p", [net(), ctr("a")], [seen(net()), seen(ctr("a"))])
    assert [(str(c.key), c.action.value) for c in result.changes] == [
        ("network/default", "unchanged"),
        ("container/a", "unchanged"),
    ]


def test_dependency_cycle_is_a_plan_error() -> None:
    a = Resource(kind="x", name="a", spec={}, depends_on=(ResourceKey("x", "b"),))
    b = Resource(kind="x", name="b", spec={}, depends_on=(ResourceKey("x", "a"),))
    with pytest.raises(PlanError, match="cycle between x/a, x/b"):
        plan("p", [a, b], [])


def test_dependency_on_an_unknown_resource_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="container/a depends on network/default"):
        plan("p", [ctr("a")], [])


def test_same_resource_desired_twice_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="desired twice"):
        plan("p", [net(), net()], [])


def test_hash_differs_without_recorded_spec_says_so() -> None:
    actual = seen(Resource(kind="network", name="default", spec={}, spec_hash="sha256:old"))
    result = plan("p", [net()], [actual])
    assert result.changes[0].cause == "subnet added"


def test_many_changed_fields_are_summarised() -> None:
    want = Resource(kind="x", name="y", spec={f"f{i}": i for i in range(6)})
    have = seen(Resource(kind="x", name="y", spec={f"f{i}": -i - 1 for i in range(6)}))
    assert plan("p", [want], [have]).changes[0].cause == (
        "f0 changed, f1 changed, f2 changed, f3 changed and 2 more"
    )


def test_status_is_derived_from_the_plan() -> None:
    from gefyra.planning.status import status_of

    exited = Observed(status="exited", healthy=False, detail="Exited (1)")
    actual = [
        seen(net()),
        seen(ctr("a"), exited),
        seen(ctr("c", {"X": "1"})),
        seen(ctr("old")),
        seen(ctr("ok")),
    ]
    desired = [net(), ctr("a"), ctr("b"), ctr("c", {"X": "2"}), ctr("ok")]
    report = status_of(plan("p", desired, actual), actual)
    states = {item.name: (item.state, item.healthy, item.detail) for item in report.resources}
    assert states == {
        "default": ("running", True, ""),
        "a": ("exited", False, "Exited (1)"),
        "b": ("missing", False, "not present; `gefyra apply` creates it"),
        "c": ("drifted", False, "env.X changed"),
        "old": ("not-in-config", False, "no longer in gefyra.yaml; `gefyra apply` removes it"),
        "ok": ("running", True, ""),
    }
    assert not report.healthy


def test_observed_drift_plans_an_update_in_place_with_the_facts_as_cause() -> None:
    drifted = Observed(status="running", healthy=True, drift=("container/a is not routed through Cargo",))
    result = plan("p", [net()], [seen(net(), drifted)])
    change = result.changes[0]
    assert (change.action.value, change.cause) == ("update", "container/a is not routed through Cargo")
    assert [step.id for step in result.steps] == ["update:network/default"]


def test_observed_drift_joins_a_mutable_field_diff_in_the_cause() -> None:
    drifted = Observed(status="running", healthy=True, drift=("route missing",))
    want = net(mutable=("subnet",))
    have = seen(net("10.0.0.0/24", mutable=("subnet",)), drifted)
    assert plan("p", [want], [have]).changes[0].cause == "subnet changed; route missing"

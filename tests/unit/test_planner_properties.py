"""Properties of the planner over random worlds (hypothesis): executing the steps in their listed order
turns the
actual state into the desired one, respects dependencies both ways, and a second plan is empty."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gefyra.model.resources import Observed, Resource, ResourceKey
from gefyra.planning.plan import Plan
from gefyra.planning.planner import plan

NET = ResourceKey("network", "default")
NAMES = ["a", "b", "c", "d", "e"]

network = st.builds(
    lambda subnet: Resource(kind="network", name="default", spec={"subnet": subnet}),
    st.sampled_from(["auto", "10.0.0.0/24"]),
)


@st.composite
def containers(draw, with_network: bool) -> list[Resource]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=5))
    result = []
    for name in names:
        after = tuple(
            ResourceKey("container", other) for other in names if other < name and draw(st.booleans())
        )
        result.append(
            Resource(
                kind="container",
                name=name,
                spec={"env": {"V": draw(st.sampled_from(["1", "2"]))}},
                depends_on=(NET,) if with_network else (),
                after=after,
            )
        )
    return result


@st.composite
def worlds(draw) -> tuple[list[Resource], list[Resource]]:
    desired = [draw(network)] + draw(containers(True))
    actual = []
    if draw(st.booleans()):
        actual.append(draw(network))
    for resource in draw(containers(True)):
        healthy = draw(st.booleans()) or draw(st.booleans())
        actual.append(resource.model_copy(update={"observed": Observed(status="x", healthy=healthy)}))
    if not any(r.key == NET for r in actual):
        actual = [r.evolve(depends_on=()) for r in actual]  # containers of a network deleted by hand
    return desired, actual


def _execute(result: Plan, actual: list[Resource]) -> dict[ResourceKey, Resource]:
    world = {r.key: r for r in actual}
    done: set[str] = set()
    for step in result.steps:
        assert set(step.depends_on) <= done, f"{step.id} listed before its dependencies"
        if step.op == "delete":
            dependants = [r for r in world.values() if step.key in r.depends_on and r.key != step.key]
            assert not dependants, f"{step.id} while {dependants[0].key} still depends on it"
            world.pop(step.key, None)
        else:
            missing = [dep for dep in step.resource.depends_on + step.resource.after if dep not in world]
            assert not missing, f"{step.id} before {missing[0]} exists"
            world[step.key] = step.resource.model_copy(
                update={"observed": Observed(status="x", healthy=True)}
            )
        done.add(step.id)
    return world


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_executing_the_plan_reaches_the_desired_state(world) -> None:
    desired, actual = world
    result = plan("p", desired, actual)
    reached = _execute(result, actual)
    assert {k: r.spec_hash for k, r in reached.items()} == {r.key: r.spec_hash for r in desired}
    again = plan("p", desired, list(reached.values()))
    assert not again.has_changes


@settings(max_examples=100, deadline=None)
@given(worlds())
def test_plans_are_deterministic(world) -> None:
    desired, actual = world
    assert plan("p", desired, actual) == plan("p", list(reversed(desired)), list(reversed(actual)))

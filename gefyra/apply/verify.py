"""After an interruption: which unfinished steps did take effect? Pure: the plan that ran, and a plan made
from a new observation of the world.

  delete  the object it removes (by engine id) is gone
  create  the resource is up to date now, and (for a replace) it is a new object, not the old one
  update  the resource is up to date now
"""

from __future__ import annotations

from collections.abc import Sequence

from gefyra.model.resources import Resource, ResourceKey
from gefyra.planning.plan import Action, Plan, Step


def settled(ran: Plan, unfinished: Sequence[Step], fresh: Plan, actual: Sequence[Resource]) -> frozenset[str]:
    """Ids of the `unfinished` steps of `ran` whose effect exists, given `fresh` (planned without forced
    replaces from a new observation) and the `actual` resources of that observation."""
    refs = {resource.observed.ref for resource in actual if resource.observed is not None}
    current = {resource.key: _ref(resource) for resource in actual}
    up_to_date = {change.key for change in fresh.changes if change.action is Action.UNCHANGED}
    replaced = _removed_refs(ran)
    done: set[str] = set()
    for step in unfinished:
        if step.op == "delete":
            effect = _ref(step.resource) not in refs
        elif step.op == "create":
            old = replaced.get(step.key)
            effect = step.key in up_to_date and (old is None or current.get(step.key) != old)
        else:
            effect = step.key in up_to_date
        if effect:
            done.add(step.id)
    return frozenset(done)


def _ref(resource: Resource) -> str:
    return resource.observed.ref if resource.observed is not None else ""


def _removed_refs(plan: Plan) -> dict[ResourceKey, str]:
    """Engine ids of the objects the plan's delete steps remove, by key (the old copy of a replace)."""
    return {
        step.key: _ref(step.resource) for step in plan.steps if step.op == "delete" and "#" not in step.id
    }

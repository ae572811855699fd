"""A Plan as JSON (`gefyra plan -o json`, the `plan` event). Versioned: fields are only ever added."""

from __future__ import annotations

from typing import Any

from gefyra.model.resources import ResourceKey
from gefyra.planning.plan import Action, Change, FieldDiff, Plan

FORMAT_VERSION = 1


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "project": plan.project,
        "has_changes": plan.has_changes,
        "summary": {
            "add": plan.count(Action.CREATE),
            "update": plan.count(Action.UPDATE),
            "replace": plan.count(Action.REPLACE),
            "destroy": plan.count(Action.DELETE),
            "unchanged": plan.count(Action.UNCHANGED),
        },
        "changes": [
            {
                "address": str(change.key),
                "kind": change.key.kind,
                "name": change.key.name,
                "action": change.action.value,
                "cause": change.cause,
                "diff": [item.model_dump(mode="json") for item in change.diff],
            }
            for change in plan.changes
        ],
        "steps": [
            {"id": step.id, "op": step.op, "address": str(step.key), "depends_on": list(step.depends_on)}
            for step in plan.steps
        ],
    }


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """The changes of a plan JSON as a Plan (without steps), for rendering a `plan` event as text."""
    changes = tuple(
        Change(
            key=ResourceKey(item["kind"], item["name"]),
            action=Action(item["action"]),
            cause=item["cause"],
            diff=tuple(FieldDiff(**diff) for diff in item.get("diff", ())),
        )
        for item in data.get("changes", ())
    )
    return Plan(project=data.get("project", ""), changes=changes)

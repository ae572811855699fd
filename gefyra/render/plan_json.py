"""A Plan as JSON (`gefyra plan -o json`, the `plan` event). Versioned: fields are only ever added."""

from __future__ import annotations

from pydantic import JsonValue

from gefyra.planning.plan import Action, Plan

FORMAT_VERSION = 1


def plan_to_dict(plan: Plan) -> dict[str, JsonValue]:
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
                "summary": change.summary,
                "diff": [item.model_dump(mode="json") for item in change.diff],
            }
            for change in plan.changes
        ],
        "steps": [
            {"id": step.id, "op": step.op, "address": str(step.key), "depends_on": list(step.depends_on)}
            for step in plan.steps
        ],
        "notices": [{"code": notice.code, "message": notice.message} for notice in plan.notices],
    }

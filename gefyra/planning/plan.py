"""The Plan: what changes per resource (Change, for people) and the steps that make it so (Step, a DAG for the
executor).

A replace is one Change but two Steps (`delete:` and `create:` of the same key), so that deletes can go in
reverse dependency order and creates in dependency order even when a whole chain is replaced.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gefyra.model.resources import Resource, ResourceKey


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    UNCHANGED = "unchanged"


class FieldDiff(BaseModel):
    """One differing spec field; `path` is dotted (env.FOO). before/after are None when absent."""

    model_config = ConfigDict(frozen=True)

    path: str
    change: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


class Change(BaseModel):
    """What happens to one resource, and why."""

    model_config = ConfigDict(frozen=True)

    key: ResourceKey
    action: Action
    cause: str
    diff: tuple[FieldDiff, ...] = ()


class Step(BaseModel):
    """One executable node of the plan DAG. `resource` is the desired resource (create, update) or the
    actual one
    (delete); `previous` is the actual one for update. `options` carry instructions such as {"rebuild":
    true}."""

    model_config = ConfigDict(frozen=True)

    id: str
    op: Literal["create", "delete", "update"]
    key: ResourceKey
    action: Action
    depends_on: tuple[str, ...] = ()
    resource: Resource
    previous: Resource | None = None
    options: dict[str, Any] = {}


class Plan(BaseModel):
    """Changes (in display order, unchanged ones included) and steps (a DAG, listed in a topological
    order)."""

    model_config = ConfigDict(frozen=True)

    project: str
    changes: tuple[Change, ...] = ()
    steps: tuple[Step, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)

    @property
    def has_changes(self) -> bool:
        return bool(self.steps) or any(change.action is not Action.UNCHANGED for change in self.changes)

    def __str__(self) -> str:
        lines = [f"{step.id} <- {', '.join(step.depends_on) or '-'}" for step in self.steps]
        return "\n".join(lines) if lines else "no steps"

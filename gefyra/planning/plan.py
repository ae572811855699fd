"""The Plan: what changes per resource (Change, for people) and the steps that make it so (Step, a DAG for the
executor).

A replace is one Change but two Steps (`delete:` and `create:` of the same key), so that deletes can go in
reverse dependency order and creates in dependency order even when a whole chain is replaced.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue

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
    before: JsonValue = None
    after: JsonValue = None


class Change(BaseModel):
    """What happens to one resource, and why."""

    model_config = ConfigDict(frozen=True)

    key: ResourceKey
    action: Action
    cause: str
    diff: tuple[FieldDiff, ...] = ()
    summary: str = ""  # the resource's one line for people (Resource.summary), "" when it gives none


class StepOptions(BaseModel):
    """Instructions for a step beyond the plan itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rebuild: bool = False  # build the image again even when its tag exists (watch `rebuild`)


class Notice(BaseModel):
    """Something the user should know about a plan that is not a change: e.g. a mount beyond the project
    folder. Shown once on stderr (text) or as `notices` in JSON; never fails the command."""

    model_config = ConfigDict(frozen=True)

    code: str  # stable, for scripts: "risky-mount", ...
    message: str


class Step(BaseModel):
    """One executable node of the plan DAG. `resource` is the desired resource (create, update) or the
    actual one (delete); `previous` is the actual one for update."""

    model_config = ConfigDict(frozen=True)

    id: str
    op: Literal["create", "delete", "update"]
    key: ResourceKey
    action: Action
    depends_on: tuple[str, ...] = ()
    resource: Resource
    previous: Resource | None = None
    options: StepOptions = StepOptions()


class Plan(BaseModel):
    """Changes (in display order, unchanged ones included) and steps (a DAG, listed in a topological
    order)."""

    model_config = ConfigDict(frozen=True)

    project: str
    changes: tuple[Change, ...] = ()
    steps: tuple[Step, ...] = ()
    notices: tuple[Notice, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)

    @property
    def has_changes(self) -> bool:
        return bool(self.steps) or any(change.action is not Action.UNCHANGED for change in self.changes)

    def __str__(self) -> str:
        lines = [f"{step.id} <- {', '.join(step.depends_on) or '-'}" for step in self.steps]
        return "\n".join(lines) if lines else "no steps"

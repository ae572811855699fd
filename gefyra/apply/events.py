"""Events the executor and watch emit; renderers show them (text for people, NDJSON for machines)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gefyra.planning.plan import Notice, Plan

FORMAT_VERSION = 1

EventType = Literal[
    "plan",  # `plan`: the Plan itself (for renderers); data: the plan as JSON (plan_json) for NDJSON
    "notice",  # something to know that is not a change (message; data.code); watch emits each one once
    "apply_started",
    "step_started",
    "step_succeeded",
    "step_failed",
    "step_skipped",  # a dependency failed
    "step_cancelled",  # interrupted before it started, or abandoned and its effect not found afterwards
    "apply_finished",  # data: counts per outcome (after an interruption: as observed in the world)
    "watch_started",
    "watch_ready",  # the first apply is done and the file watchers run: edits from now on are seen
    "watch_triggered",  # data: reasons (paths, drift)
    "watch_error",  # an invalid edit or a failed apply; the last good state keeps running
    "watch_ended",  # the watch stops by itself (`gefyra down` of its project)
    "log",  # a provider message worth showing (image built, subnet chosen)
]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Event(BaseModel):
    """One NDJSON line: {"format_version": 1, "event": ..., "time": ..., ...}."""

    model_config = ConfigDict(frozen=True)

    format_version: int = FORMAT_VERSION
    event: EventType
    time: str = Field(default_factory=_now)
    project: str = ""
    step: str | None = None  # step id, e.g. "create:container/api"
    op: str | None = None  # create | delete | update
    action: str | None = None  # create | replace | delete | update (the change the step belongs to)
    address: str | None = None  # kind/name
    message: str = ""
    duration_s: float | None = None
    error: str | None = None
    data: dict[str, JsonValue] = {}
    plan: Plan | None = Field(default=None, exclude=True)  # the `plan` event's Plan, never serialised

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


EventSink = Callable[[Event], None]


def discard(event: Event) -> None:
    """An EventSink that drops everything."""


def notice_event(project: str, notice: Notice) -> Event:
    return Event(event="notice", project=project, message=notice.message, data={"code": notice.code})


class Stopwatch:
    """Monotonic seconds since creation (for duration_s)."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def elapsed(self) -> float:
        return round(time.monotonic() - self._start, 3)

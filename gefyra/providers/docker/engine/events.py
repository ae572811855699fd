"""The engine's event stream (`GET /events`, `docker events`), typed: what happened to which object, as it
happens. For reacting to a container that died, was removed, renamed or disconnected without waiting for
a polling tick (the watch loop's trigger)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from gefyra.model import labels as label_keys
from gefyra.providers.errors import EngineError

# Container actions that change what a plan would say (a start by gefyra itself is not among them).
DRIFT_ACTIONS = frozenset({"die", "destroy", "stop", "kill", "oom", "pause", "rename", "health_status"})
NETWORK_DRIFT_ACTIONS = frozenset({"disconnect"})


def _or_empty(value: object) -> object:
    return {} if value is None else value


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    id: str = Field("", alias="ID")
    attributes: Annotated[dict[str, str], BeforeValidator(_or_empty)] = Field({}, alias="Attributes")


class EngineEvent(BaseModel):
    """One event. `action` may carry detail after a colon (`health_status: unhealthy`); `kind` is the
    object type (container, network, image, ...)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    kind: str = Field("", alias="Type")
    action: str = Field("", alias="Action")
    actor: Actor = Field(Actor(), alias="Actor")
    time_nano: int = Field(0, alias="timeNano")

    @property
    def verb(self) -> str:
        """The action without its detail: `health_status: unhealthy` -> `health_status`."""
        return self.action.split(":", 1)[0].strip()

    @property
    def project(self) -> str:
        """The gefyra project of the object (its labels are among a container's attributes)."""
        return self.actor.attributes.get(label_keys.PROJECT, "")

    @property
    def drift(self) -> bool:
        """Whether this event may make the world differ from the last plan (see DRIFT_ACTIONS)."""
        if self.kind == "container":
            return self.verb in DRIFT_ACTIONS and self.action != "health_status: healthy"
        return self.kind == "network" and self.verb in NETWORK_DRIFT_ACTIONS


class RawStream(Protocol):
    """The SDK's cancellable stream of decoded events."""

    def __iter__(self) -> Iterator[object]: ...
    def close(self) -> None: ...


class EventStream:
    """Typed events as they come; iterate in one thread, `close()` from any other to end the iteration
    (it then ends quietly). Engine errors while reading are gefyra's (`translated`)."""

    def __init__(self, raw: RawStream, translated: Callable[[], AbstractContextManager[None]]) -> None:
        self._raw = raw
        self._translated = translated
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[EngineEvent]:
        try:
            with self._translated():
                for item in self._raw:
                    yield EngineEvent.model_validate(item)
        except EngineError:
            if not self._closed.is_set():
                raise

    def close(self) -> None:
        self._closed.set()
        self._raw.close()


PROJECT_FILTERS = {"type": ["container", "network"]}  # what `project_events` asks the engine for


def belongs(event: EngineEvent, project: str, networks: Iterable[str]) -> bool:
    """Whether `event` concerns the project: a container labelled with it, or one of its networks (network
    events carry no labels, only the network's name; the engine ANDs filters of different keys, so one
    stream cannot ask for "this label or these networks": the stream asks for both types and this
    narrows)."""
    if event.kind == "container":
        return event.project == project
    return event.kind == "network" and event.actor.attributes.get("name", "") in set(networks)


class ProjectEvents:
    """The events of one project that may be drift (`EngineEvent.drift`, `belongs`), as they happen;
    iterate in one thread, `close()` from any other."""

    def __init__(self, stream: EventStream, project: str, networks: Iterable[str]) -> None:
        self._stream, self.project, self.networks = stream, project, list(networks)

    def __iter__(self) -> Iterator[EngineEvent]:
        for event in self._stream:
            if event.drift and belongs(event, self.project, self.networks):
                yield event

    def close(self) -> None:
        self._stream.close()

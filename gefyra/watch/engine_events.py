"""The engine's events of the project (a container of it died, was removed or renamed, its network lost a
container) as drift triggers, from a daemon thread: watch repairs at once instead of at the next drift tick
(which stays as the safety net, e.g. while the engine cannot be reached).

Containers that gefyra itself is retiring during a replace (providers/docker/retire.py) are no drift.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Protocol

from gefyra.model import labels
from gefyra.providers.docker.engine import EngineEvent
from gefyra.providers.docker.retire import RETIRED_MARK

RETRY_S = 2.0  # after the stream broke (engine restart, ...): subscribe again this much later


class DriftStream(Protocol):
    """Drift events of one project as they happen; iterate in one thread, `close()` from another."""

    def __iter__(self) -> Iterator[EngineEvent]: ...
    def close(self) -> None: ...


Subscribe = Callable[[str], DriftStream]  # project -> its drift events from now on


def engine_subscribe(project: str) -> DriftStream:
    """The project's drift events at the local engine (DOCKER_HOST), with its networks as they are now."""
    from gefyra.providers.docker.engine import Engine

    engine = Engine.from_env()
    networks = [net.name for net in engine.networks(labels=[labels.project_filter(project)])]
    return engine.project_events(project, networks)


def is_own_retirement(event: EngineEvent) -> bool:
    return RETIRED_MARK in event.actor.attributes.get("name", "")


class EngineEvents:
    """Calls `on_drift(event)` for each drift event of `project` until `stop()`; subscribes again after
    errors."""

    def __init__(
        self, project: str, on_drift: Callable[[EngineEvent], None], subscribe: Subscribe = engine_subscribe
    ) -> None:
        self.project = project
        self._on_drift = on_drift
        self._subscribe = subscribe
        self._stopped = threading.Event()
        self._stream: DriftStream | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="gefyra-watch-events")
        self.subscribed = threading.Event()  # set once the first subscription stands (tests wait for it)

    def start(self) -> EngineEvents:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                stream = self._subscribe(self.project)
            except Exception:  # noqa: BLE001 - no engine now: the drift tick covers it; try again later
                self._stopped.wait(RETRY_S)
                continue
            with self._lock:
                if self._stopped.is_set():
                    stream.close()
                    return
                self._stream = stream
            self.subscribed.set()
            try:
                for event in stream:
                    if not is_own_retirement(event):
                        self._on_drift(event)
            except Exception:  # noqa: BLE001 - as above: subscribe again
                pass
            self._stopped.wait(RETRY_S)

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
            stream = self._stream
        if stream is not None:
            stream.close()

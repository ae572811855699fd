"""Retiring an app container that is being replaced, overlapped with the start of its successor.

A container's name is fixed, so a replace is delete-then-create, and a force-remove of a running container
(kill, wait for the exit, release its network, delete its layer) takes hundreds of ms on a loaded engine.
When nothing but the name is shared with the successor, the old container is renamed out of the way and
removed in a background thread while the create step makes and starts the new one: the new container
answers that much sooner. The create step of the same resource waits for the removal at its end
(`settle`), and every Docker observation waits for all pending ones first (`settle_all`), so no snapshot
ever shows a retiring container.

When it is safe (`overlap`):
- full overlap: no host ports (the old one holds them until its cleanup) and no writable bind mount (two
  processes must never write one folder at once) and its own network namespace;
- writable mounts only: renamed and killed first (the kill waits for the exit), only the layer removal
  overlaps;
- otherwise (host ports, an infra namespace): no overlap, the caller removes synchronously.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from gefyra.model.dataplane_specs import AppSpec
from gefyra.model.resources import Resource
from gefyra.providers.docker.engine import Engine

RETIRED_MARK = ".retired-"  # a dot never occurs in an app name: no collision with a real container
SETTLE_TIMEOUT_S = 120.0

Overlap = Literal["full", "after_kill", "none"]

_lock = threading.Lock()
_pending: dict[tuple[str, str], _Removal] = {}  # (project, resource name) -> its running removal


class _Removal:
    def __init__(self, action: Callable[[], None]) -> None:
        self.error: Exception | None = None
        self._action = action
        self._thread = threading.Thread(target=self._run, daemon=True, name="gefyra-retire")

    def _run(self) -> None:
        try:
            self._action()
        except Exception as error:  # noqa: BLE001 - handed to whoever settles it
            self.error = error

    def start(self) -> _Removal:
        self._thread.start()
        return self

    def join(self, timeout: float) -> Exception | None:
        self._thread.join(timeout)
        return self.error


def overlap(spec: AppSpec) -> Overlap:
    """How much of the old container's removal may run beside its successor's start (module docstring)."""
    if spec.ports or spec.netns != "own":
        return "none"
    if any(not mount.read_only for mount in spec.mounts):
        return "after_kill"
    return "full"


def retired_name(docker_name: str, ref: str) -> str:
    return f"{docker_name}{RETIRED_MARK}{ref[:12]}"


def retire(
    engine: Engine, project: str, actual: Resource, docker_name: str, how: Overlap, remove: Callable[[], None]
) -> None:
    """Rename the container `actual` out of the way (kill it first with `after_kill`), then run `remove`
    (which removes it and what belongs to it) in the background until `settle`."""
    assert actual.observed is not None and how != "none"
    ref = actual.observed.ref
    engine.rename(ref, retired_name(docker_name, ref))
    if how == "after_kill":
        engine.stop(ref, timeout=0)
    removal = _Removal(remove).start()
    with _lock:
        _pending[(project, actual.name)] = removal


def settle(project: str, name: str, timeout: float = SETTLE_TIMEOUT_S) -> Exception | None:
    """Wait for the pending removal of `name`'s old container, if any; its error (None when it went)."""
    with _lock:
        removal = _pending.pop((project, name), None)
    return removal.join(timeout) if removal is not None else None


def settle_all(timeout: float = SETTLE_TIMEOUT_S) -> list[Exception]:
    """Wait for every pending removal (before an observation); the errors of those that failed."""
    with _lock:
        removals = list(_pending.values())
        _pending.clear()
    errors = [removal.join(timeout) for removal in removals]
    return [error for error in errors if error is not None]

"""Retiring an app container that is being replaced, off the path of its successor's start.

A container's name is fixed, so a replace is delete-then-create, and a force-remove of a running container
(kill, wait for the exit, release its network, delete its layer) takes hundreds of ms on a loaded engine.
Removing it while the successor starts does not help: both compete for the same engine (measured: the start
gets slower by as much). So, when it is safe, the delete step only renames the old container out of the
way, and the create step of the same resource removes it right after the new container started (`begin`,
in a thread, beside the start check), and waits for that at its end (`settle`). Every Docker observation
first finishes all pending removals (`settle_all`), so no snapshot ever shows a retiring container.

When it is safe (`overlap`):
- full: no host ports (the old one holds them until its cleanup), no writable bind mount (two processes
  must never write one folder at once), its own network namespace: the old one runs on until the new one
  started (its network aliases resolve to both for that moment);
- writable mounts only: renamed and killed first (the kill waits for the exit), the rest comes later;
- otherwise (host ports, an infra namespace): none, the delete step removes it as before.

An app in an infra container's namespace is replaced by its create step (container.py): the old app is
renamed and killed (the new one joins the same namespace and may bind the same ports), its removal runs
beside the new app's start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from gefyra.model.dataplane_specs import AppSpec
from gefyra.providers.docker.engine import Engine

RETIRED_MARK = ".retired-"  # a dot never occurs in an app name: no collision with a real container
SETTLE_TIMEOUT_S = 120.0

Overlap = Literal["full", "after_kill", "none"]

_lock = threading.Lock()
_pending: dict[tuple[str, str], _Removal] = {}  # (project, resource name) -> its running removal


class _Removal:
    """A removal that runs once, in a thread, when begun (or when settled without having begun)."""

    def __init__(self, action: Callable[[], None]) -> None:
        self.error: Exception | None = None
        self._action = action
        self._thread = threading.Thread(target=self._run, daemon=True, name="gefyra-retire")
        self._begun = threading.Lock()

    def _run(self) -> None:
        try:
            self._action()
        except Exception as error:  # noqa: BLE001 - handed to whoever settles it
            self.error = error

    def begin(self) -> None:
        if self._begun.acquire(blocking=False):
            self._thread.start()

    def join(self, timeout: float) -> Exception | None:
        self.begin()
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
    engine: Engine,
    project: str,
    name: str,
    ref: str,
    docker_name: str,
    how: Overlap,
    remove: Callable[[], None],
) -> None:
    """Rename container `ref` of resource `name` out of the way (and kill it with `after_kill`); `remove`
    (which removes it and what belongs to it) runs from `begin` or `settle` on."""
    assert how != "none"
    engine.rename(ref, retired_name(docker_name, ref))
    if how == "after_kill":
        engine.stop(ref, timeout=0)
    removal = _Removal(remove)
    with _lock:
        _pending[(project, name)] = removal


def begin(project: str, name: str) -> None:
    """Start removing `name`'s old container (its successor runs now), if there is one."""
    with _lock:
        removal = _pending.get((project, name))
    if removal is not None:
        removal.begin()


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

"""Waiting on one object's status through watch events (never a sleep loop), with progress callbacks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from gefyra.errors import ProviderError
from gefyra.providers.kube.boundary import Kube, KubeObject

T = TypeVar("T")
_WATCH_SLICE_S = 20  # one watch request at most this long; the deadline governs the whole wait


def wait_object(
    kube: Kube,
    kind: str,
    name: str,
    namespace: str,
    done: Callable[[KubeObject | None], T | None],
    *,
    timeout_s: float,
    what: str,
    progress: Callable[[KubeObject], None] | None = None,
) -> T:
    """Read the object, then follow its events until `done(object or None when deleted)` returns a value.
    `progress` sees every version (for "waiting: <reason>" lines). ProviderError naming `what` on timeout."""
    deadline = time.monotonic() + timeout_s
    fields = f"metadata.name={name}"
    current = kube.find(kind, name, namespace)
    last = current
    while True:
        result = done(current)
        if result is not None:
            return result
        if current is not None and progress is not None:
            progress(current)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProviderError(f"timed out after {timeout_s:.0f}s waiting for {what}", hint=_last(last))
        version = current.metadata.resource_version if current is not None else ""
        if not version:
            version = kube.list_version(kind, namespace, fields=fields)
        changed = False
        for event in kube.watch(
            kind,
            namespace,
            fields=fields,
            resource_version=version,
            timeout_s=min(remaining, _WATCH_SLICE_S),
        ):
            if event.type in ("ADDED", "MODIFIED"):
                current, changed = event.object, True
            elif event.type == "DELETED":
                current, changed = None, True
            elif event.type == "ERROR":  # e.g. 410 Gone: read again and watch from there
                current, changed = kube.find(kind, name, namespace), True
            else:
                continue
            last = current or last
            break
        if not changed:  # the watch ended without news: look again (a lost event cannot stall us)
            current = kube.find(kind, name, namespace)


def _last(obj: KubeObject | None) -> str | None:
    if obj is None:
        return None
    conditions = obj.status.get("conditions")
    if isinstance(conditions, list):
        for item in conditions:
            if isinstance(item, dict) and item.get("status") != "True":
                return f"last condition: {item.get('type')} {item.get('reason')}: {item.get('message')}"
    phase = obj.status.get("phase")
    return f"last phase: {phase}" if phase else None

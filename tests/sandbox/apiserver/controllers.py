"""Background work a control plane does on its own: GC, namespace cleanup, pod grace expiry."""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import UTC, datetime
from typing import Any

from .api import Api
from .errors import ApiError
from .registry import ResourceType
from .store import Event, Key

log = logging.getLogger(__name__)


class Controllers:
    """One sweep loop, woken by every write and by a one-second tick (for grace periods that expire)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self._wake = asyncio.Event()
        self.store.listeners.append(self._on_event)

    def _on_event(self, event: Event) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                await asyncio.sleep(0.01)  # batch a burst of writes into one sweep
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                self.sweep()
            except Exception:  # a bug in one sweep must not stop the control loop
                log.exception("sandbox controller sweep failed")

    def _type(self, key: Key) -> ResourceType | None:
        types = self.api.registry.by_key(key)
        return types[0] if types else None

    def _delete(self, key: Key, obj: dict[str, Any], policy: str) -> None:
        rt = self._type(key)
        if rt is None:
            return
        md = obj["metadata"]
        try:
            self.api.delete(
                rt,
                md.get("namespace", ""),
                md["name"],
                {"propagationPolicy": policy, "preconditions": {"uid": md["uid"]}},
            )
        except ApiError as error:
            if error.code not in (404, 409):
                log.warning("sandbox controller could not delete %s/%s: %s", key, md["name"], error.message)

    def sweep(self) -> None:
        self._collect_garbage()
        self._finish_foreground()
        self._terminate_namespaces()
        self._reap_pods()

    def _collect_garbage(self) -> None:
        objects = self.store.all_objects()
        by_uid = {o["metadata"]["uid"]: o for _, o in objects}
        for key, obj in objects:
            refs = obj["metadata"].get("ownerReferences") or []
            if not refs or obj["metadata"].get("deletionTimestamp"):
                continue
            owners = [by_uid.get(r.get("uid")) for r in refs]
            if all(o is None for o in owners):
                self._delete(key, obj, "Background")
            elif any(o is not None and _foreground(o) for o in owners):
                self._delete(key, obj, "Foreground")

    def _finish_foreground(self) -> None:
        objects = self.store.all_objects()
        referenced = {r.get("uid") for _, o in objects for r in o["metadata"].get("ownerReferences") or []}
        for key, obj in objects:
            if _foreground(obj) and obj["metadata"]["uid"] not in referenced:
                self._drop_finalizer(key, obj, "foregroundDeletion")

    def _drop_finalizer(self, key: Key, obj: dict[str, Any], finalizer: str) -> None:
        rt = self._type(key)
        if rt is None:
            return
        new = copy.deepcopy(obj)
        new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers") or [] if f != finalizer]
        md = obj["metadata"]
        self.api.replace(rt, md.get("namespace", ""), md["name"], new)

    def _terminate_namespaces(self) -> None:
        for ns in self.store.list(("", "namespaces")):
            if not ns["metadata"].get("deletionTimestamp"):
                continue
            name = ns["metadata"]["name"]
            content = [(k, o) for k, o in self.store.all_objects() if o["metadata"].get("namespace") == name]
            for key, obj in content:
                if not obj["metadata"].get("deletionTimestamp"):
                    self._delete(key, obj, "Background")
            if content:
                continue
            rt = self._type(("", "namespaces"))
            assert rt is not None
            finalized = copy.deepcopy(ns)
            finalized.setdefault("spec", {})["finalizers"] = [
                f for f in (ns.get("spec") or {}).get("finalizers") or [] if f != "kubernetes"
            ]
            self.api.replace(rt, "", name, finalized, sub="finalize")

    def _reap_pods(self) -> None:
        """Pods whose grace period ran out go, as when a node controller gives up on a kubelet."""
        rt = self._type(("", "pods"))
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for pod in self.store.list(("", "pods")):
            md = pod["metadata"]
            if md.get("deletionTimestamp") and md["deletionTimestamp"] <= stamp and not md.get("finalizers"):
                assert rt is not None
                self.api.force_remove(rt, pod)


def _foreground(obj: dict[str, Any]) -> bool:
    md = obj["metadata"]
    return bool(md.get("deletionTimestamp")) and "foregroundDeletion" in (md.get("finalizers") or [])

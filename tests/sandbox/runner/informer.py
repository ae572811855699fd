"""List + watch caches over HTTP, the way client-go informers work: list, then watch from the list's
resourceVersion, relist on 410 Gone or a broken stream. Handlers get (event type, object) for every change.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Handler = Callable[[str, Obj], None]


def key_of(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _rv(obj: Obj) -> int:
    try:
        return int(obj["metadata"].get("resourceVersion", "0"))
    except ValueError:  # opaque on real servers; the sandbox uses one numeric counter
        return 0


class Informer:
    """A thread-safe cache of one resource kind, kept current by a watch."""

    WATCH_SECONDS = 120

    def __init__(self, kind: str, list_fn: Callable[..., Any]) -> None:
        self.kind = kind
        self._list_fn = list_fn
        self._cache: dict[tuple[str, str], Obj] = {}
        self._lock = threading.RLock()
        self._handlers: list[Handler] = []
        self._stopping = threading.Event()
        self.synced = threading.Event()
        self._response: Any = None
        self._thread = threading.Thread(target=self._run, name=f"informer-{kind}", daemon=True)

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        response = self._response
        if response is not None:
            try:
                response.shutdown() if hasattr(response, "shutdown") else response.close()
            except Exception:  # noqa: BLE001 - the stream is going away either way
                pass
        self._thread.join(timeout=5)

    # --- reads ----------------------------------------------------------------------------------------------
    def get(self, namespace: str, name: str) -> Obj | None:
        with self._lock:
            return self._cache.get((namespace, name))

    def list(self, namespace: str | None = None) -> list[Obj]:
        with self._lock:
            return [o for (ns, _), o in self._cache.items() if namespace is None or ns == namespace]

    # --- write-through, so a controller sees its own writes before the watch delivers them ------------------
    def upsert(self, obj: Obj) -> None:
        self._apply("MODIFIED", obj)

    def forget(self, obj: Obj) -> None:
        self._apply("DELETED", obj)

    def _apply(self, kind: str, obj: Obj) -> None:
        key = key_of(obj)
        with self._lock:
            current = self._cache.get(key)
            if kind == "DELETED":
                if current is None or current["metadata"].get("uid") != obj["metadata"].get("uid"):
                    return
                if _rv(obj) and _rv(current) > _rv(obj):
                    return
                del self._cache[key]
            else:
                same = current is not None and current["metadata"].get("uid") == obj["metadata"].get("uid")
                if same and _rv(current) >= _rv(obj):
                    return  # stale event or an echo of our own write
                self._cache[key] = obj
        for handler in self._handlers:
            try:
                handler(kind, obj)
            except Exception:  # noqa: BLE001 - one bad handler must not kill the watch
                log.exception("handler for %s failed", self.kind)

    # --- the loop -------------------------------------------------------------------------------------------
    def _relist(self) -> str:
        response = self._list_fn(_preload_content=False, _request_timeout=30)
        body = json.loads(response.data)
        items = body.get("items") or []
        kind = body.get("kind", "List").removesuffix("List")
        api_version = body.get("apiVersion", "v1")
        fresh = {}
        for item in items:
            item.setdefault("kind", kind)  # list items carry no kind on real servers
            item.setdefault("apiVersion", api_version)
            fresh[key_of(item)] = item
        with self._lock:
            gone = [o for k, o in self._cache.items() if k not in fresh]
        for obj in gone:
            self._apply("DELETED", obj)
        for obj in fresh.values():
            self._apply("ADDED", obj)
        self.synced.set()
        return body["metadata"].get("resourceVersion", "")

    def _watch(self, resource_version: str) -> str | None:
        """Stream events; return the last resourceVersion, or None when a relist is needed."""
        from kubernetes.watch.watch import iter_resp_lines

        response = self._list_fn(
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=self.WATCH_SECONDS,
            _preload_content=False,
            _request_timeout=self.WATCH_SECONDS + 15,
        )
        self._response = response
        try:
            for line in iter_resp_lines(response):
                if self._stopping.is_set():
                    return resource_version
                if not line:
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    log.info("watch %s: %s", self.kind, obj.get("message"))
                    return None if obj.get("code") == 410 else resource_version
                resource_version = obj.get("metadata", {}).get("resourceVersion", resource_version)
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self._apply(kind, obj)
        finally:
            self._response = None
            response.release_conn()
        return resource_version

    def _run(self) -> None:
        resource_version: str | None = None
        while not self._stopping.is_set():
            try:
                if resource_version is None:
                    resource_version = self._relist()
                resource_version = self._watch(resource_version)
            except Exception as error:  # noqa: BLE001 - reconnect on any transport or server error
                if self._stopping.is_set():
                    return
                log.info("watch %s broke (%s); relisting", self.kind, error)
                resource_version = None
                time.sleep(0.5)

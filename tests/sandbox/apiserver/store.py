"""In-memory objects, one global resourceVersion counter, a bounded event history and live watchers."""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str]  # (group, plural)


@dataclass(frozen=True)
class Event:
    """One change; `old` is the previous state (None for ADDED): watchers follow selector transitions."""

    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    key: Key
    obj: dict[str, Any]
    old: dict[str, Any] | None


class Watcher:
    """A queue of events for one (key, namespace) watch; the stream filters by selectors."""

    def __init__(self, key: Key, namespace: str | None) -> None:
        self.key = key
        self.namespace = namespace
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def wants(self, event: Event) -> bool:
        if event.key != self.key:
            return False
        return self.namespace is None or event.obj["metadata"].get("namespace") == self.namespace


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.setdefault("metadata", {})


class Store:
    """All objects by kind; every write goes through put/remove so history and watchers see it."""

    def __init__(self, history_size: int = 10000) -> None:
        self.rv = 0
        self._objects: dict[Key, dict[tuple[str, str], dict[str, Any]]] = {}
        self.history: deque[Event] = deque()
        self.history_size = history_size
        self.compacted = 0  # the newest rv no longer in the history
        self.watchers: set[Watcher] = set()
        self.listeners: list[Callable[[Event], None]] = []

    def get(self, key: Key, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get(key, {}).get((namespace, name))

    def list(self, key: Key, namespace: str | None = None) -> list[dict[str, Any]]:
        items = self._objects.get(key, {})
        return [o for (ns, _), o in sorted(items.items()) if namespace is None or ns == namespace]

    def keys(self) -> list[Key]:
        return list(self._objects)

    def all_objects(self) -> list[tuple[Key, dict[str, Any]]]:
        return [(key, obj) for key, items in self._objects.items() for obj in items.values()]

    def put(self, key: Key, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """Store a new state with the next resourceVersion; emits ADDED or MODIFIED."""
        self.rv += 1
        md = meta(obj)
        md["resourceVersion"] = str(self.rv)
        self._objects.setdefault(key, {})[(md.get("namespace", ""), md["name"])] = obj
        self._emit(Event(self.rv, "MODIFIED" if old is not None else "ADDED", key, obj, old))
        return obj

    def remove(self, key: Key, obj: dict[str, Any]) -> dict[str, Any]:
        """Drop an object; the DELETED event carries it with the deletion's resourceVersion."""
        md = meta(obj)
        self._objects.get(key, {}).pop((md.get("namespace", ""), md["name"]), None)
        self.rv += 1
        gone = copy.deepcopy(obj)
        meta(gone)["resourceVersion"] = str(self.rv)
        self._emit(Event(self.rv, "DELETED", key, gone, obj))
        return gone

    def drop_kind(self, key: Key) -> None:
        for obj in list(self._objects.get(key, {}).values()):
            self.remove(key, obj)
        self._objects.pop(key, None)

    def _emit(self, event: Event) -> None:
        self.history.append(event)
        while len(self.history) > self.history_size:
            self.compacted = self.history.popleft().rv
        for watcher in list(self.watchers):
            if watcher.wants(event):
                watcher.queue.put_nowait(event)
        for listener in self.listeners:
            listener(event)

    def events_since(self, rv: int, key: Key) -> list[Event] | None:
        """History after `rv` for one kind, or None when that part of the history is gone (410)."""
        if rv < self.compacted:
            return None
        return [e for e in self.history if e.rv > rv and e.key == key]

    def close_watchers(self) -> None:
        for watcher in list(self.watchers):
            watcher.queue.put_nowait(None)

"""`?watch=true`: a chunked stream of JSON events with resourceVersion replay, bookmarks, timeouts, 410."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from .api import Api, present
from .errors import bad_request, gone
from .registry import ResourceType
from .selection import Matcher, field_matcher, label_matcher
from .store import Event, Watcher
from .tables import table

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def _transition(event: Event, matches: Matcher) -> tuple[str, dict[str, Any]] | None:
    """Map a change onto this watcher's selector view: leaving the selection is DELETED, entering is ADDED."""
    now = matches(event.obj)
    if event.type == "MODIFIED":
        before = event.old is not None and matches(event.old)
        if now and before:
            return "MODIFIED", event.obj
        if now:
            return "ADDED", event.obj
        if before:
            return "DELETED", event.obj
        return None
    return (event.type, event.obj) if now else None


class WatchStream:
    """One open watch request."""

    def __init__(
        self, api: Api, rt: ResourceType, ns: str | None, query: Any, accept: str, bookmark_interval: float
    ) -> None:
        self.api, self.rt, self.ns = api, rt, ns
        labels, fields = label_matcher(query.get("labelSelector")), field_matcher(query.get("fieldSelector"))
        self.matches: Matcher = lambda obj: labels(obj) and fields(obj)
        self.rv = query.get("resourceVersion") or ""
        self.send_initial = query.get("sendInitialEvents") == "true"
        self.bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        self.timeout = float(query.get("timeoutSeconds") or 1800)
        self.table = "as=Table" in accept
        self.interval = bookmark_interval

    def _encode(self, kind: str, obj: dict[str, Any]) -> bytes:
        if kind in ("ERROR", "BOOKMARK"):
            body = obj
        elif self.table:
            body = table(self.rt, [present(self.rt, obj)], obj["metadata"].get("resourceVersion", ""))
        else:
            body = present(self.rt, obj)
        return json.dumps({"type": kind, "object": body}, separators=(",", ":")).encode() + b"\n"

    def _bookmark(self, rv: int, initial_end: bool = False) -> bytes:
        md: dict[str, Any] = {"resourceVersion": str(rv)}
        if initial_end:
            md["annotations"] = {INITIAL_EVENTS_END: "true"}
        return self._encode(
            "BOOKMARK", {"kind": self.rt.kind, "apiVersion": self.rt.api_version, "metadata": md}
        )

    def _start(self, watcher: Watcher) -> list[bytes]:
        """Initial lines; no await, so nothing slips between snapshot and subscription."""
        store = self.api.store
        if self.send_initial or self.rv in ("", "0"):
            lines = [self._encode("ADDED", o) for o in self.api.list(self.rt, self.ns) if self.matches(o)]
            if self.send_initial:
                lines.append(self._bookmark(store.rv, initial_end=True))
        else:
            try:
                since = int(self.rv)
            except ValueError:
                raise bad_request(f"invalid resourceVersion {self.rv!r}") from None
            events = store.events_since(since, self.rt.key)
            if events is None:
                error = gone(f"too old resource version: {since} ({store.compacted + 1})")
                return [self._encode("ERROR", error.status())]
            lines = []
            for event in events:
                if watcher.wants(event) and (change := _transition(event, self.matches)):
                    lines.append(self._encode(*change))
        store.watchers.add(watcher)
        return lines

    async def run(self, request: web.Request) -> web.StreamResponse:
        watcher = Watcher(self.rt.key, self.ns if self.rt.namespaced else None)
        store = self.api.store
        try:
            lines = self._start(watcher)
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for line in lines:
                await response.write(line)
            if watcher in store.watchers:
                await self._follow(request, response, watcher)
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            store.watchers.discard(watcher)
        return response

    async def _follow(self, request: web.Request, response: web.StreamResponse, watcher: Watcher) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if self.bookmarks:
                    await response.write(self._bookmark(self.api.store.rv))
                return
            try:
                event = await asyncio.wait_for(watcher.queue.get(), timeout=min(remaining, self.interval))
            except TimeoutError:
                if request.transport is None or request.transport.is_closing():
                    return  # the client went away: stop holding a watcher for it
                if self.bookmarks and deadline - time.monotonic() > 0:
                    await response.write(self._bookmark(self.api.store.rv))
                continue
            if event is None:
                return
            if change := _transition(event, self.matches):
                await response.write(self._encode(*change))

"""Kubernetes Events (core/v1) for what the kubelet and controllers do: Scheduled, Started, Killing, BackOff,
Unhealthy, SuccessfulCreate, ScalingReplicaSet... so `kubectl describe` and `kubectl get events` tell the
story. Posted from a background thread: recording never slows a Pod start, and a failure to record is ignored.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from typing import Any

from .kubeapi import Kube
from .podstatus import now

log = logging.getLogger(__name__)
Obj = dict[str, Any]


class Recorder:
    def __init__(self, kube: Kube, component: str, host: str) -> None:
        self.kube, self.component, self.host = kube, component, host
        self._queue: queue.Queue[Obj | None] = queue.Queue(maxsize=1000)
        self._thread = threading.Thread(target=self._loop, name="events", daemon=True)
        self._recent: dict[tuple, float] = {}  # the same event again within a minute is not news

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def record(self, obj: Obj, kind: str, reason: str, message: str, warning: bool = False) -> None:
        meta = obj["metadata"]
        key = (meta.get("uid"), reason, message)
        moment = time.monotonic()
        if moment - self._recent.get(key, -1e9) < 60:
            return
        self._recent = {k: t for k, t in self._recent.items() if moment - t < 60}
        self._recent[key] = moment
        stamp = now()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{secrets.token_hex(8)}",
                "namespace": meta.get("namespace"),
            },
            "involvedObject": {
                "kind": kind,
                "name": meta["name"],
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
                "apiVersion": obj.get("apiVersion", "v1"),
            },
            "reason": reason,
            "message": message,
            "type": "Warning" if warning else "Normal",
            "source": {"component": self.component, "host": self.host},
            "reportingComponent": self.component,
            "reportingInstance": self.host,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            pass  # events are best effort, as in Kubernetes

    def _loop(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self.kube.call(self.kube.core.create_namespaced_event, event["metadata"]["namespace"], event)
            except Exception as error:  # noqa: BLE001 - best effort (the namespace may be going away)
                log.debug("event not recorded: %s", error)

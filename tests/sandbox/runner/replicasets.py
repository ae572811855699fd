"""The ReplicaSet controller: keeps `spec.replicas` active Pods owned by each ReplicaSet; reports status."""

from __future__ import annotations

import logging
from typing import Any

from .events import Recorder
from .informer import Informer
from .kubeapi import Kube
from .selectors import is_active, is_ready, matches
from .workloads import OwnerController, create_pod, delete_pod, owned_by, patch_status, pod_body, template_of

log = logging.getLogger(__name__)
Obj = dict[str, Any]


class ReplicaSetController(OwnerController):
    threads = 2

    def __init__(self, kube: Kube, replicasets: Informer, pods: Informer, events: Recorder) -> None:
        super().__init__("replicaset", replicasets, pods)
        self.kube, self.replicasets, self.pods, self.events = kube, replicasets, pods, events

    def owned(self, rs: Obj) -> list[Obj]:
        return owned_by(rs, self.pods.list(rs["metadata"]["namespace"]))

    def sync(self, key: tuple[str, str]) -> None:
        rs = self.replicasets.get(*key)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        selector = rs["spec"].get("selector")
        active = [
            p for p in self.owned(rs) if is_active(p) and matches(selector, p["metadata"].get("labels"))
        ]
        diff = int(rs["spec"].get("replicas", 1)) - len(active)
        if diff > 0:
            for _ in range(diff):
                self._create_pod(rs)
        elif diff < 0:
            # Remove the least useful first: not ready, then the youngest (as the real controller ranks them).
            ranked = sorted(
                active, key=lambda p: (is_ready(p), _negate(p["metadata"].get("creationTimestamp", "")))
            )
            for pod in ranked[:-diff]:
                delete_pod(self.kube, self.pods, pod)
        self._write_status(rs)

    def _create_pod(self, rs: Obj) -> None:
        meta, spec = template_of(rs)
        body = pod_body(
            rs,
            "ReplicaSet",
            "apps/v1",
            meta.get("labels") or {},
            spec,
            annotations=meta.get("annotations") or {},
        )
        created = create_pod(self.kube, self.pods, body)
        self.events.record(
            rs, "ReplicaSet", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}"
        )

    def _write_status(self, rs: Obj) -> None:
        owned = [p for p in self.owned(rs) if is_active(p)]
        labels_ok = [
            p
            for p in owned
            if matches(
                {
                    "matchLabels": ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels")
                    or {}
                },
                p["metadata"].get("labels"),
            )
        ]
        ready = [p for p in owned if is_ready(p)]
        status = {
            "replicas": len(owned),
            "fullyLabeledReplicas": len(labels_ok),
            "readyReplicas": len(ready),
            "availableReplicas": len(ready),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        old = rs.get("status") or {}
        if all(old.get(k, 0) == v for k, v in status.items()):
            return
        patch_status(
            self.kube, self.kube.apps.patch_namespaced_replica_set_status, self.replicasets, rs, status
        )


def _negate(stamp: str) -> str:
    """Sort key that puts later timestamps first."""
    return "".join(chr(0x10FFFF - ord(c)) for c in stamp)

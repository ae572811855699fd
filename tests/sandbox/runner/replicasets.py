"""The ReplicaSet controller: keeps `spec.replicas` active Pods owned by each ReplicaSet; reports status."""

from __future__ import annotations

import copy
import logging
from typing import Any

from .events import Recorder
from .informer import Informer
from .kubeapi import MERGE, Kube, status_code
from .selectors import controller_uid, is_active, is_ready, matches, owner_ref
from .workqueue import Workers

log = logging.getLogger(__name__)
Obj = dict[str, Any]


class ReplicaSetController:
    def __init__(self, kube: Kube, replicasets: Informer, pods: Informer, events: Recorder) -> None:
        self.kube, self.replicasets, self.pods, self.events = kube, replicasets, pods, events
        self.workers = Workers("replicaset")
        self.queue = self.workers.queue
        replicasets.add_handler(
            lambda _k, rs: self.queue.add((rs["metadata"]["namespace"], rs["metadata"]["name"]))
        )
        pods.add_handler(self._pod_changed)

    def _pod_changed(self, _kind: str, pod: Obj) -> None:
        uid = controller_uid(pod)
        if uid is None:
            return
        for rs in self.replicasets.list(pod["metadata"]["namespace"]):
            if rs["metadata"]["uid"] == uid:
                self.queue.add((rs["metadata"]["namespace"], rs["metadata"]["name"]))

    def start(self) -> None:
        self.workers.run(self.sync, 2)

    def stop(self) -> None:
        self.workers.stop()

    def owned(self, rs: Obj) -> list[Obj]:
        uid = rs["metadata"]["uid"]
        return [p for p in self.pods.list(rs["metadata"]["namespace"]) if controller_uid(p) == uid]

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
                self._delete_pod(pod)
        self._write_status(rs)

    def _create_pod(self, rs: Obj) -> None:
        template = copy.deepcopy(rs["spec"].get("template") or {})
        meta = template.get("metadata") or {}
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": f"{rs['metadata']['name']}-",
                "namespace": rs["metadata"]["namespace"],
                "labels": meta.get("labels") or {},
                "annotations": meta.get("annotations") or {},
                "ownerReferences": [owner_ref(rs, "ReplicaSet", "apps/v1")],
            },
            "spec": template.get("spec") or {},
        }
        created = self.kube.call(self.kube.core.create_namespaced_pod, rs["metadata"]["namespace"], body)
        self.pods.upsert(created)
        self.events.record(
            rs, "ReplicaSet", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}"
        )

    def _delete_pod(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            answer = self.kube.call(
                self.kube.core.delete_namespaced_pod,
                meta["name"],
                meta["namespace"],
                body={"preconditions": {"uid": meta["uid"]}},
            )
        except Exception as error:
            if status_code(error) in (404, 409):
                return
            raise
        if answer.get("kind") == "Pod" and answer["metadata"].get("deletionTimestamp"):
            self.pods.upsert(answer)
        else:
            self.pods.forget(pod)

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
        meta = rs["metadata"]
        try:
            fresh = self.kube.call(
                self.kube.apps.patch_namespaced_replica_set_status,
                meta["name"],
                meta["namespace"],
                {"status": status},
                _content_type=MERGE,
            )
        except Exception as error:
            if status_code(error) == 404:
                return
            raise
        self.replicasets.upsert(fresh)


def _negate(stamp: str) -> str:
    """Sort key that puts later timestamps first."""
    return "".join(chr(0x10FFFF - ord(c)) for c in stamp)

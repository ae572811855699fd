"""The StatefulSet controller: Pods `<set>-<ordinal>` with stable hostnames (`<pod>.<serviceName>`), created
in order (OrderedReady) or all at once (Parallel), removed from the highest ordinal, rolled one Pod at a time
from the highest ordinal on a template change; volumeClaimTemplates become per-Pod claims (`<claim>-<pod>`).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from .deployments import template_hash
from .informer import Informer
from .kubeapi import MERGE, Kube, status_code
from .selectors import controller_uid, is_active, is_ready, owner_ref
from .workqueue import Workers

log = logging.getLogger(__name__)
Obj = dict[str, Any]
REVISION_LABEL = "controller-revision-hash"


def ordinal(pod: Obj, name: str) -> int | None:
    suffix = pod["metadata"]["name"].removeprefix(f"{name}-")
    return int(suffix) if suffix.isdigit() else None


class StatefulSetController:
    def __init__(self, kube: Kube, statefulsets: Informer, pods: Informer) -> None:
        self.kube, self.statefulsets, self.pods = kube, statefulsets, pods
        self.workers = Workers("statefulset")
        self.queue = self.workers.queue
        statefulsets.add_handler(
            lambda _k, s: self.queue.add((s["metadata"]["namespace"], s["metadata"]["name"]))
        )
        pods.add_handler(self._pod_changed)

    def _pod_changed(self, _kind: str, pod: Obj) -> None:
        uid = controller_uid(pod)
        for sts in self.statefulsets.list(pod["metadata"]["namespace"]):
            if sts["metadata"]["uid"] == uid:
                self.queue.add((sts["metadata"]["namespace"], sts["metadata"]["name"]))

    def start(self) -> None:
        self.workers.run(self.sync, 1)

    def stop(self) -> None:
        self.workers.stop()

    def sync(self, key: tuple[str, str]) -> None:
        sts = self.statefulsets.get(*key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        name, uid = sts["metadata"]["name"], sts["metadata"]["uid"]
        revision = f"{name}-{template_hash(sts['spec']['template'])}"
        replicas = int(sts["spec"].get("replicas", 1))
        pods = {ordinal(p, name): p for p in self.pods.list(key[0]) if controller_uid(p) == uid}
        pods.pop(None, None)
        parallel = sts["spec"].get("podManagementPolicy") == "Parallel"
        self._act(sts, pods, replicas, revision, parallel)
        self._write_status(sts, pods, replicas, revision)

    def _act(self, sts: Obj, pods: dict, replicas: int, revision: str, parallel: bool) -> None:
        """One step towards the goal per sync (several for Parallel), as the real controller does."""
        for index in range(replicas):
            pod = pods.get(index)
            if pod is None:
                self._create(sts, index, revision)
                if not parallel:
                    return
            elif not parallel and not (is_active(pod) and is_ready(pod)):
                return  # OrderedReady: wait for this one before touching the next
        for index in sorted((i for i in pods if i >= replicas), reverse=True):
            if not pods[index]["metadata"].get("deletionTimestamp"):
                self._delete(pods[index])
            if not parallel:
                return
        if (sts["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
            return
        partition = int(
            ((sts["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0)
        )
        for index in sorted((i for i in pods if partition <= i < replicas), reverse=True):
            pod = pods[index]
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision:
                if not pod["metadata"].get("deletionTimestamp"):
                    self._delete(pod)  # recreated with the new template by a later sync
                return
            if not is_ready(pod):
                return

    def _create(self, sts: Obj, index: int, revision: str) -> None:
        meta = sts["metadata"]
        template = copy.deepcopy(sts["spec"]["template"])
        pod_name = f"{meta['name']}-{index}"
        labels = {
            **((template.get("metadata") or {}).get("labels") or {}),
            REVISION_LABEL: revision,
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(index),
        }
        spec = template.get("spec") or {}
        spec["hostname"] = pod_name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        for claim in sts["spec"].get("volumeClaimTemplates") or []:
            claim_name = claim["metadata"]["name"]
            volumes = [v for v in spec.get("volumes") or [] if v["name"] != claim_name]
            spec["volumes"] = volumes + [
                {"name": claim_name, "persistentVolumeClaim": {"claimName": f"{claim_name}-{pod_name}"}}
            ]
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": meta["namespace"],
                "labels": labels,
                "annotations": (template.get("metadata") or {}).get("annotations") or {},
                "ownerReferences": [owner_ref(sts, "StatefulSet", "apps/v1")],
            },
            "spec": spec,
        }
        try:
            created = self.kube.call(self.kube.core.create_namespaced_pod, meta["namespace"], body)
        except Exception as error:
            if status_code(error) == 409:  # the previous Pod of this ordinal is still terminating
                return
            raise
        self.pods.upsert(created)

    def _delete(self, pod: Obj) -> None:
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

    def _write_status(self, sts: Obj, pods: dict, replicas: int, revision: str) -> None:
        live = [p for i, p in pods.items() if is_active(p)]
        updated = [p for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision]
        ready = [p for p in live if is_ready(p)]
        old = sts.get("status") or {}
        done = len(updated) == replicas == len(live)
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": len(ready),
            "availableReplicas": len(ready),
            "currentReplicas": len(updated) if done else len(live) - len(updated),
            "updatedReplicas": len(updated),
            "updateRevision": revision,
            "currentRevision": revision if done else old.get("currentRevision", revision),
            "collisionCount": 0,
        }
        if all(old.get(k) == v for k, v in status.items()):
            return
        meta = sts["metadata"]
        try:
            fresh = self.kube.call(
                self.kube.apps.patch_namespaced_stateful_set_status,
                meta["name"],
                meta["namespace"],
                {"status": status},
                _content_type=MERGE,
            )
        except Exception as error:
            if status_code(error) == 404:
                return
            raise
        self.statefulsets.upsert(fresh)

"""The StatefulSet controller: Pods `<set>-<ordinal>` with stable hostnames (`<pod>.<serviceName>`), created
in order (OrderedReady) or all at once (Parallel), removed from the highest ordinal, rolled one Pod at a time
from the highest ordinal on a template change; volumeClaimTemplates become per-Pod claims (`<claim>-<pod>`).
"""

from __future__ import annotations

import logging
from typing import Any

from .deployments import template_hash
from .informer import Informer
from .kubeapi import Kube, status_code
from .selectors import is_active, is_ready
from .workloads import OwnerController, create_pod, delete_pod, owned_by, patch_status, pod_body, template_of

log = logging.getLogger(__name__)
Obj = dict[str, Any]
REVISION_LABEL = "controller-revision-hash"


def ordinal(pod: Obj, name: str) -> int | None:
    suffix = pod["metadata"]["name"].removeprefix(f"{name}-")
    return int(suffix) if suffix.isdigit() else None


class StatefulSetController(OwnerController):
    def __init__(self, kube: Kube, statefulsets: Informer, pods: Informer) -> None:
        super().__init__("statefulset", statefulsets, pods)
        self.kube, self.statefulsets, self.pods = kube, statefulsets, pods

    def sync(self, key: tuple[str, str]) -> None:
        sts = self.statefulsets.get(*key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        name = sts["metadata"]["name"]
        revision = f"{name}-{template_hash(sts['spec']['template'])}"
        replicas = int(sts["spec"].get("replicas", 1))
        pods = {ordinal(p, name): p for p in owned_by(sts, self.pods.list(key[0]))}
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
                delete_pod(self.kube, self.pods, pods[index])
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
                    delete_pod(self.kube, self.pods, pod)  # recreated with the new template by a later sync
                return
            if not is_ready(pod):
                return

    def _create(self, sts: Obj, index: int, revision: str) -> None:
        meta, spec = template_of(sts)
        pod_name = f"{sts['metadata']['name']}-{index}"
        labels = {
            **(meta.get("labels") or {}),
            REVISION_LABEL: revision,
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(index),
        }
        spec["hostname"] = pod_name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        for claim in sts["spec"].get("volumeClaimTemplates") or []:
            claim_name = claim["metadata"]["name"]
            volumes = [v for v in spec.get("volumes") or [] if v["name"] != claim_name]
            spec["volumes"] = volumes + [
                {"name": claim_name, "persistentVolumeClaim": {"claimName": f"{claim_name}-{pod_name}"}}
            ]
        body = pod_body(
            sts,
            "StatefulSet",
            "apps/v1",
            labels,
            spec,
            name=pod_name,
            annotations=meta.get("annotations") or {},
        )
        try:
            create_pod(self.kube, self.pods, body)
        except Exception as error:
            if status_code(error) == 409:  # the previous Pod of this ordinal is still terminating
                return
            raise

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
        patch_status(
            self.kube, self.kube.apps.patch_namespaced_stateful_set_status, self.statefulsets, sts, status
        )

"""The DaemonSet controller for a one-node cluster: exactly one Pod (`<ds>-<5 chars>`) per DaemonSet, placed
on the node directly, replaced (delete, then create) when the template changes; status for `kubectl rollout`.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from .deployments import template_hash
from .events import Recorder
from .informer import Informer
from .kubeapi import MERGE, Kube, status_code
from .selectors import controller_uid, is_active, is_ready, owner_ref
from .settings import Settings
from .workqueue import Workers

log = logging.getLogger(__name__)
Obj = dict[str, Any]
REVISION_LABEL = "controller-revision-hash"


class DaemonSetController:
    def __init__(
        self, settings: Settings, kube: Kube, daemonsets: Informer, pods: Informer, events: Recorder
    ) -> None:
        self.settings, self.kube, self.daemonsets, self.pods, self.events = (
            settings,
            kube,
            daemonsets,
            pods,
            events,
        )
        self.workers = Workers("daemonset")
        self.queue = self.workers.queue
        daemonsets.add_handler(
            lambda _k, d: self.queue.add((d["metadata"]["namespace"], d["metadata"]["name"]))
        )
        pods.add_handler(self._pod_changed)

    def _pod_changed(self, _kind: str, pod: Obj) -> None:
        uid = controller_uid(pod)
        for ds in self.daemonsets.list(pod["metadata"]["namespace"]):
            if ds["metadata"]["uid"] == uid:
                self.queue.add((ds["metadata"]["namespace"], ds["metadata"]["name"]))

    def start(self) -> None:
        self.workers.run(self.sync, 1)

    def stop(self) -> None:
        self.workers.stop()

    def sync(self, key: tuple[str, str]) -> None:
        ds = self.daemonsets.get(*key)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        revision = template_hash(ds["spec"]["template"])
        pods = [p for p in self.pods.list(key[0]) if controller_uid(p) == ds["metadata"]["uid"]]
        live = [p for p in pods if is_active(p)]
        terminating = [p for p in pods if p["metadata"].get("deletionTimestamp")]
        stale = [p for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision]
        for pod in stale + live[1:]:  # an old template, or one Pod too many
            self._delete(pod)
        current = [p for p in live if p not in stale][:1]
        if not current and not terminating:
            current = [self._create(ds, revision)]
        ready = [p for p in current if is_ready(p)]
        status = {
            "currentNumberScheduled": len(current),
            "desiredNumberScheduled": 1,
            "numberMisscheduled": 0,
            "numberReady": len(ready),
            "numberAvailable": len(ready),
            "numberUnavailable": 1 - len(ready),
            "updatedNumberScheduled": len(current),
            "observedGeneration": ds["metadata"].get("generation", 1),
        }
        old = ds.get("status") or {}
        if all(old.get(k) == v for k, v in status.items()):
            return
        meta = ds["metadata"]
        fresh = self.kube.call(
            self.kube.apps.patch_namespaced_daemon_set_status,
            meta["name"],
            meta["namespace"],
            {"status": status},
            _content_type=MERGE,
        )
        self.daemonsets.upsert(fresh)

    def _create(self, ds: Obj, revision: str) -> Obj:
        template = copy.deepcopy(ds["spec"]["template"])
        meta = ds["metadata"]
        labels = {**((template.get("metadata") or {}).get("labels") or {}), REVISION_LABEL: revision}
        spec = {**(template.get("spec") or {}), "nodeName": self.settings.node_name}
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": f"{meta['name']}-",
                "namespace": meta["namespace"],
                "labels": labels,
                "ownerReferences": [owner_ref(ds, "DaemonSet", "apps/v1")],
            },
            "spec": spec,
        }
        created = self.kube.call(self.kube.core.create_namespaced_pod, meta["namespace"], body)
        self.pods.upsert(created)
        self.events.record(ds, "DaemonSet", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        return created

    def _delete(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            answer = self.kube.call(self.kube.core.delete_namespaced_pod, meta["name"], meta["namespace"])
        except Exception as error:
            if status_code(error) == 404:
                return
            raise
        if answer.get("kind") == "Pod" and answer["metadata"].get("deletionTimestamp"):
            self.pods.upsert(answer)
        else:
            self.pods.forget(pod)

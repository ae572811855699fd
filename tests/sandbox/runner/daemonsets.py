"""The DaemonSet controller for a one-node cluster: exactly one Pod (`<ds>-<5 chars>`) per DaemonSet, placed
on the node directly, replaced (delete, then create) when the template changes; status for `kubectl rollout`.
"""

from __future__ import annotations

import logging
from typing import Any

from .deployments import template_hash
from .events import Recorder
from .informer import Informer
from .kubeapi import Kube
from .selectors import is_active, is_ready
from .settings import Settings
from .workloads import OwnerController, create_pod, delete_pod, owned_by, patch_status, pod_body, template_of

log = logging.getLogger(__name__)
Obj = dict[str, Any]
REVISION_LABEL = "controller-revision-hash"


class DaemonSetController(OwnerController):
    def __init__(
        self, settings: Settings, kube: Kube, daemonsets: Informer, pods: Informer, events: Recorder
    ) -> None:
        super().__init__("daemonset", daemonsets, pods)
        self.settings, self.kube, self.daemonsets, self.pods, self.events = (
            settings,
            kube,
            daemonsets,
            pods,
            events,
        )

    def sync(self, key: tuple[str, str]) -> None:
        ds = self.daemonsets.get(*key)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        revision = template_hash(ds["spec"]["template"])
        pods = owned_by(ds, self.pods.list(key[0]))
        live = [p for p in pods if is_active(p)]
        terminating = [p for p in pods if p["metadata"].get("deletionTimestamp")]
        stale = [p for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision]
        for pod in stale + live[1:]:  # an old template, or one Pod too many
            delete_pod(self.kube, self.pods, pod, precondition=False)
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
        patch_status(
            self.kube,
            self.kube.apps.patch_namespaced_daemon_set_status,
            self.daemonsets,
            ds,
            status,
            missing_ok=False,
        )

    def _create(self, ds: Obj, revision: str) -> Obj:
        meta, spec = template_of(ds)
        labels = {**(meta.get("labels") or {}), REVISION_LABEL: revision}
        body = pod_body(ds, "DaemonSet", "apps/v1", labels, {**spec, "nodeName": self.settings.node_name})
        created = create_pod(self.kube, self.pods, body)
        self.events.record(ds, "DaemonSet", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        return created

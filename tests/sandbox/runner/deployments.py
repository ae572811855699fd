"""The Deployment controller: one ReplicaSet per Pod template (`<deploy>-<hash>`), a rolling (or Recreate)
rollout on a template change, revision annotations, and the status `kubectl rollout status` reads.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from typing import Any

from .events import Recorder
from .informer import Informer
from .kubeapi import MERGE, Kube, status_code
from .selectors import owner_ref
from .workloads import OwnerController, owned_by, patch_status

log = logging.getLogger(__name__)
Obj = dict[str, Any]
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated suffixes


def normalized(value: Any) -> Any:
    """Drop nulls and empty maps/lists: `creationTimestamp: null` or `annotations: {}` mean nothing (a Go
    client would see zero values), and kubectl's rollback patch carries them.
    """
    if isinstance(value, dict):
        cleaned = {k: normalized(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def without_hash(template: Obj) -> Obj:
    template = copy.deepcopy(template)
    ((template.get("metadata") or {}).get("labels") or {}).pop(HASH_LABEL, None)
    return normalized(template)


def template_hash(template: Obj) -> str:
    canonical = json.dumps(without_hash(template), sort_keys=True).encode()
    number = int(hashlib.sha256(canonical).hexdigest(), 16)
    chars = []
    for _ in range(10):
        number, index = divmod(number, len(SAFE))
        chars.append(SAFE[index])
    return "".join(chars)


def revision(obj: Obj) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


class DeploymentController(OwnerController):
    def __init__(self, kube: Kube, deployments: Informer, replicasets: Informer, events: Recorder) -> None:
        super().__init__("deployment", deployments, replicasets)
        self.kube, self.deployments, self.replicasets, self.events = kube, deployments, replicasets, events

    def sync(self, key: tuple[str, str]) -> None:
        deployment = self.deployments.get(*key)
        if deployment is None or deployment["metadata"].get("deletionTimestamp"):
            return
        owned = owned_by(deployment, self.replicasets.list(key[0]))
        wanted = template_hash(deployment["spec"]["template"])
        # The current ReplicaSet is the one whose template equals the Deployment's, ignoring the hash label
        # (as in the real controller); the hash only names new ones.
        template = without_hash(deployment["spec"]["template"])
        new = next((rs for rs in owned if without_hash(rs["spec"].get("template") or {}) == template), None)
        olds = [rs for rs in owned if rs is not new]
        paused = bool(deployment["spec"].get("paused"))
        if not paused:
            new = self._ensure_new(deployment, new, olds, wanted)
            self._scale(deployment, new, olds)
            self._prune(deployment, olds)
        self._write_status(deployment, new, olds)

    def _ensure_new(self, deployment: Obj, new: Obj | None, olds: list[Obj], wanted: str) -> Obj:
        top = max([revision(rs) for rs in olds] + [0])
        if new is not None:
            if revision(new) <= top:  # a rollback to an old template: it becomes the newest revision again
                new = self._patch_rs(new, {"metadata": {"annotations": {REVISION: str(top + 1)}}})
            return new
        meta = deployment["metadata"]
        template = copy.deepcopy(deployment["spec"]["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = wanted
        selector = copy.deepcopy(deployment["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = wanted
        body = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{wanted}",
                "namespace": meta["namespace"],
                "labels": template["metadata"]["labels"],
                "annotations": {
                    REVISION: str(top + 1),
                    "deployment.kubernetes.io/desired-replicas": str(deployment["spec"].get("replicas", 1)),
                },
                "ownerReferences": [owner_ref(deployment, "Deployment", "apps/v1")],
            },
            "spec": {
                "replicas": 0,
                "selector": selector,
                "template": template,
                "minReadySeconds": deployment["spec"].get("minReadySeconds", 0),
            },
        }
        try:
            created = self.kube.call(self.kube.apps.create_namespaced_replica_set, meta["namespace"], body)
        except Exception as error:
            if status_code(error) != 409:
                raise
            created = self.kube.call(
                self.kube.apps.read_namespaced_replica_set, body["metadata"]["name"], meta["namespace"]
            )
        self.replicasets.upsert(created)
        return created

    def _scale(self, deployment: Obj, new: Obj, olds: list[Obj]) -> None:
        desired = int(deployment["spec"].get("replicas", 1))
        recreate = (deployment["spec"].get("strategy") or {}).get("type") == "Recreate"
        old_running = sum(int((rs.get("status") or {}).get("replicas", 0)) for rs in olds)
        if recreate:
            for rs in olds:
                self._set_replicas(deployment, rs, 0)
            self._set_replicas(deployment, new, desired if old_running == 0 else 0)
            return
        # Rolling: the new ReplicaSet gets all replicas at once (surge); old ones give up a Pod for each
        # new one that is available, so the service never drops below the desired count.
        self._set_replicas(deployment, new, desired)
        available = int((new.get("status") or {}).get("availableReplicas", 0))
        budget = max(0, desired - available)
        for rs in sorted(olds, key=revision, reverse=True):
            keep = min(budget, int(rs["spec"].get("replicas", 0)))
            budget -= keep
            self._set_replicas(deployment, rs, keep)

    def _prune(self, deployment: Obj, olds: list[Obj]) -> None:
        limit = int(deployment["spec"].get("revisionHistoryLimit", 10))
        idle = sorted(
            (
                rs
                for rs in olds
                if int(rs["spec"].get("replicas", 0)) == 0
                and int((rs.get("status") or {}).get("replicas", 0)) == 0
            ),
            key=revision,
        )
        for rs in idle[: max(0, len(idle) - limit)]:
            try:
                self.kube.call(
                    self.kube.apps.delete_namespaced_replica_set,
                    rs["metadata"]["name"],
                    rs["metadata"]["namespace"],
                )
            except Exception as error:
                if status_code(error) != 404:
                    raise
            self.replicasets.forget(rs)

    def _set_replicas(self, deployment: Obj, rs: Obj, count: int) -> None:
        before = int(rs["spec"].get("replicas", 0))
        if before != count:
            self._patch_rs(rs, {"spec": {"replicas": count}})
            verb = "up" if count > before else "down"
            self.events.record(
                deployment,
                "Deployment",
                "ScalingReplicaSet",
                f"Scaled {verb} replica set {rs['metadata']['name']} from {before} to {count}",
            )

    def _patch_rs(self, rs: Obj, patch: Obj) -> Obj:
        fresh = self.kube.call(
            self.kube.apps.patch_namespaced_replica_set,
            rs["metadata"]["name"],
            rs["metadata"]["namespace"],
            patch,
            _content_type=MERGE,
        )
        self.replicasets.upsert(fresh)
        return fresh

    def _write_status(self, deployment: Obj, new: Obj | None, olds: list[Obj]) -> None:
        meta = deployment["metadata"]
        if new is not None and (meta.get("annotations") or {}).get(REVISION) != str(revision(new)):
            fresh = self.kube.call(
                self.kube.apps.patch_namespaced_deployment,
                meta["name"],
                meta["namespace"],
                {"metadata": {"annotations": {REVISION: str(revision(new))}}},
                _content_type=MERGE,
            )
            self.deployments.upsert(fresh)
        old = deployment.get("status") or {}
        status = deployment_status(deployment, new, olds)
        if all(old.get(k) == v for k, v in status.items() if k != "conditions") and _same_conditions(
            old.get("conditions"), status["conditions"]
        ):
            return
        patch_status(
            self.kube, self.kube.apps.patch_namespaced_deployment_status, self.deployments, deployment, status
        )


def deployment_status(deployment: Obj, new: Obj | None, olds: list[Obj]) -> Obj:
    """Counts from the ReplicaSets; the Available / Progressing conditions `kubectl rollout status` reads."""
    desired = int(deployment["spec"].get("replicas", 1))

    def total(field: str, sets: list[Obj]) -> int:
        return sum(int((rs.get("status") or {}).get(field, 0)) for rs in sets)

    everything = ([new] if new else []) + olds
    updated = total("replicas", [new]) if new else 0
    available = total("availableReplicas", everything)
    done = (
        new is not None
        and updated == desired == total("availableReplicas", [new])
        and not total("replicas", olds)
    )
    previous = {c["type"]: c for c in (deployment.get("status") or {}).get("conditions") or []}
    enough = available >= desired
    progress = ""
    if new is not None:
        progress = f'ReplicaSet "{new["metadata"]["name"]}" ' + (
            "has successfully progressed." if done else "is progressing."
        )
    return {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": total("replicas", everything),
        "updatedReplicas": updated,
        "readyReplicas": total("readyReplicas", everything),
        "availableReplicas": available,
        "unavailableReplicas": max(0, desired - available),
        "conditions": [
            _condition(
                previous,
                "Available",
                enough,
                "MinimumReplicasAvailable" if enough else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if enough
                else "Deployment does not have minimum availability.",
            ),
            _condition(
                previous,
                "Progressing",
                True,
                "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                progress,
            ),
        ],
    }


def _condition(previous: dict[str, Obj], kind: str, value: bool, reason: str, message: str) -> Obj:
    from .podstatus import now

    status = "True" if value else "False"
    before = previous.get(kind) or {}
    changed = before.get("status") != status or before.get("reason") != reason
    stamp = now()
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": stamp if changed else before.get("lastUpdateTime", stamp),
        "lastTransitionTime": stamp
        if before.get("status") != status
        else before.get("lastTransitionTime", stamp),
    }


def _same_conditions(old: list[Obj] | None, new: list[Obj]) -> bool:
    strip = [{k: v for k, v in c.items() if k not in ("lastUpdateTime", "lastTransitionTime")} for c in new]
    before = [
        {k: v for k, v in c.items() if k not in ("lastUpdateTime", "lastTransitionTime")} for c in old or []
    ]
    return strip == before

"""The Job controller: runs Pods (`<job>-<5 chars>`) until `completions` succeeded, `parallelism` at a time,
and gives up after `backoffLimit` failed Pods; conditions Complete / Failed for `kubectl wait`."""

from __future__ import annotations

import logging
from typing import Any

from .events import Recorder
from .informer import Informer
from .kubeapi import Kube, status_code
from .podstatus import now
from .workloads import OwnerController, create_pod, owned_by, patch_status, pod_body, template_of

log = logging.getLogger(__name__)
Obj = dict[str, Any]


def _phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase", "Pending")


class JobController(OwnerController):
    def __init__(self, kube: Kube, jobs: Informer, pods: Informer, events: Recorder) -> None:
        super().__init__("job", jobs, pods)
        self.kube, self.jobs, self.pods, self.events = kube, jobs, pods, events

    def sync(self, key: tuple[str, str]) -> None:
        job = self.jobs.get(*key)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        if any(c.get("status") == "True" for c in (job.get("status") or {}).get("conditions") or []):
            return  # finished: Complete or Failed
        spec = job["spec"]
        pods = owned_by(job, self.pods.list(key[0]))
        active = [
            p
            for p in pods
            if _phase(p) not in ("Succeeded", "Failed") and not p["metadata"].get("deletionTimestamp")
        ]
        succeeded = sum(_phase(p) == "Succeeded" for p in pods)
        failed = sum(_phase(p) == "Failed" for p in pods)
        completions = int(spec.get("completions", 1) or 1)
        condition = None
        if failed > int(spec.get("backoffLimit", 6)):
            condition = ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            for pod in active:
                self._delete(pod)
            active = []
        elif succeeded >= completions:
            condition = ("Complete", "", "")
        else:
            wanted = min(int(spec.get("parallelism", 1)), completions - succeeded) - len(active)
            for _ in range(max(0, wanted)):
                active.append(self._create(job))
        self._write_status(job, len(active), succeeded, failed, condition)

    def _create(self, job: Obj) -> Obj:
        meta = job["metadata"]
        template_meta, spec = template_of(job)
        labels = {
            **(template_meta.get("labels") or {}),
            "job-name": meta["name"],
            "batch.kubernetes.io/job-name": meta["name"],
            "controller-uid": meta["uid"],
        }
        created = create_pod(self.kube, self.pods, pod_body(job, "Job", "batch/v1", labels, spec))
        self.events.record(job, "Job", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        return created

    def _delete(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            self.kube.call(self.kube.core.delete_namespaced_pod, meta["name"], meta["namespace"])
        except Exception as error:
            if status_code(error) != 404:
                raise

    def _write_status(
        self, job: Obj, active: int, succeeded: int, failed: int, condition: tuple[str, str, str] | None
    ) -> None:
        old = job.get("status") or {}
        status: Obj = {
            "active": active,
            "succeeded": succeeded,
            "failed": failed,
            "startTime": old.get("startTime") or now(),
        }
        if condition is not None:
            kind, reason, message = condition
            stamp = now()
            status["conditions"] = [
                {
                    "type": kind,
                    "status": "True",
                    "reason": reason,
                    "message": message,
                    "lastProbeTime": stamp,
                    "lastTransitionTime": stamp,
                }
            ]
            if kind == "Complete":
                status["completionTime"] = stamp
            self.events.record(
                job,
                "Job",
                "Completed" if kind == "Complete" else "BackoffLimitExceeded",
                "Job completed" if kind == "Complete" else message,
                warning=kind == "Failed",
            )
        if all(old.get(k) == v for k, v in status.items()):
            return
        patch_status(
            self.kube, self.kube.batch.patch_namespaced_job_status, self.jobs, job, status, missing_ok=False
        )

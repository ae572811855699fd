"""The kubelet: makes the runtime match each Pod bound to our node and keeps the Pod's status true.

Per sync of one Pod: bind it (one node), ensure the infra container (Pod IP), write its files (podfiles.py),
run init containers in order, start / restart-in-place / crash-loop the app containers, then write status.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from . import podstatus
from .events import Recorder
from .imagepull import Images
from .informer import Informer
from .kubeapi import MERGE, Kube, status_code
from .podenv import ConfigError, container_env, expand
from .podfiles import PodFiles
from .prober import Prober
from .runtime import Running, Runtime, spec_hash
from .settings import LABEL_POD, Settings
from .workqueue import Workers

log = logging.getLogger(__name__)

Obj = dict[str, Any]
MAX_GRACE = 2  # seconds; real grace periods would make every test wait (documented in docs/sandbox.md)


class Kubelet:
    def __init__(
        self,
        settings: Settings,
        kube: Kube,
        runtime: Runtime,
        pods: Informer,
        configmaps: Informer,
        secrets: Informer,
        services: Informer,
        events: Recorder,
    ) -> None:
        self.settings = settings
        self.kube = kube
        self.runtime = runtime
        self.pods, self.configmaps, self.secrets, self.services = pods, configmaps, secrets, services
        self.workers = Workers("kubelet")
        self.queue = self.workers.queue
        self.files = PodFiles(settings, kube, configmaps, secrets)
        self.images = Images(runtime.client)
        self.events = events
        self._restart_floor: dict[tuple[str, str], int] = {}  # (pod uid, container) -> next restart count
        self.prober = Prober(self.queue.add, self._unhealthy)
        pods.add_handler(lambda _kind, obj: self.queue.add(self._key(obj)))
        # A ConfigMap or Secret appearing may unblock waiting Pods and changes volume contents.
        for informer in (configmaps, secrets):
            informer.add_handler(self._namespace_changed)

    @staticmethod
    def _key(obj: Obj) -> tuple[str, str]:
        return obj["metadata"].get("namespace", "default"), obj["metadata"]["name"]

    def _namespace_changed(self, _kind: str, obj: Obj) -> None:
        for pod in self.pods.list(obj["metadata"].get("namespace")):
            self.queue.add(self._key(pod))

    def start(self, workers: int = 6) -> None:
        self.workers.run(self.sync, workers)
        self.prober.start()

    def stop(self) -> None:
        self.workers.stop()
        self.prober.stop()

    def _unhealthy(self, pod_key: tuple[str, str], container_id: str) -> None:
        """A failed liveness probe: kill the container; the restart policy decides what comes next."""
        try:
            self.runtime.client.containers.get(container_id).kill()
        except Exception:  # noqa: BLE001 - already gone is fine
            pass
        pod = self.pods.get(*pod_key)
        if pod is not None:
            self.events.record(
                pod,
                "Pod",
                "Unhealthy",
                "Liveness probe failed; the container will be restarted",
                warning=True,
            )
        self.queue.add(pod_key)

    def container_died(self, pod_label: str) -> None:
        namespace, _, name = pod_label.partition("/")
        if name:
            self.queue.add((namespace, name))

    # --- the sync -------------------------------------------------------------------------------------------
    def sync(self, key: tuple[str, str]) -> None:
        namespace, name = key
        pod = self.pods.get(namespace, name)
        if pod is None or (pod["spec"].get("nodeName") or self.settings.node_name) != self.settings.node_name:
            self._remove_by_name(f"{namespace}/{name}", keep_uid=None)
            return
        uid = pod["metadata"]["uid"]
        self._remove_by_name(f"{namespace}/{name}", keep_uid=uid)  # an older Pod of the same name
        if pod["metadata"].get("deletionTimestamp"):
            self._terminate(pod)
            return
        containers = self.runtime.pod_containers(uid)
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            self.runtime.remove([c for c in containers if c.status == "running"])
            return
        if not pod["spec"].get("nodeName"):
            pod = self._bind(pod)
        infra, runs = self.runtime.split(containers)
        if infra is None or infra.status != "running":
            # A lost infra container means a new network namespace: every container (init ones too) starts
            # over in the new one, and each restart counts, as with a kubelet's new Pod sandbox.
            for name, history in runs.items():
                self._restart_floor[(uid, name)] = history[0].restarts + 1
            self.runtime.remove(containers)
            runs = {}
            infra = self.runtime.start_infra(pod)
        pod_ip = self.runtime.pod_ip(infra)
        waiting: dict[str, Obj] = {}
        mounts_by_volume = self.files.prepare(pod, pod_ip, waiting)
        initialized = self._init_containers(pod, infra, runs, pod_ip, mounts_by_volume, waiting)
        if initialized:
            for container in pod["spec"]["containers"]:
                self._container(pod, container, infra, runs, pod_ip, mounts_by_volume, waiting, init=False)
        self._write_status(pod, pod_ip, initialized, waiting)

    def _remove_by_name(self, pod_label: str, keep_uid: str | None) -> None:
        from .settings import LABEL, LABEL_POD_UID

        found = self.runtime.list(
            filters={"label": [f"{LABEL}={self.settings.instance}", f"{LABEL_POD}={pod_label}"]}
        )
        stale = [c for c in found if c.labels.get(LABEL_POD_UID) != keep_uid]
        if stale:
            self._stop_and_remove(stale, MAX_GRACE)
            for uid in {c.labels.get(LABEL_POD_UID) for c in stale}:
                self.files.remove(uid)

    def _stop_and_remove(self, containers: list[Any], grace: int) -> None:
        apps = [c for c in containers if c.labels.get("dev.gefyra.sandbox.role") != "infra"]
        for container in apps:
            if container.status == "running":
                try:
                    container.stop(timeout=grace)
                except Exception:  # noqa: BLE001 - removed below anyway
                    pass
        self.runtime.remove(containers)

    def _terminate(self, pod: Obj) -> None:
        """Graceful deletion: stop the containers, then confirm with a grace period of 0 (like a kubelet)."""
        grace = min(int(pod["metadata"].get("deletionGracePeriodSeconds") or 0), MAX_GRACE)
        self._stop_and_remove(self.runtime.pod_containers(pod["metadata"]["uid"]), grace)
        self.files.remove(pod["metadata"]["uid"])
        self.images.forget(pod["metadata"]["uid"])
        if pod["metadata"].get("finalizers"):
            return
        try:
            self.kube.call(
                self.kube.core.delete_namespaced_pod,
                pod["metadata"]["name"],
                pod["metadata"]["namespace"],
                grace_period_seconds=0,
                body={"gracePeriodSeconds": 0, "preconditions": {"uid": pod["metadata"]["uid"]}},
            )
        except Exception as error:
            if status_code(error) not in (404, 409):
                raise

    def _bind(self, pod: Obj) -> Obj:
        meta = pod["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": self.settings.node_name},
        }
        try:
            self.kube.call(
                self.kube.core.create_namespaced_pod_binding, meta["name"], meta["namespace"], body
            )
            fresh = self.kube.call(self.kube.core.read_namespaced_pod, meta["name"], meta["namespace"])
        except Exception as error:
            if status_code(error) not in (404, 405):
                raise
            # No binding subresource on this server: set spec.nodeName the way the binding would.
            fresh = self.kube.call(
                self.kube.core.patch_namespaced_pod,
                meta["name"],
                meta["namespace"],
                {"spec": {"nodeName": self.settings.node_name}},
                _content_type=MERGE,
            )
        self.pods.upsert(fresh)
        self.events.record(
            fresh,
            "Pod",
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {self.settings.node_name}",
        )
        return fresh

    # --- containers -----------------------------------------------------------------------------------------
    def _init_containers(
        self,
        pod: Obj,
        infra: Any,
        runs: dict[str, list[Running]],
        pod_ip: str,
        sources: dict[str, Path | None],
        waiting: dict[str, Obj],
    ) -> bool:
        """Run init containers one after another; True once all of them exited 0."""
        for container in pod["spec"].get("initContainers") or []:
            current = (runs.get(container["name"]) or [None])[0]
            if (
                current is not None
                and current.state.get("Status") == "exited"
                and current.state["ExitCode"] == 0
            ):
                continue
            self._container(pod, container, infra, runs, pod_ip, sources, waiting, init=True)
            return False
        return True

    def _container(
        self,
        pod: Obj,
        container: Obj,
        infra: Any,
        runs: dict[str, list[Running]],
        pod_ip: str,
        sources: dict[str, Path | None],
        waiting: dict[str, Obj],
        init: bool,
    ) -> None:
        """Start, restart in place, back off, or leave alone one container of the Pod."""
        name = container["name"]
        history = runs.get(name) or []
        current = history[0] if history else None
        if name in waiting or not self._due(pod, container, current, waiting, init):
            return
        floor = self._restart_floor.pop((pod["metadata"]["uid"], name), 0)
        restarts = max(current.restarts + 1 if current is not None else 0, floor)
        prepared = self._prepare(pod, container, pod_ip, sources, waiting)
        if prepared is None:
            return
        spec, env, mounts, tmpfs = prepared
        started = self.runtime.start_container(
            pod, spec, infra, restarts, env, mounts, tmpfs, digest=spec_hash(container), init=init
        )
        self.events.record(pod, "Pod", "Started", f"Started container {name} (image {container['image']})")
        # Keep the current and the previous run (for lastState); older ones go.
        self.runtime.remove([r.container for r in history[1:]])
        runs[name] = [Running(name, started, restarts, spec_hash(container))] + history[:1]

    def _due(
        self, pod: Obj, container: Obj, current: Running | None, waiting: dict[str, Obj], init: bool
    ) -> bool:
        """Whether a (new) run of the container should start now; stops a run whose spec changed."""
        name = container["name"]
        if current is None:
            return True
        if current.spec_hash == spec_hash(container):
            if current.state.get("Status") in ("running", "restarting", "created"):
                return False
            if not self._should_restart(pod, current, init):
                return False
            delay = self._backoff(current)
            if delay > 0:
                message = f"back-off restarting failed container {name} in pod {pod['metadata']['name']}"
                waiting[name] = {"reason": "CrashLoopBackOff", "message": message}
                self.queue.add_after(self._key(pod), delay)
                self.events.record(pod, "Pod", "BackOff", message, warning=True)
                return False
            return True
        if current.state.get("Status") == "running":
            # The spec changed (an image patch): stop this one container, start its successor in the same Pod.
            self.events.record(
                pod, "Pod", "Killing", f"Container {name} definition changed, will be restarted"
            )
            grace = min(int(pod["spec"].get("terminationGracePeriodSeconds", 30)), MAX_GRACE)
            current.container.stop(timeout=grace)
            current.container.reload()
        return True

    def _prepare(
        self, pod: Obj, container: Obj, pod_ip: str, sources: dict[str, Path | None], waiting: dict[str, Obj]
    ) -> tuple[Obj, dict[str, str], list, dict[str, str]] | None:
        """Environment, mounts and the expanded command; None (and a waiting reason) when it cannot start."""
        name = container["name"]
        try:
            env = container_env(
                container,
                pod,
                pod_ip,
                self.settings.gateway,
                self.services.list(),
                self.files.configmap,
                self.files.secret,
            )
            mounts, tmpfs = self.files.mounts(pod, container, sources)
        except ConfigError as error:
            waiting[name] = {"reason": "CreateContainerConfigError", "message": str(error)}
            self.events.record(pod, "Pod", "Failed", f"Error: {error}", warning=True)
            return None
        missing = self.images.missing(pod["metadata"]["uid"], container)
        if missing is not None:  # no registry to pull from: say how to get it, look again after a back-off
            waiting[name], delay = missing
            self.events.record(
                pod, "Pod", "Failed", f"Failed to pull image: {waiting[name]['message']}", warning=True
            )
            if delay is not None:
                self.queue.add_after(self._key(pod), delay)
            return None
        spec = {
            **container,
            "command": [expand(x, env) for x in container.get("command") or []],
            "args": [expand(x, env) for x in container.get("args") or []],
        }
        return spec, env, mounts, tmpfs

    @staticmethod
    def _should_restart(pod: Obj, current: Running, init: bool) -> bool:
        policy = pod["spec"].get("restartPolicy", "Always")
        code = current.state.get("ExitCode", 0)
        if init:
            return code != 0 and policy != "Never"
        return policy == "Always" or (policy == "OnFailure" and code != 0)

    @staticmethod
    def _backoff(current: Running) -> float:
        finished = current.state.get("FinishedAt", "")
        try:
            ended = datetime.fromisoformat(finished[:26].rstrip("Z") + "+00:00").timestamp()
        except ValueError:
            return 0.0
        delay = min(0.5 * 2**current.restarts, 20.0) if current.restarts else 0.0
        return max(0.0, ended + delay - time.time())

    # --- status ---------------------------------------------------------------------------------------------
    def _write_status(self, pod: Obj, pod_ip: str, initialized: bool, waiting: dict[str, Obj]) -> None:
        containers = self.runtime.pod_containers(pod["metadata"]["uid"])
        _, runs = self.runtime.split(containers)
        key = self._key(pod)
        statuses = []
        for spec in pod["spec"]["containers"]:
            history = runs.get(spec["name"]) or []
            ready = True
            if history and history[0].state.get("Running"):
                self.prober.track(key, pod_ip, history[0].container, spec)
                ready = self.prober.ready(history[0].container.id, spec)
            statuses.append(podstatus.container_status(spec, history, waiting.get(spec["name"]), ready))
        init_statuses = [
            podstatus.container_status(c, runs.get(c["name"]) or [], waiting.get(c["name"]), True)
            for c in pod["spec"].get("initContainers") or []
        ]
        if not initialized:
            statuses = [
                s | {"ready": False, "started": False} if not runs.get(s["name"]) else s for s in statuses
            ]
        ready = initialized and all(s["ready"] for s in statuses)
        old = pod.get("status") or {}
        status: Obj = {
            "phase": podstatus.phase(pod, statuses if initialized else [], initialized),
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "hostIP": self.settings.gateway,
            "hostIPs": [{"ip": self.settings.gateway}],
            "conditions": podstatus.conditions(old.get("conditions") or [], initialized, ready),
            "containerStatuses": statuses,
            "startTime": old.get("startTime") or podstatus.now(),
            "qosClass": old.get("qosClass", "BestEffort"),
        }
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        if all(old.get(k) == v for k, v in status.items()):
            return
        meta = pod["metadata"]
        try:
            fresh = self.kube.call(
                self.kube.core.patch_namespaced_pod_status,
                meta["name"],
                meta["namespace"],
                {"metadata": {"uid": meta["uid"]}, "status": status},
                _content_type=MERGE,
            )
        except Exception as error:
            if status_code(error) in (404, 409):
                return  # deleted or replaced meanwhile: the next event brings the truth
            raise
        self.pods.upsert(fresh)

"""Wires the runner together: informers over HTTP, controllers, kubelet, kube-proxy, DNS and Docker events."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from .daemonsets import DaemonSetController
from .deployments import DeploymentController
from .dns import ClusterDns
from .endpoints import EndpointsController
from .events import Recorder
from .informer import Informer
from .jobs import JobController
from .kubeapi import Kube
from .kubelet import Kubelet
from .node import NodeAgent
from .proxy import Proxy
from .replicasets import ReplicaSetController
from .runtime import Runtime
from .settings import LABEL, LABEL_POD, Settings
from .statefulsets import StatefulSetController

log = logging.getLogger(__name__)
RESYNC_SECONDS = 10.0


class Runner:
    """One node's worth of control loops for the sandbox API server found in `kubeconfig`."""

    def __init__(self, settings: Settings, kubeconfig: Path, docker_client, infra_image: str) -> None:
        self.settings = settings
        self.kube = Kube(kubeconfig)
        self.docker = docker_client
        core, apps = self.kube.core, self.kube.apps
        self.informers = {
            "pods": Informer("pods", core.list_pod_for_all_namespaces),
            "services": Informer("services", core.list_service_for_all_namespaces),
            "endpoints": Informer("endpoints", core.list_endpoints_for_all_namespaces),
            "configmaps": Informer("configmaps", core.list_config_map_for_all_namespaces),
            "secrets": Informer("secrets", core.list_secret_for_all_namespaces),
            "replicasets": Informer("replicasets", apps.list_replica_set_for_all_namespaces),
            "deployments": Informer("deployments", apps.list_deployment_for_all_namespaces),
            "statefulsets": Informer("statefulsets", apps.list_stateful_set_for_all_namespaces),
            "daemonsets": Informer("daemonsets", apps.list_daemon_set_for_all_namespaces),
            "jobs": Informer("jobs", self.kube.batch.list_job_for_all_namespaces),
        }
        i = self.informers
        self.runtime = Runtime(docker_client, settings, infra_image)
        self.events = Recorder(self.kube, "kubelet", settings.node_name)
        self.kubelet = Kubelet(
            settings,
            self.kube,
            self.runtime,
            i["pods"],
            i["configmaps"],
            i["secrets"],
            i["services"],
            self.events,
        )
        controllers = Recorder(self.kube, "controller-manager", settings.node_name)
        self.recorders = [self.events, controllers]
        self.replicasets = ReplicaSetController(self.kube, i["replicasets"], i["pods"], controllers)
        self.deployments = DeploymentController(self.kube, i["deployments"], i["replicasets"], controllers)
        self.statefulsets = StatefulSetController(self.kube, i["statefulsets"], i["pods"])
        self.daemonsets = DaemonSetController(settings, self.kube, i["daemonsets"], i["pods"], controllers)
        self.jobs = JobController(self.kube, i["jobs"], i["pods"], controllers)
        self.endpoints = EndpointsController(self.kube, i["services"], i["pods"], i["endpoints"])
        self.proxy = Proxy(settings, i["services"], i["endpoints"])
        self.dns = ClusterDns(settings, self.kube, docker_client, i["services"], i["endpoints"])
        self.node = NodeAgent(settings, self.kube)
        self._stop = threading.Event()
        self._docker_events: Any = None
        self._threads: list[threading.Thread] = []

    def start(self, timeout: float = 30.0) -> None:
        for recorder in self.recorders:
            recorder.start()
        self.node.register()
        self.dns.publish(self.dns.start_container())
        for informer in self.informers.values():
            informer.start()
        for name, informer in self.informers.items():
            if not informer.synced.wait(timeout):
                raise TimeoutError(f"informer {name} did not sync within {timeout}s")
        for part in (
            self.proxy,
            self.dns,
            self.endpoints,
            self.replicasets,
            self.deployments,
            self.statefulsets,
            self.daemonsets,
            self.jobs,
            self.kubelet,
        ):
            part.start()
        for target in (self._watch_docker, self._resync):
            thread = threading.Thread(target=target, name=target.__name__, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        if self._docker_events is not None:
            try:
                self._docker_events.close()
            except Exception:  # noqa: BLE001 - the stream is going away either way
                pass
        for part in (
            self.kubelet,
            self.deployments,
            self.statefulsets,
            self.daemonsets,
            self.jobs,
            self.replicasets,
            self.endpoints,
            self.dns,
            self.proxy,
            self.node,
        ):
            part.stop()
        for informer in self.informers.values():
            informer.stop()
        for recorder in self.recorders:
            recorder.stop()
        self.kube.close()

    def _watch_docker(self) -> None:
        """A container that dies (crash, OOM, `docker kill`) is a reason to sync its Pod now."""
        while not self._stop.is_set():
            try:
                self._docker_events = self.docker.events(
                    decode=True,
                    filters={
                        "type": "container",
                        "event": ["die", "oom"],
                        "label": f"{LABEL}={self.settings.instance}",
                    },
                )
                for event in self._docker_events:
                    pod = (event.get("Actor") or {}).get("Attributes", {}).get(LABEL_POD)
                    if pod:
                        self.kubelet.container_died(pod)
            except Exception:  # noqa: BLE001 - reconnect unless stopping
                if self._stop.wait(0.5):
                    return

    def _resync(self) -> None:
        """Level-triggered safety net: every Pod syncs again, and containers of Pods that are gone go too."""
        while not self._stop.wait(RESYNC_SECONDS):
            try:
                known = {p["metadata"]["uid"] for p in self.informers["pods"].list()}
                running = self.runtime.list(
                    filters={"label": f"{LABEL}={self.settings.instance}", "status": "running"}
                )
                self.kubelet.prober.forget_except({c.id for c in running})
                for uid, pod in self.runtime.all_pod_uids().items():
                    if uid not in known:  # the sync of that name removes containers of a uid that is gone
                        namespace, _, name = pod.partition("/")
                        self.kubelet.queue.add((namespace, name))
                for pod in self.informers["pods"].list():
                    self.kubelet.queue.add((pod["metadata"]["namespace"], pod["metadata"]["name"]))
            except Exception:  # noqa: BLE001 - try again next round
                log.exception("resync failed")

"""The one Node of the sandbox, registered and kept Ready like a kubelet's node status loop."""

from __future__ import annotations

import os
import threading
from typing import Any

from .kubeapi import MERGE, Kube, status_code
from .podstatus import now
from .settings import Settings

Obj = dict[str, Any]


def node_status(settings: Settings, version: str) -> Obj:
    stamp = now()
    return {
        "addresses": [
            {"type": "InternalIP", "address": settings.gateway},
            {"type": "Hostname", "address": settings.node_name},
        ],
        "capacity": {"cpu": str(os.cpu_count() or 1), "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": str(os.cpu_count() or 1), "memory": "8Gi", "pods": "110"},
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "gefyra test sandbox runner is posting ready status",
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": stamp,
            }
        ],
        "nodeInfo": {
            "kubeletVersion": version,
            "kubeProxyVersion": version,
            "containerRuntimeVersion": "docker://",
            "operatingSystem": "linux",
            "architecture": "amd64",
            "osImage": "gefyra test sandbox",
            "kernelVersion": os.uname().release,
            "machineID": "",
            "systemUUID": "",
            "bootID": "",
        },
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    }


class NodeAgent:
    HEARTBEAT = 20.0

    def __init__(self, settings: Settings, kube: Kube) -> None:
        self.settings, self.kube = settings, kube
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="node-heartbeat", daemon=True)
        self.version = "v1.30.0"

    def register(self) -> None:
        from kubernetes import client

        try:
            self.version = self.kube.call(client.VersionApi(self.kube.api_client).get_code).get(
                "gitVersion", self.version
            )
        except Exception:  # noqa: BLE001 - the version is cosmetic
            pass
        labels = {
            "kubernetes.io/hostname": self.settings.node_name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "node-role.kubernetes.io/control-plane": "",
            "dev.gefyra.sandbox": self.settings.instance,
        }
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": self.settings.node_name, "labels": labels},
            "spec": {"podCIDR": str(self.settings.pod_cidr), "podCIDRs": [str(self.settings.pod_cidr)]},
        }
        try:
            self.kube.call(self.kube.core.create_node, body)
        except Exception as error:
            if status_code(error) != 409:
                raise
        self._heartbeat()
        self._thread.start()

    def _heartbeat(self) -> None:
        self.kube.call(
            self.kube.core.patch_node_status,
            self.settings.node_name,
            {"status": node_status(self.settings, self.version)},
            _content_type=MERGE,
        )

    def _loop(self) -> None:
        while not self._stop.wait(self.HEARTBEAT):
            try:
                self._heartbeat()
            except Exception:  # noqa: BLE001 - the next beat tries again
                pass

    def stop(self) -> None:
        self._stop.set()

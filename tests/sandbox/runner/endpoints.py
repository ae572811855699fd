"""The Endpoints controller: for each Service with a selector, the addresses of its matching Pods (ready ones
in `addresses`, the others in `notReadyAddresses`) with target ports resolved (named container ports too).
"""

from __future__ import annotations

import logging
from typing import Any

from .informer import Informer
from .kubeapi import Kube, status_code
from .selectors import is_ready, matches
from .workqueue import Workers

log = logging.getLogger(__name__)
Obj = dict[str, Any]


def _target(service_port: Obj, pod: Obj) -> int | None:
    target = service_port.get("targetPort", service_port["port"])
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in pod["spec"].get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == service_port.get(
                "protocol", "TCP"
            ):
                return int(port["containerPort"])
    return None


def subsets(service: Obj, pods: list[Obj]) -> list[Obj]:
    """Endpoints subsets; Pods whose named ports resolve alike share one (as in the real controller)."""
    groups: dict[tuple, Obj] = {}
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or pod["metadata"].get("deletionTimestamp"):
            continue
        ports = []
        for port in service["spec"].get("ports") or []:
            number = _target(port, pod)
            if number is not None:
                entry = {"port": number, "protocol": port.get("protocol", "TCP")}
                if port.get("name"):
                    entry["name"] = port["name"]
                ports.append(entry)
        if not ports:
            continue
        group = groups.setdefault(tuple((p.get("name", ""), p["port"]) for p in ports), {"ports": ports})
        address = {
            "ip": ip,
            "nodeName": pod["spec"].get("nodeName", ""),
            "targetRef": {
                "kind": "Pod",
                "namespace": pod["metadata"]["namespace"],
                "name": pod["metadata"]["name"],
                "uid": pod["metadata"]["uid"],
            },
        }
        # StatefulSet Pods get `<hostname>.<service>.<ns>.svc` records through their headless Service.
        if pod["spec"].get("hostname") and pod["spec"].get("subdomain") == service["metadata"]["name"]:
            address["hostname"] = pod["spec"]["hostname"]
        group.setdefault("addresses" if is_ready(pod) else "notReadyAddresses", []).append(address)
    return list(groups.values())


class EndpointsController:
    def __init__(self, kube: Kube, services: Informer, pods: Informer, endpoints: Informer) -> None:
        self.kube, self.services, self.pods, self.endpoints = kube, services, pods, endpoints
        self.workers = Workers("endpoints")
        self.queue = self.workers.queue
        services.add_handler(
            lambda _k, s: self.queue.add((s["metadata"]["namespace"], s["metadata"]["name"]))
        )
        pods.add_handler(self._pod_changed)

    def _pod_changed(self, _kind: str, pod: Obj) -> None:
        for service in self.services.list(pod["metadata"]["namespace"]):
            self.queue.add((service["metadata"]["namespace"], service["metadata"]["name"]))

    def start(self) -> None:
        self.workers.run(self.sync, 1)

    def stop(self) -> None:
        self.workers.stop()

    def sync(self, key: tuple[str, str]) -> None:
        namespace, name = key
        service = self.services.get(namespace, name)
        current = self.endpoints.get(namespace, name)
        if service is None:
            if (
                current is not None
                and (current["metadata"].get("labels") or {}).get("endpoints.kubernetes.io/managed-by")
                == "endpoint-controller"
            ):
                self._delete(current)
            return
        selector = service["spec"].get("selector")
        if not selector:
            return  # selector-less Services keep hand-made Endpoints (e.g. default/kubernetes)
        pods = [
            p
            for p in self.pods.list(namespace)
            if matches({"matchLabels": selector}, p["metadata"].get("labels"))
        ]
        wanted = subsets(service, pods)
        labels = {
            **(service["metadata"].get("labels") or {}),
            "endpoints.kubernetes.io/managed-by": "endpoint-controller",
        }
        if (
            current is not None
            and (current.get("subsets") or []) == wanted
            and (current["metadata"].get("labels") or {}) == labels
        ):
            return
        body = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "subsets": wanted,
        }
        if current is None:
            try:
                fresh = self.kube.call(self.kube.core.create_namespaced_endpoints, namespace, body)
            except Exception as error:
                if status_code(error) != 409:
                    raise
                fresh = self.kube.call(self.kube.core.read_namespaced_endpoints, name, namespace)
                body["metadata"]["resourceVersion"] = fresh["metadata"]["resourceVersion"]
                fresh = self.kube.call(self.kube.core.replace_namespaced_endpoints, name, namespace, body)
        else:
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            fresh = self.kube.call(self.kube.core.replace_namespaced_endpoints, name, namespace, body)
        self.endpoints.upsert(fresh)

    def _delete(self, endpoints: Obj) -> None:
        meta = endpoints["metadata"]
        try:
            self.kube.call(self.kube.core.delete_namespaced_endpoints, meta["name"], meta["namespace"])
        except Exception as error:
            if status_code(error) != 404:
                raise
        self.endpoints.forget(endpoints)

"""Shared steps of the Operator's Pod tests: gefyra installed from its manifests with the Operator as a Pod,
developer machines connected through GefyraClients, workloads, bridges and the checks on them (official
client only)."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from typing import Any

from gefyra.cluster import names
from tests.dataplane.testbed import new_run_id
from tests.operator import stand
from tests.operator.machines import HTTP_PORT, TCP_PORT, Machine, peer_from_secret, remove_all
from tests.sandbox.fixtures import wait_for

NS = names.NAMESPACE


@dataclass
class Install:
    """gefyra in the sandbox (Operator and Stowaway as Pods) plus the developer machines of this module."""

    kube: Any
    docker: Any
    tags: dict[str, str]
    node_port: int
    run_id: str = field(default_factory=lambda: new_run_id("op"))
    machines: dict[str, Machine] = field(default_factory=dict)

    def connect(self, client: str) -> Machine:
        """A GefyraClient for a new project network; Cargo from its peer Secret; the app behind it.
        Resumes a connect that failed midway (a later test of the module gets a whole machine, never the
        half-made one)."""
        machine = self.machines.setdefault(client, Machine(self.docker, self.run_id, client))
        if not machine.network:
            machine.make_network()
        if not exists(self.kube, names.CLIENT_PLURAL, client):
            spec = {"project": "shop", "clientId": client, "routedSubnets": [machine.subnet]}
            create(self.kube, names.CLIENT_PLURAL, client, spec)
        wait_for(
            lambda: status(self.kube, names.CLIENT_PLURAL, client).get("phase") == "Ready",
            90,
            f"GefyraClient {client} Ready",
        )
        machine.restart(peer_from_secret(self.kube, client), self.node_port)
        return machine

    def machine(self, client: str) -> Machine:
        found = self.machines.get(client)
        return found if found and found.app is not None else self.connect(client)


def install(sandbox: Any, kube: Any, docker: Any) -> Install:
    tags = stand.images(docker)
    node_port = stand.random_node_port()
    settings = stand.install_settings(sandbox, tags, node_port=node_port)
    stand.apply(kube.api_client, stand.install_manifests(settings))
    wait_for(lambda: running(kube, "stowaway"), 120, "Stowaway running")
    wait_for(lambda: running(kube, "operator"), 120, "Operator running")
    return Install(kube, docker, tags, node_port)


def uninstall(setup: Install) -> None:
    remove_all(setup.docker, setup.run_id)
    stand.remove(setup.kube.api_client)


# ------------------------------------------------------------------------------------------ objects
def custom(kube: Any) -> Any:
    from kubernetes import client

    return client.CustomObjectsApi(kube.api_client)


def create(kube: Any, plural: str, name: str, spec: dict[str, Any]) -> None:
    kind = names.CLIENT_KIND if plural == names.CLIENT_PLURAL else names.BRIDGE_KIND
    body = {"apiVersion": names.API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}
    custom(kube).create_namespaced_custom_object(names.GROUP, names.VERSION, NS, plural, body)


def get(kube: Any, plural: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = custom(kube).get_namespaced_custom_object(
        names.GROUP, names.VERSION, NS, plural, name
    )
    return found


def status(kube: Any, plural: str, name: str) -> dict[str, Any]:
    return dict(get(kube, plural, name).get("status") or {})


def delete(kube: Any, plural: str, name: str) -> None:
    custom(kube).delete_namespaced_custom_object(names.GROUP, names.VERSION, NS, plural, name)


def exists(kube: Any, plural: str, name: str) -> bool:
    return not gone(kube, plural, name)


def gone(kube: Any, plural: str, name: str) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        get(kube, plural, name)
    except ApiException as error:
        return error.status == 404
    return False


def running(kube: Any, component: str) -> Any:
    pods = kube.core.list_namespaced_pod(NS, label_selector=names.selector(component)).items
    ready = [
        p
        for p in pods
        if p.status.phase == "Running" and p.status.pod_ip and not p.metadata.deletion_timestamp
    ]
    return ready[0] if ready else None


def plain(kube: Any, obj: Any) -> dict[str, Any]:
    found: dict[str, Any] = kube.api_client.sanitize_for_serialization(obj)
    return found


# ------------------------------------------------------------------------------------------ workloads
def deployment(kube: Any, namespace: str, name: str, image: str, replicas: int = 1, **container: Any) -> None:
    ports = [{"name": "http", "containerPort": HTTP_PORT}, {"name": "echo", "containerPort": TCP_PORT}]
    spec = {"name": "web", "image": image, "ports": ports, **container}
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [spec]}},
        },
    }
    kube.apps.create_namespaced_deployment(namespace, body)


def pods(kube: Any, namespace: str, app: str, count: int, timeout: float = 90) -> list[Any]:
    """Exactly `count` live Running Pods of the app, sorted by name."""

    def probe() -> list[Any] | None:
        found = kube.core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
        live = [p for p in found if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
        return sorted(live, key=lambda p: p.metadata.name) if len(live) == count else None

    return wait_for(probe, timeout, f"{count} Pods of {app} running")


def bridge(kube: Any, name: str, namespace: str, app: str, machine: Machine) -> None:
    spec = {
        "target": f"deployment/{app}",
        "namespace": namespace,
        "client": machine.client,
        "localIp": machine.app_ip,
        "ports": {str(HTTP_PORT): HTTP_PORT, str(TCP_PORT): TCP_PORT},
    }
    create(kube, names.BRIDGE_PLURAL, name, spec)


def bridged_pods(kube: Any, name: str, count: int, timeout: float = 90) -> dict[str, Any]:
    """Wait for the bridge to be Active with `count` Pods, all Bridged; its status (the last one seen in the
    error: which phase or Pod it stuck at)."""
    seen: list[dict[str, Any]] = [{}]

    def probe() -> bool:
        seen[0] = found = status(kube, names.BRIDGE_PLURAL, name)
        states = [p["state"] for p in found.get("pods") or []]
        return found.get("phase") == "Active" and states == ["Bridged"] * count

    try:
        wait_for(probe, timeout, f"bridge {name} Active on {count} Pod(s)")
    except AssertionError as error:
        raise AssertionError(f"{error}; its last status: {seen[0]}") from None
    return seen[0]


def answer(pod_ip: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(f"http://{pod_ip}:{HTTP_PORT}/", timeout=timeout) as response:
        return str(response.read().decode()).strip()


def wait_answer(pod_ip: str, expected: str, timeout: float = 90) -> str:
    """Poll the Pod's port until it answers `expected` (Carrier up and the tunnel through)."""
    wait_for(lambda: answer(pod_ip) == expected, timeout, f"{pod_ip} answering {expected}")
    return expected

"""Cluster DNS: a dnsmasq container on the cluster network behind the kube-dns ClusterIP. It answers
`<svc>.<ns>.svc.cluster.local` (the ClusterIP, or every ready address of a headless Service) from a hosts file
the runner rewrites on every change, followed by SIGHUP. Names outside the cluster domain are not resolved.
"""

from __future__ import annotations

import logging
from typing import Any

from ..images import ensure_image
from .informer import Informer
from .kubeapi import Kube, status_code
from .settings import LABEL_ROLE, Settings
from .workqueue import Workers

log = logging.getLogger(__name__)
Obj = dict[str, Any]
ALL = "all"


def hosts_text(settings: Settings, services: list[Obj], endpoints: dict[tuple[str, str], Obj]) -> str:
    lines = []
    for service in sorted(services, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
        namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
        fqdn = f"{name}.{namespace}.svc.{settings.cluster_domain}"
        ip = (service.get("spec") or {}).get("clusterIP")
        if ip and ip != "None":
            lines.append(f"{ip} {fqdn}")
        elif ip == "None":
            for subset in (endpoints.get((namespace, name)) or {}).get("subsets") or []:
                for address in subset.get("addresses") or []:
                    lines.append(f"{address['ip']} {fqdn}")
                    if address.get("hostname"):
                        lines.append(f"{address['ip']} {address['hostname']}.{fqdn}")
    return "".join(f"{line}\n" for line in lines)


class ClusterDns:
    def __init__(
        self, settings: Settings, kube: Kube, docker_client, services: Informer, endpoints: Informer
    ) -> None:
        self.settings, self.kube, self.client = settings, kube, docker_client
        self.services, self.endpoints = services, endpoints
        self.directory = settings.state_dir / "dns"
        self.workers = Workers("dns")
        self.queue = self.workers.queue
        self.container: Any = None
        for informer in (services, endpoints):
            informer.add_handler(lambda _k, _o: self.queue.add(ALL))

    @property
    def container_name(self) -> str:
        return f"{self.settings.prefix}-dns"

    def start_container(self) -> str:
        """Start dnsmasq (idempotent); returns its address on the cluster network."""
        import docker.errors
        import docker.types

        self.directory.mkdir(parents=True, exist_ok=True)
        hosts = self.directory / "hosts"
        if not hosts.exists():
            hosts.write_text("")
        try:
            container = self.client.containers.get(self.container_name)
            if container.status != "running":
                container.remove(force=True)
                raise docker.errors.NotFound("stopped")
        except docker.errors.NotFound:
            container = self.client.containers.run(
                ensure_image(self.client, "dns"),
                name=self.container_name,
                detach=True,
                network=self.settings.network_name,
                labels={**self.settings.labels, LABEL_ROLE: "dns"},
                mounts=[
                    docker.types.Mount("/etc/sandbox-dns", str(self.directory), type="bind", read_only=True)
                ],
            )
        container.reload()
        self.container = container
        return container.attrs["NetworkSettings"]["Networks"][self.settings.network_name]["IPAddress"]

    def publish(self, dns_ip: str) -> None:
        """The kube-dns Service at its fixed ClusterIP and its Endpoints (what the DNS addon would create)."""
        labels = {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "labels": labels},
            "spec": {
                "clusterIP": self.settings.dns_service_ip,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                ],
            },
        }
        endpoints = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "kube-dns", "labels": labels},
            "subsets": [
                {
                    "addresses": [{"ip": dns_ip}],
                    "ports": [
                        {"name": "dns", "port": 53, "protocol": "UDP"},
                        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                    ],
                }
            ],
        }
        core = self.kube.core
        for create, replace, read, body in (
            (core.create_namespaced_service, None, None, service),
            (
                core.create_namespaced_endpoints,
                core.replace_namespaced_endpoints,
                core.read_namespaced_endpoints,
                endpoints,
            ),
        ):
            try:
                self.kube.call(create, "kube-system", body)
            except Exception as error:
                if status_code(error) != 409:
                    raise
                if replace is not None:
                    current = self.kube.call(read, "kube-dns", "kube-system")
                    body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                    self.kube.call(replace, "kube-dns", "kube-system", body)

    def start(self) -> None:
        self.workers.run(self.sync, 1)
        self.queue.add(ALL)

    def stop(self) -> None:
        self.workers.stop()

    def sync(self, _key: str) -> None:
        endpoints = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in self.endpoints.list()}
        text = hosts_text(self.settings, self.services.list(), endpoints)
        path = self.directory / "hosts"
        if path.read_text() != text:
            # Rewrite in place (not a rename): the bind mount follows the inode.
            with open(path, "w") as handle:
                handle.write(text)
            if self.container is not None:
                self.container.kill(signal="SIGHUP")

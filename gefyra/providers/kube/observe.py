"""One snapshot of the cluster side, by label only: the install (namespace, CRDs, Deployments), this
project's GefyraClients and GefyraBridges, and (for `install: auto`) the facts the install needs (cluster
routes, DNS, a node address). A handful of GETs per plan, no per-object reads."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field

from gefyra.cluster import names
from gefyra.model.cluster_specs import (
    DEPENDS_ANNOTATION,
    KIND_LABEL,
    NAME_LABEL,
    SPEC_ANNOTATION,
    client_name,
)
from gefyra.model.hashing import canonical_json
from gefyra.model.resources import Observed, Resource, ResourceKey
from gefyra.providers.base import Snapshot
from gefyra.providers.errors import NotFound
from gefyra.providers.kube.boundary import Kube, KubeObject
from gefyra.providers.kube.peer import current_version

SERVICE_ROUTE_PREFIX = 16  # the Service range cannot be read from the API: route the /16 around it


@dataclass(frozen=True)
class ClusterFacts:
    """What an install needs to know about the cluster (read, never configured by hand)."""

    cluster_routes: list[str]
    cluster_dns: list[str]
    node_address: str | None


@dataclass
class InstallState:
    namespace: KubeObject | None = None
    crds: list[str] = field(default_factory=list)
    deployments: dict[str, KubeObject] = field(default_factory=dict)

    def ready(self, name: str) -> bool:
        found = self.deployments.get(name)
        return found is not None and int(str(found.status.get("readyReplicas") or 0)) >= 1


@dataclass
class KubeSnapshot:
    project: str | None
    client_id: str
    connected: bool = False  # False: no cluster for this project (nothing was ever made there)
    install: InstallState = field(default_factory=InstallState)
    facts: ClusterFacts | None = None
    clients: list[KubeObject] = field(default_factory=list)
    bridges: list[KubeObject] = field(default_factory=list)
    peer_version: str = ""  # of the peer config in this client's Secret ("" when there is none)

    def of_kind(self, kind: str) -> list[KubeObject]:
        items = self.clients if kind == "client" else self.bridges if kind == "bridge" else []
        return [item for item in items if item.metadata.labels.get(KIND_LABEL) == kind]


def kube_snapshot(snapshot: Snapshot) -> KubeSnapshot:
    return snapshot.of("kube", KubeSnapshot)


def project_selector(project: str | None, client: str | None = None) -> str:
    """gefyra's objects of `project` (every project when None) of one GefyraClient (this machine's)."""
    parts = [f"{names.MANAGED_BY}={names.MANAGED_BY_VALUE}"]
    parts.append(f"{names.PROJECT}={project}" if project else names.PROJECT)
    if client:
        parts.append(f"{names.CLIENT}={client}")
    return ",".join(parts)


def observe(kube: Kube, project: str | None, client_id: str, *, facts: bool) -> KubeSnapshot:
    snapshot = KubeSnapshot(project=project, client_id=client_id, connected=True)
    snapshot.install = observe_install(kube)
    if snapshot.install.namespace is not None and len(snapshot.install.crds) == 2:
        selector = project_selector(project, client_name(project, client_id) if project else None)
        snapshot.clients = _list(kube, names.CLIENT_KIND, selector)
        snapshot.bridges = _list(kube, names.BRIDGE_KIND, selector)
        mine = client_name(project, client_id) if project else ""
        if any(item.name == mine for item in snapshot.clients):
            snapshot.peer_version = current_version(kube, mine)
    if facts:
        snapshot.facts = cluster_facts(kube)
    return snapshot


def _list(kube: Kube, kind: str, selector: str) -> list[KubeObject]:
    try:
        found = kube.list(kind, names.NAMESPACE, labels=selector)
    except NotFound:  # the CRD went away between two reads
        return []
    return sorted(found, key=lambda item: item.name)


def observe_install(kube: Kube) -> InstallState:
    state = InstallState(namespace=kube.find("Namespace", names.NAMESPACE))
    crds = kube.list("CustomResourceDefinition", labels=names.selector("crd"))
    state.crds = sorted(item.name for item in crds)
    if state.namespace is not None:
        deployments = kube.list("Deployment", names.NAMESPACE, labels=names.selector())
        state.deployments = {item.name: item for item in deployments}
    return state


def cluster_facts(kube: Kube) -> ClusterFacts:
    """Pod ranges (the nodes' podCIDRs), the Service range (the /16 around `default/kubernetes`), the DNS
    Service's address, and a node's InternalIP (where the WireGuard NodePort answers)."""
    nodes = kube.list("Node")
    routes: list[str] = []
    address = None
    for node in nodes:
        cidrs = node.spec.get("podCIDRs") or [node.spec.get("podCIDR")]
        routes += [c for c in cidrs if isinstance(c, str) and c] if isinstance(cidrs, list) else []
        addresses = node.status.get("addresses")
        for item in addresses if isinstance(addresses, list) else []:
            if isinstance(item, dict) and item.get("type") == "InternalIP" and address is None:
                address = str(item.get("address"))
    api_ip = kube.get("Service", "kubernetes", "default").spec.get("clusterIP")
    if isinstance(api_ip, str) and api_ip:
        routes.append(str(ipaddress.IPv4Network(f"{api_ip}/{SERVICE_ROUTE_PREFIX}", strict=False)))
    dns = kube.find("Service", "kube-dns", "kube-system")
    dns_ip = dns.spec.get("clusterIP") if dns is not None else None
    return ClusterFacts(
        cluster_routes=sorted(set(routes)),
        cluster_dns=[dns_ip] if isinstance(dns_ip, str) and dns_ip else [],
        node_address=address,
    )


def resource_from(obj: KubeObject, observed: Observed) -> Resource:
    """A Resource read back from an object's labels and its spec annotation."""
    meta = obj.metadata
    try:
        spec = json.loads(meta.annotations.get(SPEC_ANNOTATION, "{}"))
    except ValueError:
        spec = {}
    deps = tuple(
        ResourceKey.parse(text) for text in meta.annotations.get(DEPENDS_ANNOTATION, "").split(",") if text
    )
    return Resource(
        kind=meta.labels.get(KIND_LABEL, ""),
        name=meta.labels.get(NAME_LABEL, ""),
        spec=spec if isinstance(spec, dict) else {},
        depends_on=deps,
        spec_hash=meta.annotations.get(names.SPEC_HASH, "") or "unknown",
        observed=observed,
    )


def object_meta(project: str, client: str, resource: Resource, component: str) -> dict[str, object]:
    """Labels and annotations of a cluster object made for `resource` (the spec hash is an annotation:
    label values cannot hold `sha256:...`)."""
    return {
        "labels": names.labels(
            component,
            **{
                names.PROJECT: project,
                names.CLIENT: client,
                KIND_LABEL: resource.kind,
                NAME_LABEL: resource.name,
            },
        ),
        "annotations": {
            names.SPEC_HASH: resource.spec_hash,
            SPEC_ANNOTATION: canonical_json(resource.spec),
            DEPENDS_ANNOTATION: ",".join(str(dep) for dep in resource.depends_on),
        },
    }

"""`gefyra check`: is this machine ready for the project's cluster path? Each check is one line with what to
do when it is not: Docker answers, the cluster answers, the kubeconfig's user may do what gefyra needs
(SelfSubjectAccessReview), Stowaway's UDP endpoint is reachable, and no subnet clashes with what the tunnel
routes. Only reads (and one UDP datagram to Stowaway's endpoint); never changes anything.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from gefyra.cluster import names
from gefyra.cluster.install import InstallSettings
from gefyra.config.model import Config
from gefyra.errors import GefyraError
from gefyra.model.cluster_specs import client_name
from gefyra.model.desired import network_name
from gefyra.providers.docker.engine import Engine
from gefyra.providers.docker.engine.transport import docker_host
from gefyra.providers.kube import identity
from gefyra.providers.kube.boundary import ClusterRef, Kube
from gefyra.providers.kube.client import status_of
from gefyra.providers.kube.endpoint import EndpointProbe, probe_udp
from gefyra.providers.kube.observe import ClusterFacts, InstallState, cluster_facts, observe_install

Status = Literal["ok", "warn", "fail"]
FRESH_HANDSHAKE_S = 180  # WireGuard re-handshakes every 2 minutes while a tunnel carries traffic


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""


@dataclass(frozen=True)
class Need:
    """One permission gefyra needs, and what for."""

    verb: str
    resource: str
    group: str
    namespace: str
    why: str

    def __str__(self) -> str:
        what = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{self.verb} {what}" + (f" in namespace {self.namespace}" if self.namespace else "")


def needs(config: Config) -> list[Need]:
    """What the kubeconfig's user must be allowed for this gefyra.yaml (pure)."""
    assert config.cluster is not None
    ns, group = names.NAMESPACE, names.GROUP
    found = [
        Need("create", "gefyraclients", group, ns, "this machine's GefyraClient"),
        Need("get", "secrets", "", ns, "the peer config the Operator writes"),
    ]
    if config.cluster.install == "auto":
        found += [
            Need("create", "namespaces", "", "", "the install (cluster.install: auto)"),
            Need("create", "customresourcedefinitions", "apiextensions.k8s.io", "", "the install"),
            Need(
                "create", "clusterroles", "rbac.authorization.k8s.io", "", "the install (the Operator's role)"
            ),
            Need("create", "clusterrolebindings", "rbac.authorization.k8s.io", "", "the install"),
            Need("create", "deployments", "apps", ns, "the install (Operator, Stowaway)"),
            Need("list", "nodes", "", "", "the install (cluster routes and the endpoint)"),
        ]
    bridged = sorted({b.namespace for b in config.bridges.values()})
    if config.bridges:
        found.append(Need("create", "gefyrabridges", group, ns, "the bridges"))
    found += [Need("patch", "pods", "", n, "`down` restoring Pods when no Operator runs") for n in bridged]
    envs = sorted(
        {e.namespace or config.cluster.namespace for c in config.containers.values() for e in c.env_from}
    )
    for namespace in envs:
        found += [
            Need(verb, what, "", namespace, "env_from")
            for verb, what in (
                ("list", "pods"),
                ("get", "configmaps"),
                ("get", "secrets"),
                ("list", "services"),
            )
        ]
    return found


def check_docker() -> tuple[Check, Engine | None]:
    try:
        engine = Engine.from_env()
        version = engine.ping()
    except GefyraError as error:
        return Check("docker", "fail", error.message, error.hint or "start Docker, or set DOCKER_HOST"), None
    return Check("docker", "ok", f"Docker engine (API {version}) at {docker_host()}"), engine


def check_cluster(config: Config) -> tuple[Check, Kube | None]:
    assert config.cluster is not None
    ref = ClusterRef.resolve(config.cluster.kubeconfig, config.cluster.context)
    try:
        kube = Kube.connect(ref)
        version = kube.server_version()
    except GefyraError as error:
        hint = error.hint or "check cluster.kubeconfig / cluster.context in gefyra.yaml"
        return Check("cluster", "fail", error.message, hint), None
    return Check("cluster", "ok", f"Kubernetes {version or '(no version)'} at {kube.host} ({ref})"), kube


def check_access(kube: Kube, config: Config) -> list[Check]:
    missing = []
    for need in needs(config):
        try:
            allowed = kube.review_access(need.verb, need.resource, need.group, need.namespace)
        except GefyraError as error:
            return [
                Check("access", "fail", f"SelfSubjectAccessReview failed: {error.message}", error.hint or "")
            ]
        if not allowed:
            missing.append(need)
    if not missing:
        return [Check("access", "ok", f"allowed: all {len(needs(config))} permissions gefyra needs here")]
    install = any(n.why.startswith("the install") for n in missing)
    hint = "ask a cluster admin for them" + (
        "; or let an admin install gefyra (`gefyra install --print`) and set cluster.install: never"
        if install
        else ""
    )
    return [Check("access", "fail", f"may not {need} (for {need.why})", hint) for need in missing]


def endpoint_of(config: Config, facts: ClusterFacts | None, node_port: int) -> str | None:
    """Stowaway's UDP endpoint as this machine reaches it: cluster.endpoint, else a node's address."""
    assert config.cluster is not None
    if config.cluster.endpoint != "auto":
        return config.cluster.endpoint
    if facts is not None and facts.node_address:
        return f"{facts.node_address}:{node_port}"
    return None


def check_endpoint(kube: Kube, config: Config, install: InstallState, facts: ClusterFacts | None) -> Check:
    """A probe of the endpoint gefyra.yaml names (a refusal is a failure whatever tunnel runs now), then this
    machine's last handshake as the proof that silence means WireGuard."""
    endpoint = endpoint_of(config, facts, names.DEFAULT_NODE_PORT)
    if endpoint is None:
        hint = "set cluster.endpoint to host:port of Stowaway's NodePort as reachable from here"
        return Check("endpoint", "fail", "cluster.endpoint is auto and no node has an InternalIP", hint)
    if not install.ready(names.STOWAWAY):
        return Check(
            "endpoint", "warn", f"{endpoint}/udp: Stowaway is not running yet", "`gefyra up` installs it"
        )
    host, _, port = endpoint.rpartition(":")
    result: EndpointProbe = probe_udp(host.strip("[]"), int(port))
    if result == "refused":
        hint = "set cluster.endpoint to an address and port where Stowaway's NodePort answers from here"
        return Check("endpoint", "fail", f"{endpoint}/udp: nothing listens there (port unreachable)", hint)
    if result == "unresolved":
        return Check("endpoint", "fail", f"{endpoint}/udp: {host} does not resolve", "fix cluster.endpoint")
    if result == "answered":
        hint = "check cluster.endpoint"
        return Check("endpoint", "warn", f"{endpoint}/udp: something answered (WireGuard would not)", hint)
    handshake = _handshake(kube, config, install)
    if handshake is not None and handshake <= FRESH_HANDSHAKE_S:
        return Check("endpoint", "ok", f"{endpoint}/udp: the tunnel shook hands {handshake}s ago")
    return Check(
        "endpoint",
        "ok",
        f"{endpoint}/udp: no error comes back (WireGuard answers strangers nothing; "
        "`gefyra status` shows the handshake once connected)",
    )


def _handshake(kube: Kube, config: Config, install: InstallState) -> int | None:
    """Seconds since this machine's tunnel last shook hands (None: no client or no handshake)."""
    if len(install.crds) < 2:
        return None
    name = client_name(config.project.name, identity.client_id())
    found = kube.find(names.CLIENT_KIND, name, names.NAMESPACE)
    latest = status_of(found).latest_handshake if found is not None else None
    try:
        then = datetime.fromisoformat(latest.replace("Z", "+00:00")) if latest else None
    except ValueError:
        return None
    return max(int((datetime.now(UTC) - then).total_seconds()), 0) if then is not None else None


def subnet_checks(
    project: ipaddress.IPv4Network | None, routes: list[str], tunnel: str, endpoint: str | None, where: str
) -> list[Check]:
    """Clashes between the project network and the ranges routed into the tunnel (pure). An endpoint inside
    such a range is no clash: Cargo keeps it on its uplink with a host route; it is named as information."""
    ranges = [ipaddress.IPv4Network(r) for r in routes]
    tunnel_net = ipaddress.IPv4Network(tunnel)
    found = []
    for net in [*ranges, tunnel_net] if project is not None else []:
        if project is not None and project.overlaps(net):
            what = "the tunnel's subnet" if net == tunnel_net else "the cluster range"
            found.append(
                Check(
                    "subnets",
                    "fail",
                    f"{where} {project} overlaps {what} {net}: app containers could not reach one of them",
                    f"set network.subnet to a range outside {net}, e.g. {free_subnet([*ranges, tunnel_net])}",
                )
            )
    host = endpoint.rpartition(":")[0].strip("[]") if endpoint else ""
    try:
        address = ipaddress.IPv4Address(host) if host else None
    except ValueError:
        address = None
    inside = next((net for net in ranges if address is not None and address in net), None)
    if not found:
        shown = str(project) if project is not None else "auto (chosen when the network is made)"
        found.append(
            Check(
                "subnets",
                "ok",
                f"{where} {shown}; tunnel {tunnel}; cluster ranges "
                f"{', '.join(routes) or 'none known'}: no clash"
                + (f" (endpoint {host} lies in {inside}: Cargo keeps it off the tunnel)" if inside else ""),
            )
        )
    return found


def free_subnet(taken: list[ipaddress.IPv4Network]) -> str:
    for candidate in ("172.30.0.0/24", "192.168.240.0/24", "10.250.0.0/24", "172.31.240.0/24"):
        net = ipaddress.IPv4Network(candidate)
        if not any(net.overlaps(t) for t in taken):
            return candidate
    return "a private /24 nothing else uses"


def project_subnet(engine: Engine | None, config: Config) -> tuple[ipaddress.IPv4Network | None, str]:
    """The project network's subnet: network.subnet, else the existing network's (None: chosen later)."""
    if config.network.subnet != "auto":
        return ipaddress.IPv4Network(str(config.network.subnet)), "network.subnet"
    found = engine.networks(names=[network_name(config.project.name)]) if engine is not None else []
    subnet = found[0].subnet if found else None
    return (ipaddress.IPv4Network(subnet), "the project network") if subnet else (None, "the project network")


def run(config: Config) -> list[Check]:
    """Every check, in order; a cluster that does not answer skips the checks that need it."""
    docker, engine = check_docker()
    results = [docker]
    if config.cluster is None:
        return [*results, Check("cluster", "warn", "no `cluster:` in gefyra.yaml: local containers only")]
    cluster, kube = check_cluster(config)
    results.append(cluster)
    if kube is None:
        return results
    try:
        results += check_access(kube, config)
        install = observe_install(kube)
        facts = cluster_facts(kube)
        results.append(check_endpoint(kube, config, install, facts))
        subnet, where = project_subnet(engine, config)
        tunnel = InstallSettings.model_fields["tunnel_subnet"].default
        endpoint = endpoint_of(config, facts, names.DEFAULT_NODE_PORT)
        results += subnet_checks(subnet, facts.cluster_routes, str(tunnel), endpoint, where)
    except GefyraError as error:
        results.append(Check("cluster", "fail", error.message, error.hint or ""))
    finally:
        kube.close()
    return results

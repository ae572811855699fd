"""Pure decisions of the Operator: spec + observed objects -> patches, routes, problems. No I/O."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from gefyra.cluster import names
from gefyra.cluster.crds import DNS_LABEL, Condition, GefyraBridgeSpec, RoutePort
from gefyra.dataplane.models import CarrierPort, PeerConfig

Obj = dict[str, Any]
DNS_LABEL_RE = re.compile(DNS_LABEL)


class Problem(BaseModel):
    """Why something cannot be done as asked: a CamelCase reason and a message naming what and where."""

    model_config = ConfigDict(frozen=True)

    reason: str
    message: str


# ------------------------------------------------------------------------------------------- conditions
def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    type_: str,
    ok: bool | None,
    reason: str,
    message: str = "",
    now: datetime | None = None,
) -> list[Obj]:
    """The condition list with `type_` set; lastTransitionTime moves only when the status flips."""
    status = "Unknown" if ok is None else ("True" if ok else "False")
    out: list[Obj] = []
    previous = None
    for condition in conditions:
        if condition.get("type") == type_:
            previous = condition
        else:
            out.append(dict(condition))
    changed = previous is None or previous.get("status") != status
    stamp = now_text(now) if changed or previous is None else previous["lastTransitionTime"]
    new = Condition(type=type_, status=status, reason=reason, message=message, last_transition_time=stamp)
    out.append(new.model_dump())
    return sorted(out, key=lambda c: c["type"])


# ------------------------------------------------------------------------------------------- clients
def handshake_time(latest_handshake: int) -> str | None:
    return None if latest_handshake <= 0 else now_text(datetime.fromtimestamp(latest_handshake, UTC))


def client_silent_for(latest_handshake: int, created: datetime, now: datetime) -> float:
    """Seconds since the tunnel last spoke (or since the client was made, when it never did)."""
    since = datetime.fromtimestamp(latest_handshake, UTC) if latest_handshake > 0 else created
    return max(0.0, (now - since).total_seconds())


def kept_peer(secret: Obj | None) -> PeerConfig | None:
    """The peer config a client's Secret keeps (keys and address to restore at a new Stowaway), if any."""
    raw = ((secret or {}).get("data") or {}).get("peer.json")
    if not raw:
        return None
    try:
        return PeerConfig.model_validate_json(base64.b64decode(raw))
    except ValueError:
        return None


def free_address(subnet: str, used: Iterable[str]) -> str:
    """The lowest peer address of the tunnel subnet nobody has (the first host is Stowaway's)."""
    network = ipaddress.IPv4Network(subnet)
    taken = {ipaddress.ip_interface(u).ip for u in used}
    hosts = network.hosts()
    next(hosts, None)  # Stowaway's own address
    for host in hosts:
        if host not in taken:
            return f"{host}/32"
    raise ValueError(f"tunnel subnet {subnet} is full")


def peer_secret(client: str, namespace: str, owner_uid: str, peer_json: str) -> Obj:
    """The Secret holding a client's peer config (its private key): owned by the GefyraClient."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": names.peer_secret_name(client),
            "namespace": namespace,
            "labels": names.labels("peer", **{names.CLIENT: client}),
            "ownerReferences": [owner_reference(names.CLIENT_KIND, client, owner_uid)],
        },
        "data": {"peer.json": base64.b64encode(peer_json.encode()).decode()},
    }


def owner_reference(kind: str, name: str, uid: str) -> Obj:
    return {
        "apiVersion": names.API_VERSION,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


# ------------------------------------------------------------------------------------------- bridges
def workload_selector(workload: Obj) -> str | None:
    """The label selector (string form) of a Deployment's or StatefulSet's Pods."""
    selector = (workload.get("spec") or {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, op, values = expression["key"], expression["operator"], expression.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or None


def bridge_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def find_container(pod_spec: Obj, wanted: str | None, target: str) -> tuple[Obj | None, Problem | None]:
    containers = pod_spec.get("containers") or []
    if wanted is None:
        if len(containers) == 1:
            return containers[0], None
        listed = ", ".join(c["name"] for c in containers)
        return None, Problem(
            reason="ContainerAmbiguous",
            message=f"{target} has containers {listed}: name one in spec.container",
        )
    for container in containers:
        if container["name"] == wanted:
            return container, None
    listed = ", ".join(c["name"] for c in containers)
    return None, Problem(
        reason="ContainerMissing", message=f"{target} has no container {wanted} (has {listed})"
    )


def carrier_problem(pod_spec: Obj, container: Obj, target: str) -> Problem | None:
    """What keeps Carrier from running in the container's place (a Pod's command and user stay when only the
    image is patched)."""
    name = container["name"]
    if container.get("command"):
        return Problem(
            reason="CommandNotSupported",
            message=f"container {name} of {target} sets command {json.dumps(container['command'])}: it would "
            "replace Carrier's entry point (bridge a container that uses its image's entry point)",
        )
    context = {**(pod_spec.get("securityContext") or {}), **(container.get("securityContext") or {})}
    user = context.get("runAsUser")
    if context.get("runAsNonRoot") or (user is not None and int(user) != 0):
        return Problem(
            reason="RunsAsNonRoot",
            message=f"container {name} of {target} runs as a non-root user: Carrier needs root",
        )
    return None


PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def probe_problem(container: Obj, ports: Mapping[int, int], target: str) -> Problem | None:
    """A Pod keeps its probes (they cannot be patched) and they now reach Carrier, which forwards them like
    any traffic through the tunnel to the local container: fine on a bridged port; an exec probe would run
    in Carrier's image (no such command: restarts, or a Pod that never turns Ready)."""
    name = container["name"]
    named = {p["name"]: int(p["containerPort"]) for p in container.get("ports") or [] if p.get("name")}
    for kind in PROBES:
        probe = container.get(kind) or {}
        if "exec" in probe:
            return Problem(
                reason="ProbeNotSupported",
                message=f"container {name} of {target} has an exec {kind}: it would run in Carrier's image "
                "(an httpGet or tcpSocket probe on a bridged port is forwarded to the local container)",
            )
        for handler in ("httpGet", "tcpSocket", "grpc"):
            if handler not in probe:
                continue
            port = probe[handler].get("port")
            number = int(port) if isinstance(port, int) or str(port).isdigit() else named.get(port)
            if number is None or int(number) not in ports:
                bridged = ", ".join(map(str, ports)) or "none"
                return Problem(
                    reason="ProbePortNotBridged",
                    message=f"the {kind} of container {name} of {target} uses port {port}, which the bridge "
                    f"does not carry (bridged: {bridged}): add it to spec.ports",
                )
    return None


def bridge_ports(
    spec: GefyraBridgeSpec, container: Obj, target: str
) -> tuple[dict[int, int], Problem | None]:
    """Container port -> local port. Only TCP ports (Carrier proxies HTTP and TCP)."""
    tcp = sorted(
        int(p["containerPort"]) for p in container.get("ports") or [] if (p.get("protocol") or "TCP") == "TCP"
    )
    name = container["name"]
    if not spec.ports:
        if not tcp:
            return {}, Problem(
                reason="NoPorts",
                message=f"container {name} of {target} declares no TCP port: list spec.ports",
            )
        return {p: p for p in tcp}, None
    wanted = {int(k): v for k, v in spec.ports.items()}
    missing = sorted(set(wanted) - set(tcp))
    if missing:
        has = ", ".join(map(str, tcp)) or "none"
        return {}, Problem(
            reason="PortMissing",
            message=f"container {name} of {target} has no TCP port {', '.join(map(str, missing))} "
            f"(has {has})",
        )
    return dict(sorted(wanted.items())), None


def local_ip_problem(local_ip: str, routed_subnets: Iterable[str], client: str) -> Problem | None:
    address = ipaddress.IPv4Address(local_ip)
    subnets = list(routed_subnets)
    if any(address in ipaddress.IPv4Network(s) for s in subnets):
        return None
    return Problem(
        reason="LocalIpNotRouted",
        message=f"local address {local_ip} is outside the routed subnets of client {client} "
        f"({', '.join(subnets) or 'none'})",
    )


def route_name(namespace: str, bridge: str, port: int) -> str:
    """A DNS label, stable per bridge and port (Stowaway names its routes by it)."""
    digest = hashlib.sha256(bridge_key(namespace, bridge).encode()).hexdigest()[:12]
    return f"b{digest}-{port}"


def plan_routes(
    namespace: str,
    bridge: str,
    ports: Mapping[int, int],
    existing: Mapping[str, int],
    taken: Iterable[int],
    pool: range = names.ROUTE_PORTS,
    previous: Mapping[str, int] | None = None,
) -> list[RoutePort]:
    """One Stowaway route per port. A route Stowaway already has keeps its listen port (restart-safe); a route
    a new Stowaway lost gets the port it had (`previous`, from the bridge's status) while that is free, so
    Carriers' configs stay valid; other new routes take the lowest free ports of `pool`."""
    used = set(taken) | set(existing.values())
    wanted = {n: p for n, p in (previous or {}).items() if n not in existing and p not in used}
    used |= set(wanted.values())
    free = (p for p in pool if p not in used)
    routes = []
    for port, local in ports.items():
        name = route_name(namespace, bridge, port)
        listen = existing.get(name) or wanted.get(name)
        if listen is None:
            listen = next(free, None)
            if listen is None:
                raise ValueError(f"Stowaway has no free proxy port left in {pool.start}-{pool.stop - 1}")
        routes.append(RoutePort(port=port, local_port=local, listen_port=listen, route=name))
    return routes


def guard_name(namespace: str, bridge: str) -> str:
    """The bridge's guard at Stowaway (its rsync port), named like its routes without the port."""
    return route_name(namespace, bridge, 0).rsplit("-", 1)[0]


def carrier_ports(routes: Iterable[RoutePort], stowaway_ip: str) -> list[CarrierPort]:
    """Carrier listens on each container port and proxies (raw TCP: any protocol) to Stowaway's route."""
    return [
        CarrierPort(port=r.port, upstream_host=stowaway_ip, upstream_port=r.listen_port, protocol="tcp")
        for r in routes
    ]


def is_terminating(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def service_account_username(pod: Obj) -> str:
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    return f"system:serviceaccount:{meta.get('namespace')}:{account}"


def token_mounted(pod: Obj) -> bool:
    """Does a container of the Pod see a service-account token? Then Carrier must prove itself with it."""
    spec = pod.get("spec") or {}
    for container in spec.get("containers") or []:
        for mount in container.get("volumeMounts") or []:
            if mount.get("mountPath", "").rstrip("/") == "/var/run/secrets/kubernetes.io/serviceaccount":
                return True
    return False

"""GefyraClient: a peer at Stowaway (keys made there), its config in a Secret owned by the client object,
the client's access (ServiceAccount, Role, RoleBinding), and the lease: a tunnel silent past the timeout
reaps it."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

import kopf
from pydantic import ValidationError

from gefyra.cluster import names, rbac
from gefyra.cluster.crds import GefyraClientSpec
from gefyra.dataplane.models import PeerConfig
from gefyra_operator import kube, reconcile, stowaway
from gefyra_operator.settings import Settings

log = logging.getLogger(__name__)
Obj = dict[str, Any]
_PROVISIONING = threading.Lock()
TUNNEL_FRESH = 180  # seconds: WireGuard re-handshakes every 2 minutes while traffic or keepalives flow
# client uid -> (bytes Stowaway received from its peer, when that count was last seen to change; None: not
# seen changing since this process started). Cargo's keepalives (every 25s) move it between handshakes, which
# come only every 2 minutes: a lease shorter than that must not take a live client for a gone one.
_TRAFFIC: dict[str, tuple[int, datetime | None]] = {}
_TRAFFIC_LOCK = threading.Lock()


def _status(body: Obj) -> Obj:
    return dict(body.get("status") or {})


def _failed(body: Obj, reason: str, message: str) -> Obj:
    conditions = reconcile.set_condition(
        _status(body).get("conditions") or [], "Ready", False, reason, message
    )
    return {"phase": "Failed", "conditions": conditions}


def ensure(settings: Settings, body: Obj) -> Obj:
    """Create or update the peer and everything that goes with it; returns the status to write."""
    meta = body["metadata"]
    name, namespace, uid = meta["name"], meta["namespace"], meta["uid"]
    try:
        spec = GefyraClientSpec.model_validate(body.get("spec") or {})
    except ValidationError as error:
        return _failed(body, "InvalidSpec", str(error).replace("\n", " "))
    if not reconcile.DNS_LABEL_RE.match(name):
        return _failed(body, "InvalidName", f"client name {name!r} must be a DNS label (it names the peer)")
    mark_had_clients(namespace)
    try:
        peer = provision(settings, namespace, name, spec.routed_subnets)
    except stowaway.StowawayError as error:
        if error.status in (400, 409):
            return _failed(body, "PeerRejected", str(error))
        raise kopf.TemporaryError(f"Stowaway: {error}", delay=3) from None
    except ValueError as error:  # the tunnel subnet is full
        return _failed(body, "PeerRejected", str(error))
    data = peer.model_dump(mode="json")
    data["private_key"] = peer.private_key.get_secret_value()
    write_secret(reconcile.peer_secret(name, namespace, uid, json.dumps(data, sort_keys=True)))
    for manifest in rbac.client_access(name, namespace, owner={"name": name, "uid": uid}):
        apply_access(manifest)
    conditions = reconcile.set_condition(
        _status(body).get("conditions") or [], "Ready", True, "PeerProvisioned", f"peer {name} at Stowaway"
    )
    return {
        "phase": "Ready",
        "conditions": conditions,
        "tunnelAddress": peer.address,
        "peerSecret": names.peer_secret_name(name),
        "observedGeneration": meta.get("generation"),
    }


def provision(settings: Settings, namespace: str, name: str, routed_subnets: list[str]) -> PeerConfig:
    """PUT the peer. Its keys and address are cluster state: a peer kept in its Secret is put back with
    them (a new Stowaway Pod lost its peers, the client's Cargo still has its config); a new one gets the
    lowest address no Secret and no Stowaway peer has (so it never takes a kept peer's address before that
    one is restored) and keys made by Stowaway. One at a time: two new clients never pick the same address."""
    api = stowaway.client(settings)
    with _PROVISIONING:
        kept = reconcile.kept_peer(kube.get(kube.core(namespace, "secrets", names.peer_secret_name(name))))
        if kept is not None:
            return api.put_peer_kept(name, routed_subnets, kept.address, kept.private_key)
        peers = api.peers()
        mine = next((p for p in peers if p.name == name), None)
        if mine is not None:  # put by an earlier try whose Secret was never written: the same peer again
            return api.put_peer_kept(name, routed_subnets, mine.address)
        used = [p.address for p in peers]
        for secret in kube.items(kube.core(namespace, "secrets"), labelSelector=names.selector("peer")):
            other = reconcile.kept_peer(secret)
            if other is not None:
                used.append(other.address)
        address = reconcile.free_address(api.server().subnet, used)
        return api.put_peer_kept(name, routed_subnets, address)


def mark_had_clients(namespace: str) -> None:
    """Note on the namespace that a client existed: from now on, no client left means uninstall."""
    ns = kube.get(f"/api/v1/namespaces/{namespace}") or {}
    if ((ns.get("metadata") or {}).get("annotations") or {}).get(names.HAD_CLIENTS) != "true":
        kube.patch(
            f"/api/v1/namespaces/{namespace}", {"metadata": {"annotations": {names.HAD_CLIENTS: "true"}}}
        )


def write_secret(secret: Obj) -> None:
    meta = secret["metadata"]
    path = kube.core(meta["namespace"], "secrets", meta["name"])
    existing = kube.get(path)
    if existing is None:
        kube.create(kube.core(meta["namespace"], "secrets"), secret)
        return
    if (existing.get("data") or {}) != secret["data"]:
        kube.patch(path, {"data": secret["data"]})


def apply_access(manifest: Obj) -> None:
    """Create a ServiceAccount/Role/RoleBinding, or bring an existing Role's rules up to date."""
    meta = manifest["metadata"]
    group = "/api/v1" if manifest["apiVersion"] == "v1" else "/apis/rbac.authorization.k8s.io/v1"
    plural = {"ServiceAccount": "serviceaccounts", "Role": "roles", "RoleBinding": "rolebindings"}[
        manifest["kind"]
    ]
    collection = f"{group}/namespaces/{meta['namespace']}/{plural}"
    try:
        kube.create(collection, manifest)
    except kube.KubeError as error:
        if error.status != 409:
            raise
        if manifest["kind"] == "Role":
            kube.patch(f"{collection}/{meta['name']}", {"rules": manifest["rules"]})


def observe(settings: Settings, body: Obj) -> Obj:
    """The lease: the latest handshake into status; a tunnel silent past the timeout -> delete the client."""
    meta = body["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    try:
        spec = GefyraClientSpec.model_validate(body.get("spec") or {})
    except ValidationError:
        return {}
    conditions = _status(body).get("conditions") or []
    try:
        peers = {p.name: p for p in stowaway.client(settings).peers()}
    except stowaway.StowawayError as error:
        # Never reap on what we cannot see.
        return {
            "conditions": reconcile.set_condition(
                conditions, "TunnelUp", None, "StowawayUnreachable", str(error)
            )
        }
    peer = peers.get(name)
    if peer is None:  # Stowaway lost it (a new Stowaway Pod): provision again
        return ensure(settings, body)
    now = datetime.now(UTC)
    created = datetime.fromisoformat(meta["creationTimestamp"].replace("Z", "+00:00"))
    with _TRAFFIC_LOCK:
        seen = traffic_seen(_TRAFFIC.get(meta["uid"]), peer.rx_bytes, now)
        _TRAFFIC[meta["uid"]] = seen
    silent = silent_for(peer.latest_handshake, seen[1], created, now)
    up = peer.latest_handshake > 0 and silent < TUNNEL_FRESH
    reason = (
        "HandshakeRecent" if up else ("NoHandshakeYet" if peer.latest_handshake == 0 else "HandshakeStale")
    )
    status: Obj = {
        "latestHandshake": reconcile.handshake_time(peer.latest_handshake),
        "conditions": reconcile.set_condition(
            conditions, "TunnelUp", up, reason, f"silent for {silent:.0f}s"
        ),
    }
    if silent > spec.client_timeout_seconds:
        log.info(
            "client %s silent for %.0fs (timeout %ss): removing it", name, silent, spec.client_timeout_seconds
        )
        status["phase"] = "Gone"
        status["conditions"] = reconcile.set_condition(
            status["conditions"], "Ready", False, "ClientTimedOut", f"tunnel silent for {silent:.0f}s"
        )
        kube.delete(kube.custom(namespace, names.CLIENT_PLURAL, name))
    return status


def traffic_seen(
    previous: tuple[int, datetime | None] | None, rx_bytes: int, now: datetime
) -> tuple[int, datetime | None]:
    """The received-bytes count and when it last changed, after one more look at it."""
    if previous is None:
        return rx_bytes, None  # first look: when it changed before is unknown
    return (rx_bytes, now) if rx_bytes != previous[0] else previous


def silent_for(handshake: int, traffic: datetime | None, created: datetime, now: datetime) -> float:
    """Seconds without a sign of the client: since its latest handshake or received bytes, the later."""
    silent = reconcile.client_silent_for(handshake, created, now)
    if traffic is not None:
        silent = min(silent, max(0.0, (now - traffic).total_seconds()))
    return silent


def remove(settings: Settings, body: Obj) -> None:
    """Delete the client's bridges first (their Pods get their images back), then its peer and Secret."""
    meta = body["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    left = [
        b
        for b in kube.items(kube.custom(namespace, names.BRIDGE_PLURAL))
        if (b.get("spec") or {}).get("client") == name
    ]
    for bridge in left:
        if not reconcile.is_terminating(bridge):
            kube.delete(kube.custom(namespace, names.BRIDGE_PLURAL, bridge["metadata"]["name"]))
    if left:
        raise kopf.TemporaryError(f"waiting for {len(left)} bridge(s) of client {name} to restore", delay=2)
    try:
        stowaway.client(settings).delete_peer(name)
    except stowaway.StowawayError as error:
        raise kopf.TemporaryError(f"Stowaway: {error}", delay=3) from None
    kube.delete(kube.core(namespace, "secrets", names.peer_secret_name(name)))
    with _TRAFFIC_LOCK:
        _TRAFFIC.pop(meta["uid"], None)

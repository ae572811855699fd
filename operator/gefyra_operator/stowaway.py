"""Talking to Stowaway: the Secrets only the Operator reads (API token, server key; made here), the typed
client with what the Operator adds (peers restored with their keys, guards), and the address Carriers proxy
to (the Stowaway Pod's IP: its proxy ports are dynamic, no Service lists them)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gefyra.cluster import names
from gefyra.dataplane.models import NAME_PATTERN, PeerConfig
from gefyra.stowaway.client import StowawayClient, StowawayError
from gefyra_operator import kube
from gefyra_operator.reconcile import is_terminating
from gefyra_operator.settings import Settings

__all__ = ["Guard", "OperatorStowaway", "StowawayError", "client", "ensure_secrets", "pod", "pod_ip"]


class Guard(BaseModel):
    """Tunnel traffic to `port` of `destinations` passes only from `sources` (a bridge's rsync daemon)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = Field(pattern=NAME_PATTERN)
    port: int = Field(ge=1, le=65535)
    destinations: list[str]
    sources: list[str]


class OperatorStowaway(StowawayClient):
    """The control API's calls the client side never makes."""

    def put_peer_kept(
        self,
        name: str,
        routed_subnets: Sequence[str],
        address: str,
        private_key: SecretStr | None = None,
    ) -> PeerConfig:
        """Create or update the peer at `address`; with `private_key` (kept in its Secret) a new Stowaway
        gets the keys the client already has, without one Stowaway generates them."""
        body: dict[str, object] = {"routed_subnets": list(routed_subnets), "address": address}
        if private_key is not None:
            body["private_key"] = private_key.get_secret_value()
        return PeerConfig.model_validate(self._request("PUT", f"/v1/peers/{name}", body))

    def put_guard(self, guard: Guard) -> Guard:
        body = guard.model_dump(exclude={"name"})
        return Guard.model_validate(self._request("PUT", f"/v1/guards/{guard.name}", body))

    def delete_guard(self, name: str) -> bool:
        try:
            self._request("DELETE", f"/v1/guards/{name}")
        except StowawayError as error:
            if error.status == 404:
                return False
            raise
        return True

    def guards(self) -> list[Guard]:
        return [Guard.model_validate(g) for g in self._request("GET", "/v1/guards")]


def wireguard_private_key() -> str:
    """What `wg genkey` makes: 32 random bytes clamped for Curve25519, base64."""
    raw = bytearray(secrets.token_bytes(32))
    raw[0] &= 248
    raw[31] = (raw[31] & 127) | 64
    return base64.b64encode(bytes(raw)).decode()


def _read(namespace: str, name: str, key: str) -> SecretStr | None:
    secret = kube.get(kube.core(namespace, "secrets", name))
    raw = ((secret or {}).get("data") or {}).get(key)
    return SecretStr(base64.b64decode(raw).decode()) if raw else None


def _ensure(namespace: str, name: str, key: str, make: Callable[[], str]) -> SecretStr:
    """The Secret's value; made once when the Secret does not exist yet (another Operator start may race:
    the first one's value wins)."""
    value = _read(namespace, name, key)
    if value is not None:
        return value
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace, "labels": names.labels("stowaway")},
        "stringData": {key: make()},
    }
    try:
        kube.create(kube.core(namespace, "secrets"), body)
    except kube.KubeError as error:
        if error.status != 409:
            raise
    value = _read(namespace, name, key)
    if value is None:
        raise kube.KubeError(f"Secret {namespace}/{name} has no {key}")
    return value


def ensure_token(namespace: str) -> SecretStr:
    """The control API's token (random, 256 bits). Stowaway's Pod mounts the Secret; nobody else needs it."""
    return _ensure(namespace, names.STOWAWAY_TOKEN, "token", lambda: secrets.token_urlsafe(32))


def ensure_secrets(namespace: str) -> None:
    """Everything Stowaway's Pod waits for: the API token and its WireGuard server key (kept across Pods,
    so peers' configs stay valid when Stowaway is replaced)."""
    ensure_token(namespace)
    _ensure(namespace, names.STOWAWAY_SERVER_KEY, names.SERVER_KEY_FILE, wireguard_private_key)


def client(settings: Settings) -> OperatorStowaway:
    return OperatorStowaway(settings.stowaway_api, ensure_token(settings.namespace), timeout=10.0)


def pod(namespace: str) -> kube.Obj | None:
    """The running Stowaway Pod (None while there is none)."""
    for item in kube.items(kube.core(namespace, "pods"), labelSelector=names.selector("stowaway")):
        status = item.get("status") or {}
        if status.get("phase") == "Running" and status.get("podIP") and not is_terminating(item):
            return item
    return None


def pod_ip(namespace: str) -> str | None:
    """The running Stowaway Pod's IP (None while there is none)."""
    found = pod(namespace)
    return str(found["status"]["podIP"]) if found else None

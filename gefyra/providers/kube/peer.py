"""This client's peer config as the Operator keeps it: the Secret `gefyra-peer-<client>` (`peer.json`), and a
version of it that changes when the keys, the address or the routes do (what a Cargo must be replaced for)."""

from __future__ import annotations

import base64
import hashlib

from gefyra.cluster import names
from gefyra.dataplane.models import PeerConfig
from gefyra.errors import ProviderError
from gefyra.model.hashing import canonical_json
from gefyra.providers.kube.boundary import Kube

PEER_KEY = "peer.json"  # the key of the peer Secret the Operator writes


def peer_from_secret(data: dict[str, str], where: str) -> PeerConfig:
    """The PeerConfig in a peer Secret's `peer.json` (base64, as the API returns Secret data)."""
    raw = data.get(PEER_KEY)
    if not raw:
        raise ProviderError(f"the peer Secret {where} has no {PEER_KEY}")
    try:
        return PeerConfig.model_validate_json(base64.b64decode(raw))
    except ValueError as error:
        raise ProviderError(f"the peer Secret {where} does not hold a peer config: {error}") from None


def peer_version(peer: PeerConfig) -> str:
    """A digest of the peer's public parts (never of its private key): 16 hex digits."""
    public = peer.model_dump(mode="json", exclude={"private_key"})
    return hashlib.sha256(canonical_json(public).encode()).hexdigest()[:16]


def current_version(kube: Kube, client: str) -> str:
    """The version of the peer config in `client`'s Secret now; "" when there is none (yet)."""
    found = kube.find("Secret", names.peer_secret_name(client), names.NAMESPACE)
    if found is None or not found.data.get(PEER_KEY):
        return ""
    return peer_version(peer_from_secret(found.data, f"{names.NAMESPACE}/{found.name}"))

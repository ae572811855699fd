"""Where a client's peer config comes from.

The seed's way: Stowaway generates the keys and hands the peer's config out over its control API; gefyra
copies it to Cargo. Until the Operator serves it (GefyraClient), the client talks to Stowaway's control API
directly: GEFYRA_STOWAWAY_URL names the API and GEFYRA_STOWAWAY_TOKEN_FILE a file (mode 600) holding the
bearer token.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import SecretStr

from gefyra.dataplane.models import PeerConfig
from gefyra.errors import ConfigError
from gefyra.stowaway.client import StowawayClient

ENV_URL = "GEFYRA_STOWAWAY_URL"
ENV_TOKEN_FILE = "GEFYRA_STOWAWAY_TOKEN_FILE"


def read_token(path: Path) -> SecretStr:
    """The token, refusing a file others can read (like ssh does with keys)."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise ConfigError(f"{ENV_TOKEN_FILE}: cannot read {path}: {error.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{ENV_TOKEN_FILE}: {path} is readable by others (mode {stat.S_IMODE(mode):o})",
            hint=f"chmod 600 {path}",
        )
    token = path.read_text().strip()
    if not token:
        raise ConfigError(f"{ENV_TOKEN_FILE}: {path} is empty")
    return SecretStr(token)


class StowawayPeerSource:
    """Peers straight from Stowaway's control API (the pre-Operator path)."""

    def __init__(self, url: str, token_file: Path) -> None:
        self.url = url.rstrip("/")
        self.token_file = token_file

    def __repr__(self) -> str:
        return f"StowawayPeerSource({self.url!r})"

    def _client(self) -> StowawayClient:
        return StowawayClient(self.url, read_token(self.token_file))

    def peer(self, name: str, routed_subnets: Sequence[str] = ()) -> PeerConfig:
        """Create or fetch the peer (idempotent: Stowaway keeps its keys)."""
        return self._client().put_peer(name, routed_subnets)

    def remove(self, name: str) -> bool:
        return self._client().delete_peer(name)


def peer_source_from_env(environ: Mapping[str, str] | None = None) -> StowawayPeerSource | None:
    """The configured source, or None when none is configured (the Operator's path then applies)."""
    env = os.environ if environ is None else environ
    url = env.get(ENV_URL, "").strip()
    if not url:
        return None
    token_file = env.get(ENV_TOKEN_FILE, "").strip()
    if not token_file:
        raise ConfigError(f"{ENV_URL} is set but {ENV_TOKEN_FILE} is not", hint="point it at the token file")
    return StowawayPeerSource(url, Path(token_file))

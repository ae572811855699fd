"""What the `connection` and `cargo` kinds share: whether this project has a peer, and the peer config held
in the connection's holder container (kinds never import each other; both use this)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from gefyra.config.model import Config
from gefyra.dataplane.cargo_layout import CARGO_CONFIG_PATH
from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.model.dataplane_specs import CONNECTION, ConnectionSpec, connection_name, peer_name
from gefyra.model.desired import network_name
from gefyra.providers.docker.engine import EngineReads
from gefyra.providers.errors import NotFound
from gefyra.stowaway.peers import peer_source_from_env


def connection_spec(config: Config) -> ConnectionSpec | None:
    """The project's peer, or None without `cluster:` or without a configured peer source (the Operator
    path takes over later)."""
    if config.cluster is None:
        return None
    source = peer_source_from_env()
    if source is None:
        return None
    project = config.project.name
    return ConnectionSpec(
        docker_name=connection_name(project),
        peer=peer_name(project),
        stowaway=source.url,
        endpoint=config.cluster.endpoint,
        mtu=str(config.cluster.mtu),
        network=network_name(project),
    )


def token_file() -> Path:
    """The token file of the configured peer source; a clear error when none is configured."""
    source = peer_source_from_env()
    if source is None:
        raise ProviderError(
            "GEFYRA_STOWAWAY_URL / GEFYRA_STOWAWAY_TOKEN_FILE are not set",
            hint="until the Operator provides peers, point them at Stowaway's control API and its token",
        )
    return source.token_file


def read_held_config(engine: EngineReads, project: str) -> bytes:
    """The WireGuard config kept in the connection's holder container (never written to the host)."""
    holder = connection_name(project)
    # found by its labels: a holder renamed by hand still holds the config
    rows = engine.containers(labels=[labels.project_filter(project), f"{labels.KIND}={CONNECTION.kind}"])
    try:
        data = engine.archive(rows[0].id if rows else holder, CARGO_CONFIG_PATH)
    except NotFound as error:
        raise ProviderError(f"the peer config of {holder} is missing") from error
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.getmembers()[0]
        extracted = tar.extractfile(member)
        if extracted is None:
            raise ProviderError(f"the peer config in {holder} is not a file")
        return extracted.read()

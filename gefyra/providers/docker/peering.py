"""What the `connection` and `cargo` kinds share: whether this project has a peer, where its config comes
from, and the peer config held in the connection's holder container (kinds never import each other).

The peer comes from the cluster: the Operator writes it into the Secret `gefyra-peer-<client>` of this
machine's GefyraClient (kind `client`). Escape hatch for a Stowaway without an Operator (data-plane tests, a
hand-run Stowaway): GEFYRA_STOWAWAY_URL and GEFYRA_STOWAWAY_TOKEN_FILE name its control API and token; then
the peer is asked from Stowaway directly and no GefyraClient is involved.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from gefyra.cluster import names
from gefyra.config.model import Config
from gefyra.dataplane.cargo_layout import CARGO_CONFIG_PATH
from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.model.cluster_specs import client_name
from gefyra.model.dataplane_specs import (
    CONNECTION,
    ConnectionSpec,
    SecretSource,
    StowawaySource,
    connection_name,
    peer_name,
)
from gefyra.model.desired import network_name
from gefyra.providers.docker.engine import EngineReads
from gefyra.providers.errors import NotFound
from gefyra.providers.kube import identity
from gefyra.stowaway.peers import peer_source_from_env


def connection_spec(config: Config, peer_version: str = "") -> ConnectionSpec | None:
    """The project's peer, or None without `cluster:`. `peer_version`: of the peer config in the
    GefyraClient's Secret as the snapshot saw it (the escape hatch has none)."""
    if config.cluster is None:
        return None
    project = config.project.name
    escape = peer_source_from_env()
    source: SecretSource | StowawaySource
    if escape is not None:
        peer, source, peer_version = peer_name(project), StowawaySource(url=escape.url), ""
    else:
        peer = client_name(project, identity.client_id())
        source = SecretSource(namespace=names.NAMESPACE, name=names.peer_secret_name(peer))
    return ConnectionSpec(
        docker_name=connection_name(project),
        peer=peer,
        source=source,
        peer_version=peer_version,
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
            hint="the escape hatch needs both (without them the peer comes from the GefyraClient's Secret)",
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

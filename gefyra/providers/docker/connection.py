"""Kind `connection`: this client's WireGuard peer in the cluster and its config held locally.

Stowaway generates the keys; the Operator puts this machine's peer config into the Secret of its
GefyraClient (kind `client`, which this kind depends on). gefyra copies it from there into a holder container
`gefyra-<project>.connection` (created, never started, no network: a labelled Docker object the engine
observes like any other) as a mode-600 file, from which Cargo's create copies it; it never touches the host's
disk. A new GefyraClient, or new keys or routes in its Secret (the spec's `peer_version`, read by the
kube snapshot), replace the holder and with it Cargo. Escape hatch without an Operator:
GEFYRA_STOWAWAY_URL and GEFYRA_STOWAWAY_TOKEN_FILE ask Stowaway's control API directly (see peering.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from gefyra.config.model import Config
from gefyra.dataplane.cargo_layout import CARGO_CONFIG_PATH
from gefyra.dataplane.models import PeerConfig
from gefyra.dataplane.render import render_cargo_wg_config
from gefyra.errors import GefyraError, ProviderError
from gefyra.model.cluster_specs import CLIENT
from gefyra.model.dataplane_specs import CONNECTION, ConnectionSpec, SecretSource, StowawaySource
from gefyra.model.desired import NETWORK
from gefyra.model.resources import Resource
from gefyra.providers.base import Kind, Snapshot, StepContext
from gefyra.providers.docker import actions, attachment
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.images import ensure_images, image_tag
from gefyra.providers.docker.engine import ContainerCreate, Engine
from gefyra.providers.docker.observe import docker_snapshot, labels_for, read_container
from gefyra.providers.docker.peering import connection_spec, token_file
from gefyra.providers.errors import NotFound
from gefyra.providers.kube.observe import KubeSnapshot
from gefyra.providers.kube.peer import peer_from_secret, peer_version
from gefyra.providers.kube.provider import KubeConnector
from gefyra.stowaway.peers import StowawayPeerSource


class ConnectionKind(Kind):
    kind = "connection"
    provider = "docker"

    def desired(self, config: Config, snapshot: Snapshot) -> list[Resource]:
        """The peer version the Secret has now; when it cannot be read (no Secret for a moment), the one
        held: an unknown version never replaces a working tunnel."""
        kube = snapshot.providers.get("kube")
        version = kube.peer_version if isinstance(kube, KubeSnapshot) else ""
        if not version:
            held = [r.spec.get("peer_version") for r in self.read(snapshot)]
            version = next((v for v in held if isinstance(v, str) and v), "")
        spec = connection_spec(config, version)
        if spec is None:
            return []
        deps = (NETWORK, CLIENT) if isinstance(spec.source, SecretSource) else (NETWORK,)
        return [Resource(kind=self.kind, name=CONNECTION.name, spec=spec.dump(), depends_on=deps)]

    def read(self, snapshot: Snapshot) -> list[Resource]:
        found = []
        for item in docker_snapshot(snapshot).containers_of(self.kind):
            # A holder that ran (someone started it) is replaced; one renamed by hand is renamed back.
            status = "present" if item.state == "created" else item.state
            resource = read_container(item, status, item.state == "created")
            drift = attachment.drift_of(item, str(resource.spec.get("docker_name", item.name)), None)
            if drift and resource.observed is not None:
                resource = resource.evolve(observed=resource.observed.model_copy(update={"drift": drift}))
            found.append(resource)
        return found

    def update(self, ctx: StepContext, previous: Resource, resource: Resource) -> None:
        """Drift repair: the holder renamed by hand gets its name back."""
        assert previous.observed is not None
        spec = ConnectionSpec.model_validate(resource.spec)
        engine = ctx.session.client_of("docker", Engine)
        fixed = attachment.repair(
            engine, previous.observed.ref, docker_name=spec.docker_name, network=None, aliases=[]
        )
        ctx.log("; ".join(fixed.done) or "nothing left to repair", str(resource.key))

    def create(self, ctx: StepContext, resource: Resource) -> None:
        engine = ctx.session.client_of("docker", Engine)
        spec = ConnectionSpec.model_validate(resource.spec)
        subnet = actions.network_subnet(engine, spec.network)
        peer = _peer(ctx, spec, subnet)
        if isinstance(spec.source, SecretSource) and spec.peer_version != peer_version(peer):
            # the label must name the config held (the Secret may be newer than the plan's snapshot)
            spec = spec.model_copy(update={"peer_version": peer_version(peer)})
            resource = resource.evolve(spec=spec.dump())
        endpoint = None if spec.endpoint == "auto" else spec.endpoint
        if endpoint is None and not peer.endpoint:
            raise ProviderError(
                "cluster.endpoint is 'auto' and Stowaway names no endpoint",
                hint="set cluster.endpoint to host:port of Stowaway's UDP port as reachable from here",
            )
        try:
            text = render_cargo_wg_config(peer, endpoint, mtu=spec.mtu, local_subnets=[subnet])
        except ValueError as error:
            raise ProviderError(f"{resource.key}: {error}") from error
        ensure_images(engine, ["cargo"])
        actions.clear_name(engine, spec.docker_name, ctx.project)
        created = engine.create_container(
            ContainerCreate(
                image=image_tag("cargo"),
                name=spec.docker_name,
                entrypoint=["true"],
                labels=labels_for(ctx.project, resource),
                network_mode="none",
            )
        )
        put_files(engine, created, {CARGO_CONFIG_PATH: text})
        ctx.log(f"peer {spec.peer} from {spec.source}: {peer.address}", str(resource.key))

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        engine = ctx.session.client_of("docker", Engine)
        peer, stowaway = actual.spec.get("peer"), _escape_url(actual.spec)
        # The cluster path's peer goes with its GefyraClient (kind `client`); only the escape hatch's is ours.
        if isinstance(peer, str) and peer and stowaway:
            try:
                StowawayPeerSource(stowaway, token_file()).remove(peer)
            except GefyraError as error:  # unreachable, no token, unsafe token file: go on locally
                # Nothing reaps a left-over peer yet (the Operator will, once it exists): until then it
                # stays at Stowaway until someone calls `DELETE /v1/peers/<name>` on its control API.
                ctx.log(
                    f"peer {peer} not removed at Stowaway: {error}"
                    f" (it stays there until DELETE /v1/peers/{peer})",
                    str(actual.key),
                )
        assert actual.observed is not None
        engine.remove_container(actual.observed.ref)


def _escape_url(spec: Mapping[str, object]) -> str:
    """The control API's URL of an escape-hatch peer ("" for the cluster path), also from the labels of an
    earlier gefyra (which kept it in `stowaway`)."""
    source = spec.get("source")
    if isinstance(source, dict) and source.get("kind") == "stowaway":
        return str(source.get("url") or "")
    old = spec.get("stowaway")
    return old if isinstance(old, str) and old.startswith("http") else ""


def _peer(ctx: StepContext, spec: ConnectionSpec, subnet: str) -> PeerConfig:
    """The peer config: from the GefyraClient's Secret, or (escape hatch) from Stowaway's control API, which
    then routes the project subnet to this peer (its proxy ports reach app containers by IP)."""
    source = spec.source
    if isinstance(source, StowawaySource):
        return StowawayPeerSource(source.url, token_file()).peer(spec.peer, routed_subnets=[subnet])
    kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
    try:
        found = kube.get("Secret", source.name, source.namespace)
    except NotFound:
        raise ProviderError(
            f"the peer Secret {source.namespace}/{source.name} is missing",
            hint="the Operator writes it once the GefyraClient is Ready: check `gefyra status`",
        ) from None
    return peer_from_secret(found.data, f"{source.namespace}/{source.name}")


KIND = ConnectionKind()

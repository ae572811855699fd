"""Kind `connection`: this client's WireGuard peer in the cluster and its config held locally.

The seed's way: Stowaway generates the keys and hands the peer's config out; gefyra keeps it in a holder
container `gefyra-<project>.connection` (created, never started, no network: a labelled Docker object the
engine observes like any other) as a mode-600 file, from which Cargo's create copies it. Until the Operator
serves peers (GefyraClient), the peer comes from Stowaway's control API named by GEFYRA_STOWAWAY_URL and
GEFYRA_STOWAWAY_TOKEN_FILE; without them the kind produces nothing (the Operator path takes over later).
"""

from __future__ import annotations

import io
import tarfile
from typing import Any

from gefyra.dataplane.cargo_layout import CARGO_CONFIG_PATH
from gefyra.dataplane.render import render_cargo_wg_config
from gefyra.errors import GefyraError, ProviderError
from gefyra.model.desired import NETWORK, network_name
from gefyra.model.resources import Resource, ResourceKey
from gefyra.providers.base import Kind, Snapshot, StepContext
from gefyra.providers.docker import actions
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.images import ensure_images, image_tag
from gefyra.providers.docker.engine import ContainerCreate, Engine
from gefyra.providers.docker.observe import docker_snapshot, labels_for, read_container
from gefyra.providers.errors import NotFound
from gefyra.stowaway.peers import StowawayPeerSource, peer_source_from_env

CONNECTION = ResourceKey("connection", "default")


def connection_name(project: str) -> str:
    return f"gefyra-{project}.connection"


def peer_name(project: str) -> str:
    """The peer's name at Stowaway: one peer per project on this machine."""
    return project


def network_subnet(engine: Engine, network: str) -> str:
    try:
        subnet = engine.inspect_network(network).subnet
    except NotFound as error:
        raise ProviderError(f"network {network} is missing") from error
    if subnet is None:
        raise ProviderError(f"network {network} has no IPv4 subnet")
    return subnet


def read_held_config(engine: Engine, project: str) -> bytes:
    """The WireGuard config kept in the connection's holder container (never written to the host)."""
    holder = connection_name(project)
    try:
        data = engine.archive(holder, CARGO_CONFIG_PATH)
    except NotFound as error:
        raise ProviderError(f"the peer config of {holder} is missing") from error
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.getmembers()[0]
        extracted = tar.extractfile(member)
        if extracted is None:
            raise ProviderError(f"the peer config in {holder} is not a file")
        return extracted.read()


class ConnectionKind(Kind):
    kind = "connection"
    provider = "docker"

    def desired(self, config: Any, snapshot: Snapshot) -> list[Resource]:
        if config.cluster is None:
            return []
        source = peer_source_from_env()
        if source is None:
            return []
        project = config.project.name
        spec = {
            "docker_name": connection_name(project),
            "peer": peer_name(project),
            "stowaway": source.url,
            "endpoint": config.cluster.endpoint,
            "mtu": str(config.cluster.mtu),
            "network": network_name(project),
        }
        return [Resource(kind=self.kind, name=CONNECTION.name, spec=spec, depends_on=(NETWORK,))]

    def read(self, snapshot: Snapshot) -> list[Resource]:
        docker = docker_snapshot(snapshot)
        found = []
        for item in docker.containers_of(self.kind):
            state = item.state
            # A holder that ran (someone started it) is replaced.
            found.append(read_container(item, "present" if state == "created" else state, state == "created"))
        return found

    def create(self, ctx: StepContext, resource: Resource) -> None:
        engine = ctx.session.client_of("docker", Engine)
        spec = resource.spec
        source = StowawayPeerSource(spec["stowaway"], _token_file())
        subnet = network_subnet(engine, spec["network"])
        # Stowaway routes the project subnet to this peer: its proxy ports reach app containers by IP.
        peer = source.peer(spec["peer"], routed_subnets=[subnet])
        endpoint = None if spec["endpoint"] == "auto" else spec["endpoint"]
        if endpoint is None and not peer.endpoint:
            raise ProviderError(
                "cluster.endpoint is 'auto' and Stowaway names no endpoint",
                hint="set cluster.endpoint to host:port of Stowaway's UDP port as reachable from here",
            )
        try:
            text = render_cargo_wg_config(peer, endpoint, mtu=spec["mtu"], local_subnets=[subnet])
        except ValueError as error:
            raise ProviderError(f"{resource.key}: {error}") from error
        ensure_images(engine, ["cargo"])
        actions.clear_name(engine, spec["docker_name"], ctx.project)
        created = engine.create_container(
            ContainerCreate(
                image=image_tag("cargo"),
                name=spec["docker_name"],
                entrypoint=["true"],
                labels=labels_for(ctx.project, resource),
                network_mode="none",
            )
        )
        put_files(engine, created, {CARGO_CONFIG_PATH: text})
        ctx.log(f"peer {spec['peer']} at {spec['stowaway']}: {peer.address}", str(resource.key))

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        engine = ctx.session.client_of("docker", Engine)
        spec = actual.spec
        if spec.get("stowaway") and spec.get("peer"):
            try:
                StowawayPeerSource(spec["stowaway"], _token_file()).remove(spec["peer"])
            except GefyraError as error:  # unreachable, no token, unsafe token file: go on locally
                # Nothing reaps a left-over peer yet (the Operator will, once it exists): until then it
                # stays at Stowaway until someone calls `DELETE /v1/peers/<name>` on its control API.
                ctx.log(
                    f"peer {spec['peer']} not removed at Stowaway: {error}"
                    f" (it stays there until DELETE /v1/peers/{spec['peer']})",
                    str(actual.key),
                )
        assert actual.observed is not None
        engine.remove_container(actual.observed.ref)


def _token_file():
    source = peer_source_from_env()
    if source is None:
        raise ProviderError(
            "GEFYRA_STOWAWAY_URL / GEFYRA_STOWAWAY_TOKEN_FILE are not set",
            hint="until the Operator provides peers, point them at Stowaway's control API and its token",
        )
    return source.token_file


KIND = ConnectionKind()

"""Kind `connection`: this client's WireGuard peer in the cluster and its config held locally.

The seed's way: Stowaway generates the keys and hands the peer's config out; gefyra keeps it in a holder
container `gefyra-<project>.connection` (created, never started, no network: a labelled Docker object the
engine observes like any other) as a mode-600 file, from which Cargo's create copies it. Until the Operator
serves peers (GefyraClient), the peer comes from Stowaway's control API named by GEFYRA_STOWAWAY_URL and
GEFYRA_STOWAWAY_TOKEN_FILE; without them the kind produces nothing (the Operator path takes over later).
"""

from __future__ import annotations

import io
import ipaddress
import tarfile
from typing import Any

from gefyra.dataplane.cargo import CARGO_CONFIG_PATH
from gefyra.dataplane.files import put_files
from gefyra.dataplane.images import ensure_images, image_tag
from gefyra.dataplane.peers import StowawayPeerSource, peer_source_from_env
from gefyra.dataplane.render import render_cargo_wg_config
from gefyra.errors import GefyraError, ProviderError
from gefyra.model.desired import NETWORK, network_name
from gefyra.model.resources import Observed, Resource, ResourceKey
from gefyra.providers.base import Kind, Snapshot, StepContext
from gefyra.providers.docker import actions
from gefyra.providers.docker.observe import DockerSnapshot, labels_for, resource_from_labels

CONNECTION = ResourceKey("connection", "default")


def connection_name(project: str) -> str:
    return f"gefyra-{project}.connection"


def read_container(item: dict[str, Any], status: str, healthy: bool) -> Resource:
    """The resource behind one of our containers as listed by the engine (`docker ps` row)."""
    observed = Observed(
        status=status,
        healthy=healthy,
        detail=item.get("Status", ""),
        ref=item["Id"],
        info={"docker_name": (item.get("Names") or ["?"])[0].lstrip("/")},
    )
    return resource_from_labels(item.get("Labels") or {}, observed)


def peer_name(project: str) -> str:
    """The peer's name at Stowaway: one peer per project on this machine."""
    return project


def network_subnet(client: Any, network: str) -> str:
    try:
        attrs = client.api.inspect_network(network)
    except Exception as error:  # noqa: BLE001 - docker.errors.NotFound, imported lazily
        raise ProviderError(f"network {network} is missing: {error}") from error
    pools = (attrs.get("IPAM") or {}).get("Config") or []
    if not pools or not pools[0].get("Subnet"):
        raise ProviderError(f"network {network} has no IPv4 subnet")
    return str(ipaddress.ip_network(pools[0]["Subnet"]))


def read_held_config(client: Any, project: str) -> bytes:
    """The WireGuard config kept in the connection's holder container (never written to the host)."""
    holder = connection_name(project)
    try:
        stream, _ = client.api.get_archive(holder, CARGO_CONFIG_PATH)
    except Exception as error:  # noqa: BLE001 - docker.errors.NotFound / APIError
        raise ProviderError(f"the peer config of {holder} is missing: {error}") from error
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.getmembers()[0]
        data = tar.extractfile(member)
        if data is None:
            raise ProviderError(f"the peer config in {holder} is not a file")
        return data.read()


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
        docker: DockerSnapshot = snapshot.of("docker")
        found = []
        for item in docker.containers_of(self.kind):
            state = item.get("State", "unknown")
            # A holder that ran (someone started it) is replaced.
            found.append(read_container(item, "present" if state == "created" else state, state == "created"))
        return found

    def create(self, ctx: StepContext, resource: Resource) -> None:
        client = ctx.session.client("docker")
        spec = resource.spec
        source = StowawayPeerSource(spec["stowaway"], _token_file())
        subnet = network_subnet(client, spec["network"])
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
        ensure_images(client, ["cargo"])
        existing = actions.find_container(client, spec["docker_name"])
        if existing is not None:
            actions.ensure_ours(existing, ctx.project, f"container {spec['docker_name']}")
            actions.remove_container(client, existing["Id"])
        created = client.api.create_container(
            image_tag("cargo"),
            name=spec["docker_name"],
            entrypoint=["true"],
            labels=labels_for(ctx.project, resource),
            host_config=client.api.create_host_config(network_mode="none"),
            network_disabled=True,
            detach=True,
        )
        put_files(client.containers.get(created["Id"]), {CARGO_CONFIG_PATH: text})
        ctx.log(f"peer {spec['peer']} at {spec['stowaway']}: {peer.address}", str(resource.key))

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        client = ctx.session.client("docker")
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
        actions.remove_container(client, actual.observed.ref)


def _token_file():
    source = peer_source_from_env()
    if source is None:
        raise ProviderError(
            "GEFYRA_STOWAWAY_URL / GEFYRA_STOWAWAY_TOKEN_FILE are not set",
            hint="until the Operator provides peers, point them at Stowaway's control API and its token",
        )
    return source.token_file


KIND = ConnectionKind()

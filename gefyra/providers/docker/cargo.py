"""Kind `cargo`: the Cargo sidecar on the project network, and app containers routed through it.

Cargo takes a fixed address (the last host of the project subnet), so app containers can use it as gateway
and DNS server before and after Cargo is recreated. Its create copies the peer config from the connection's
holder into Cargo (mode 600), waits for the WireGuard handshake, then points every running app container's
default route at it; the post-start hook does the same for each app container started later (create,
replace, drift repair, watch restart, `gefyra run`). Each routing is noted in Cargo (the start's endpoint id);
an app container started outside gefyra (`docker restart`) has a new endpoint, so the plan shows
`routed.<kind>/<name>` as changed and the in-place update routes it again.
"""

from __future__ import annotations

from typing import Any

from gefyra.dataplane.cargo import cargo_address, cargo_health, create_cargo, wait_tunnel
from gefyra.dataplane.gateway import endpoint_of, route_and_note, routed_endpoint
from gefyra.dataplane.images import ensure_images, image_tag
from gefyra.dataplane.render import CARGO_DNS_ADDRESS, app_dns_settings
from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.model.desired import NETWORK, network_name
from gefyra.model.resources import Resource, ResourceKey
from gefyra.providers.base import Kind, PostStartHook, Snapshot, StepContext
from gefyra.providers.docker import actions
from gefyra.providers.docker.connection import (
    CONNECTION,
    ConnectionKind,
    network_subnet,
    read_container,
    read_held_config,
)
from gefyra.providers.docker.observe import DockerSnapshot, labels_for, read_notes

CARGO = ResourceKey("cargo", "default")
TUNNEL_TIMEOUT_S = 30
APP_KINDS = ("container", "run")


def cargo_name(project: str) -> str:
    return f"gefyra-{project}.cargo"


class CargoKind(Kind):
    kind = "cargo"
    provider = "docker"

    def desired(self, config: Any, snapshot: Snapshot) -> list[Resource]:
        if not ConnectionKind().desired(config, snapshot):
            return []
        docker: DockerSnapshot = snapshot.of("docker")
        project = config.project.name
        network = network_name(project)
        apps = running_apps(docker, network)
        spec = {
            "docker_name": cargo_name(project),
            "image": image_tag("cargo"),
            "image_id": docker.images.get(image_tag("cargo")),
            "network": network,
            # every running app container, by the start (endpoint) that must be routed through Cargo
            "routed": {app_key(item): endpoint_of(item, network)[:12] for item in apps},
        }
        return [
            Resource(
                kind=self.kind,
                name=CARGO.name,
                spec=spec,
                depends_on=(NETWORK, CONNECTION),
                mutable=("routed",),
            )
        ]

    def amend(self, desired: list[Resource], config: Any) -> list[Resource]:
        """App containers start after Cargo (so their post-start hook finds it) and use Cargo's constant DNS
        address with Pod-like search domains (Docker fixes DNS when a container is created)."""
        if not any(r.key == CARGO for r in desired):
            return desired
        dns = app_dns_settings(CARGO_DNS_ADDRESS, config.cluster.namespace)
        return [
            r.evolve(spec={**r.spec, "dns": dns.dns, "dns_search": dns.dns_search}, after=(*r.after, CARGO))
            if r.kind == "container"
            else r
            for r in desired
        ]

    def read(self, snapshot: Snapshot) -> list[Resource]:
        docker: DockerSnapshot = snapshot.of("docker")
        found = []
        for item in docker.containers_of(self.kind):
            state = item.get("State", "unknown")
            healthy = state == "running" and "unhealthy" not in item.get("Status", "")
            resource = read_container(item, state, healthy)
            notes = docker.notes.get(item["Id"], {})
            network = resource.spec.get("network", "")
            routed = {app_key(app): routed_endpoint(notes, app)[:12] for app in running_apps(docker, network)}
            spec = {**resource.spec, "routed": routed}
            found.append(resource.evolve(spec=spec, spec_hash=resource.spec_hash))
        return found

    def create(self, ctx: StepContext, resource: Resource) -> None:
        client = ctx.session.client("docker")
        spec = resource.spec
        image_id = ensure_images(client, ["cargo"])["cargo"]
        if spec.get("image_id") != image_id:  # the label must carry the hash the next plan computes
            resource = resource.evolve(spec={**spec, "image_id": image_id})
        existing = actions.find_container(client, spec["docker_name"])
        if existing is not None:
            actions.ensure_ours(existing, ctx.project, f"container {spec['docker_name']}")
            actions.remove_container(client, existing["Id"])
        address = cargo_address(network_subnet(client, spec["network"]))
        try:
            cargo = create_cargo(
                client,
                name=spec["docker_name"],
                network=spec["network"],
                wg_config=read_held_config(client, ctx.project),
                labels={**labels_for(ctx.project, resource), labels.NOTES: "true"},
                image=spec["image"],
                ip=address,
            )
        except Exception as error:  # noqa: BLE001 - docker.errors.APIError, imported lazily
            why = getattr(error, "explanation", None) or error
            raise ProviderError(f"cannot create {resource.key}: {why}") from error
        wait_tunnel(cargo, TUNNEL_TIMEOUT_S)
        ctx.log(f"tunnel up, gateway {address}", str(resource.key))
        for item in client.api.containers(filters={"label": [labels.project_filter(ctx.project)]}):
            if (item.get("Labels") or {}).get(labels.KIND) in APP_KINDS:
                app = client.containers.get(item["Id"])
                route_and_note(client, cargo, app, address, spec["network"], image=spec["image"])
        ctx.started(resource, cargo.id)

    def update(self, ctx: StepContext, previous: Resource, resource: Resource) -> None:
        """Route again every running app container whose current start Cargo has not routed (started
        outside gefyra); re-checks the world, the plan's endpoint ids may be stale."""
        assert previous.observed is not None
        client = ctx.session.client("docker")
        cargo = client.containers.get(previous.observed.ref)
        network = resource.spec["network"]
        address = cargo.attrs["NetworkSettings"]["Networks"].get(network, {}).get("IPAddress")
        if not address:
            raise ProviderError(f"Cargo has no address on {network}")
        notes = read_notes(client, cargo.id, labels.NOTES_FOLDER)
        for item in client.api.containers(filters={"label": [labels.project_filter(ctx.project)]}):
            if (item.get("Labels") or {}).get(labels.KIND) not in APP_KINDS:
                continue
            endpoint = endpoint_of(item, network)
            if not endpoint or routed_endpoint(notes, item) == endpoint:
                continue  # not on the project network (nothing to route), or routed already
            try:
                app = client.containers.get(item["Id"])
                route_and_note(client, cargo, app, address, network, image=cargo.attrs["Config"]["Image"])
            except Exception:  # noqa: BLE001 - docker.errors.NotFound, ProviderError: gone or stopped meanwhile?
                still = client.api.containers(filters={"id": [item["Id"]]})  # running ones only
                if still:
                    raise
                continue  # removed or stopped by a parallel step: its next start is routed by the hook
            ctx.log(f"routed {app.name} through Cargo again (started outside gefyra)", str(resource.key))

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        assert actual.observed is not None
        actions.remove_container(ctx.session.client("docker"), actual.observed.ref)

    def restart(self, ctx: StepContext, actual: Resource) -> None:
        assert actual.observed is not None
        client = ctx.session.client("docker")
        cargo = client.containers.get(actual.observed.ref)
        cargo.restart(timeout=2)
        wait_tunnel(cargo, TUNNEL_TIMEOUT_S)
        _, why = cargo_health(cargo)
        ctx.log(f"restarted ({why})", str(actual.key))


def running_apps(docker: DockerSnapshot, network: str) -> list[dict[str, Any]]:
    """Running app containers (kinds container and run) of the snapshot attached to `network`."""
    return [
        item
        for kind in APP_KINDS
        for item in docker.containers_of(kind)
        if item.get("State") == "running" and endpoint_of(item, network)
    ]


def app_key(item: dict[str, Any]) -> str:
    found = item.get("Labels") or {}
    return f"{found.get(labels.KIND)}/{found.get(labels.NAME)}"


def _route_through_cargo(ctx: StepContext, resource: Resource, container_id: str) -> None:
    """Post-start hook: a started app container gets Cargo as its default gateway (when Cargo runs)."""
    client = ctx.session.client("docker")
    cargo = actions.find_container(client, cargo_name(ctx.project))
    if cargo is None or not cargo["State"]["Running"]:
        return  # no cluster connection in this project (or not up yet: Cargo's create patches later)
    network = network_name(ctx.project)
    address = cargo["NetworkSettings"]["Networks"].get(network, {}).get("IPAddress")
    if not address:
        raise ProviderError(f"Cargo has no address on {network}")
    app = client.containers.get(container_id)
    image = cargo["Config"]["Image"]
    route_and_note(client, client.containers.get(cargo["Id"]), app, address, network, image=image)


HOOKS = [PostStartHook(name="cargo.route", kinds=APP_KINDS, run=_route_through_cargo)]
KIND = CargoKind()

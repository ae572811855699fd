"""Kind `cargo`: the Cargo sidecar on the project network, and app containers routed through it.

Cargo takes a fixed address (the last host of the project subnet), so app containers can use it as gateway
and DNS server before and after Cargo is recreated. Its create copies the peer config from the connection's
holder into Cargo (mode 600), waits for the WireGuard handshake, then points the default route of every
running app container at it; the post-start hook does the same for each app container started later
(create, replace, watch restart, `gefyra run`). Each routing is noted in Cargo (the start's endpoint id).
Which app is routed is an observed fact, not part of the spec: an app started outside gefyra (`docker
restart`) has a new endpoint, `read` reports "container/web is not routed through Cargo" as drift, and the
in-place `update` routes it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

from gefyra.config.model import Config
from gefyra.dataplane.cargo_layout import cargo_address
from gefyra.dataplane.render import CARGO_DNS_ADDRESS, app_dns_settings
from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.model.dataplane_specs import APP_KINDS, CARGO, CONNECTION, INFRA_KIND, CargoSpec, cargo_name
from gefyra.model.desired import NETWORK, network_name
from gefyra.model.resources import Observed, Resource
from gefyra.providers.base import Kind, PostStartHook, Snapshot, StepContext
from gefyra.providers.docker import actions, attachment
from gefyra.providers.docker.dataplane.cargo import cargo_health, create_cargo, wait_tunnel
from gefyra.providers.docker.dataplane.gateway import route_and_note, route_note_name, routed_endpoint
from gefyra.providers.docker.dataplane.images import ensure_images, image_tag
from gefyra.providers.docker.dataplane.tunnel import rehandshake, tunnel_drift
from gefyra.providers.docker.engine import ContainerInfo, ContainerRow, Engine
from gefyra.providers.docker.observe import (
    DockerSnapshot,
    docker_snapshot,
    labels_for,
    read_container,
    read_notes,
)
from gefyra.providers.docker.peering import connection_spec, read_held_config
from gefyra.providers.errors import EngineError

TUNNEL_TIMEOUT_S = 30
ROUTE_WORKERS = 4  # helper containers at once when Cargo (re)routes every app namespace


class CargoKind(Kind):
    kind = "cargo"
    provider = "docker"

    def desired(self, config: Config, snapshot: Snapshot) -> list[Resource]:
        if connection_spec(config) is None:
            return []
        project = config.project.name
        spec = CargoSpec(
            docker_name=cargo_name(project),
            image=image_tag("cargo"),
            image_id=docker_snapshot(snapshot).images.get(image_tag("cargo")),
            network=network_name(project),
        )
        return [Resource(kind=self.kind, name=CARGO.name, spec=spec.dump(), depends_on=(NETWORK, CONNECTION))]

    def amend(self, desired: list[Resource], config: Config) -> list[Resource]:
        """App containers start after Cargo (so their post-start hook finds it), in a namespace held by an
        infra container that is routed before they start, and use Cargo's constant DNS address with Pod-like
        search domains (Docker fixes DNS when a container is created)."""
        if config.cluster is None or not any(r.key == CARGO for r in desired):
            return desired
        return [
            r.evolve(spec=routed_spec(r.spec, config.cluster.namespace), after=(*r.after, CARGO))
            if r.kind == "container"
            else r
            for r in desired
        ]

    def read(self, snapshot: Snapshot) -> list[Resource]:
        docker = docker_snapshot(snapshot)
        found = []
        for item in docker.containers_of(self.kind):
            resource = read_container(item, item.state, True)
            observed = observed_cargo(item, resource.spec, docker)
            # A Cargo labelled with fields CargoSpec no longer has (an earlier gefyra's `routed`) cannot be
            # relabelled in place: replace it once, so the plan converges.
            outdated = set(resource.spec) - set(CargoSpec.model_fields)
            spec_hash = f"outdated:{resource.spec_hash}" if outdated else resource.spec_hash
            found.append(resource.evolve(observed=observed, spec_hash=spec_hash))
        return found

    def create(self, ctx: StepContext, resource: Resource) -> None:
        engine = ctx.session.client_of("docker", Engine)
        spec = CargoSpec.model_validate(resource.spec)
        image_id = ensure_images(engine, ["cargo"])["cargo"]
        if spec.image_id != image_id:  # the label must carry the hash the next plan computes
            resource = resource.evolve(spec=spec.model_copy(update={"image_id": image_id}).dump())
        actions.clear_name(engine, spec.docker_name, ctx.project)
        address = cargo_address(actions.network_subnet(engine, spec.network))
        try:
            made = create_cargo(
                engine,
                name=spec.docker_name,
                network=spec.network,
                wg_config=read_held_config(engine, ctx.project),
                labels={**labels_for(ctx.project, resource), labels.NOTES: "true"},
                image=spec.image,
                ip=address,
            )
        except EngineError as error:
            raise ProviderError(f"cannot create {resource.key}: {error}") from error
        cargo = engine.inspect_container(made)
        running = engine.containers(all=False, labels=[labels.project_filter(ctx.project)])
        # Routing needs Cargo's address, not its tunnel (until the tunnel is up, Cargo drops what is meant
        # for the cluster): route every namespace in parallel while the handshake is awaited.
        with ThreadPoolExecutor(max_workers=ROUTE_WORKERS) as pool:
            routing = [
                pool.submit(route, engine, cargo, item, spec.network)
                for item in routables(running, spec.network)
            ]
            wait_tunnel(engine, made, TUNNEL_TIMEOUT_S)
            ctx.log(f"tunnel up, gateway {address}", str(resource.key))
            for future in routing:
                future.result()
        ctx.started(resource, made)

    def update(self, ctx: StepContext, previous: Resource, resource: Resource) -> None:
        """Repair drift in place, each re-checked now (the plan's facts may be stale): rename Cargo back,
        start it again when it stopped, route again every running app container whose current start Cargo
        has not routed (started outside gefyra), and re-handshake a silent tunnel from a new source port
        (fails when it stays silent)."""
        assert previous.observed is not None
        engine = ctx.session.client_of("docker", Engine)
        spec = CargoSpec.model_validate(resource.spec)
        fixed = attachment.repair(
            engine, previous.observed.ref, docker_name=spec.docker_name, network=None, aliases=[]
        )
        for done in fixed.done:
            ctx.log(done, str(resource.key))
        started = not fixed.info.state.running
        if started:  # stopped or killed: its config, address and notes are still there
            engine.start(fixed.info.id)
            wait_tunnel(engine, fixed.info.id, TUNNEL_TIMEOUT_S)
            ctx.log(f"started again ({fixed.info.state.status} before), tunnel up", str(resource.key))
        notes = read_notes(engine, fixed.info.id, labels.NOTES_FOLDER)  # one read (slow under load)
        self._route_again(ctx, engine, fixed.info, spec.network, resource, notes)
        silent = None if started else tunnel_drift(notes, time.time(), local=engine.local)  # fresh tunnel
        if silent is not None:
            answer = rehandshake(engine, fixed.info.id, fixed.info.name)
            ctx.log(f"{silent}; answers again after a new handshake ({answer})", str(resource.key))

    def _route_again(
        self,
        ctx: StepContext,
        engine: Engine,
        cargo: ContainerInfo,
        network: str,
        resource: Resource,
        notes: dict[str, str],
    ) -> None:
        running = engine.containers(all=False, labels=[labels.project_filter(ctx.project)])
        for item in unrouted(running, notes, network):
            try:
                restarted = route(engine, cargo, item, network)
            except ProviderError:  # gone or stopped meanwhile?
                if engine.containers(all=False, ids=[item.id]):  # still running: a real failure
                    raise
                continue  # removed or stopped by a parallel step: its next start is routed by the hook
            again = f"; restarted {', '.join(restarted)} into it" if restarted else ""
            ctx.log(
                f"routed {owner(item)} through Cargo again (started outside gefyra){again}", str(resource.key)
            )

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        assert actual.observed is not None
        ctx.session.client_of("docker", Engine).remove_container(actual.observed.ref)

    def restart(self, ctx: StepContext, actual: Resource) -> None:
        assert actual.observed is not None
        engine = ctx.session.client_of("docker", Engine)
        engine.restart(actual.observed.ref, timeout=2)
        wait_tunnel(engine, actual.observed.ref, TUNNEL_TIMEOUT_S)
        _, why = cargo_health(engine, actual.observed.ref)
        ctx.log(f"restarted ({why})", str(actual.key))


def observed_cargo(item: ContainerRow, spec: Mapping[str, object], docker: DockerSnapshot) -> Observed:
    """What Cargo's state asks for. Unhealthy (a replace): broken (Docker's health check), dead, or without
    the project network (its firewall names the interface it started with: a new Cargo, not a reconnected
    one). Drift (an in-place update): stopped or killed (started again: it keeps its config, address and
    notes, so nothing needs routing again), renamed, its tunnel silent, an app not routed through it."""
    network, docker_name = str(spec.get("network", "")), str(spec.get("docker_name", item.name))
    seen = Observed(
        status=item.state, healthy=True, detail=item.status, ref=item.id, info={"docker_name": item.name}
    )
    stopped = item.state in ("exited", "created")
    if stopped and network not in item.networks:
        return seen.model_copy(update={"healthy": False, "detail": f"{item.status}; no network {network}"})
    if stopped:
        return seen.model_copy(update={"drift": (f"stopped ({item.status or item.state}): started again",)})
    detached = attachment.detached(item, network)
    if item.state != "running" or "unhealthy" in item.status or detached is not None:
        return seen.model_copy(update={"healthy": False, "detail": detached or item.status})
    notes = docker.notes.get(item.id, {})
    drift = attachment.drift_of(item, docker_name, None)
    silent = tunnel_drift(notes, docker.observed_at, local=docker.local)
    drift += (silent,) if silent else ()
    drift += tuple(
        f"{owner(app)} is not routed through Cargo" for app in unrouted(docker.containers, notes, network)
    )
    return seen.model_copy(update={"drift": drift})


def routed_spec(spec: Mapping[str, object], namespace: str) -> dict[str, object]:
    """An app container's spec routed through Cargo: an infra container's namespace, Cargo's DNS."""
    dns = app_dns_settings(CARGO_DNS_ADDRESS, namespace)
    return {**spec, "netns": "infra", "dns": dns.dns, "dns_search": dns.dns_search}


def routables(containers: Iterable[ContainerRow], network: str) -> list[ContainerRow]:
    """Running containers whose network namespace must route through Cargo: infra containers, and app
    containers (kinds container and run) with a namespace of their own, attached to `network`."""
    return [
        item
        for item in containers
        if item.kind in (INFRA_KIND, *APP_KINDS) and item.state == "running" and item.endpoint(network)
    ]


def unrouted(containers: Iterable[ContainerRow], notes: dict[str, str], network: str) -> list[ContainerRow]:
    """The routables whose current start (endpoint) Cargo's notes do not name."""
    return [
        item
        for item in routables(containers, network)
        if routed_endpoint(notes, item) != item.endpoint(network)
    ]


def owner(item: ContainerRow) -> str:
    """The resource a routable belongs to, as the plan names it (`container/web`; an infra container is
    labelled with its app's `<kind>.<name>`)."""
    if item.kind == INFRA_KIND:
        return item.resource_name.replace(".", "/", 1)
    return f"{item.kind}/{item.resource_name}"


def route(
    engine: Engine, cargo: ContainerInfo, item: ContainerRow | ContainerInfo, network: str
) -> list[str]:
    """Point the default route of `item`'s namespace at Cargo and note it in Cargo. Apps that joined an
    infra container before its current start sit in a namespace that is gone: they are restarted into the
    routed one. Returns the names of the apps restarted."""
    address = cargo.ip_on(network)
    if not address:
        raise ProviderError(f"Cargo has no address on {network}")
    route_and_note(engine, cargo.id, item.id, address, network, image=cargo.config.image)
    infra = engine.inspect_container(item.id)
    restarted = []
    for app in engine.containers(all=False, labels=[labels.project_filter(infra.project)]):
        if app.network_mode == f"container:{infra.id}":
            if engine.inspect_container(app.id).state.started < infra.state.started:
                engine.restart(app.id, timeout=1)
                restarted.append(app.name)
    return restarted


def running_cargo(engine: Engine, project: str) -> ContainerInfo | None:
    """The project's running Cargo, found by its labels (also when renamed by hand), or None."""
    rows = engine.containers(all=False, labels=[labels.project_filter(project), f"{labels.KIND}=cargo"])
    return engine.find_container(rows[0].id) if rows else None


def _route_through_cargo(ctx: StepContext, resource: Resource, container_id: str) -> None:
    """Post-start hook: a started app container gets Cargo as its default gateway (when Cargo runs)."""
    engine = ctx.session.client_of("docker", Engine)
    cargo = running_cargo(engine, ctx.project)
    if cargo is None or not cargo.state.running:
        return  # no cluster connection in this project (or not up yet: Cargo's create routes later)
    app, network = engine.inspect_container(container_id), network_name(ctx.project)
    if not _routed_already(ctx.snapshot, cargo, app, network):  # a kept infra container is routed already
        route(engine, cargo, app, network)


def _routed_already(snapshot: Snapshot, cargo: ContainerInfo, app: ContainerInfo, network: str) -> bool:
    """Cargo's notes, as the plan's observation read them, name this very start of `app` (its id and its
    current endpoint) as routed: no engine call instead of a helper container. A restarted or reconnected
    namespace has a new endpoint; a namespace routed after the observation is routed again (idempotent)."""
    found = app.networks.get(network)
    if found is None or not found.endpoint_id:
        return False
    observed = snapshot.providers.get("docker")  # `gefyra run` acts without an observation
    notes = observed.notes.get(cargo.id, {}) if isinstance(observed, DockerSnapshot) else {}
    return notes.get(route_note_name(app.labels)) == f"{app.id} {found.endpoint_id}"


HOOKS = [PostStartHook(name="cargo.route", kinds=APP_KINDS, run=_route_through_cargo)]
KIND = CargoKind()

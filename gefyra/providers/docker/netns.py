"""The infra container that holds an app container's network namespace (like a Pod's sandbox).

With Cargo, an app's network must be routed before its process runs: the infra container (Cargo's image,
`sleep infinity`, no privileges) is created on the project network with the app's aliases, published ports
and DNS settings, started, routed through Cargo by the post-start hooks, and only then does the app start
with `network_mode: container:<infra>` (Docker gives it the infra's resolv.conf and hosts too). An app
restart keeps the namespace and so its route; a restart of the infra itself is the drift case (kind cargo).
A replaced app (a new image, command or env) whose network, aliases, ports, DNS settings and hostname are
unchanged joins its running infra container again (label `dev.gefyra.netns-hash`): no new namespace, no
new route, the host ports stay bound; otherwise the infra container is made anew.
"""

from __future__ import annotations

from gefyra.model import labels
from gefyra.model.dataplane_specs import INFRA_KIND, AppSpec, infra_name, infra_owner, netns_hash
from gefyra.model.resources import Resource
from gefyra.providers.docker import actions, ports
from gefyra.providers.docker.dataplane.images import ensure_images
from gefyra.providers.docker.engine import ContainerCreate, ContainerRow, Engine
from gefyra.providers.errors import EngineError


def infra_labels(project: str, resource: Resource) -> dict[str, str]:
    return {
        labels.PROJECT: project,
        labels.KIND: INFRA_KIND,
        labels.NAME: infra_owner(resource.kind, resource.name),
    }


def reusable_infra(engine: Engine, project: str, resource: Resource, spec: AppSpec) -> str | None:
    """The id of `resource`'s running infra container when it was made for the same namespace as `spec`
    (network, aliases, ports, DNS, hostname) and still has its name; None otherwise."""
    row = infra_of(engine, project, resource)
    if row is None or row.state != "running" or row.name != infra_name(spec.docker_name):
        return None
    return row.id if row.labels.get(labels.NETNS_HASH) == netns_hash(spec, resource.name) else None


def infra_of(engine: Engine, project: str, resource: Resource) -> ContainerRow | None:
    """The infra container of an app, found by its labels (also when renamed by hand)."""
    rows = engine.containers(labels=_selector(project, resource))
    return rows[0] if rows else None


def _selector(project: str, resource: Resource) -> list[str]:
    return [f"{key}={value}" for key, value in infra_labels(project, resource).items()]


def start_infra(engine: Engine, project: str, resource: Resource, spec: AppSpec) -> str:
    """(Re)create and start the namespace holder of `resource`; returns its id. A stale one goes first
    (also one renamed by hand: found by its labels)."""
    actions.clear_name(engine, infra_name(spec.docker_name), project)
    for stale in engine.containers(labels=_selector(project, resource)):
        engine.remove_container(stale.id)
    image = ensure_images(engine, ["cargo"])["cargo"]
    infra = engine.create_container(
        ContainerCreate(
            image=image,
            name=infra_name(spec.docker_name),
            entrypoint=["sleep", "infinity"],
            labels={**infra_labels(project, resource), labels.NETNS_HASH: netns_hash(spec, resource.name)},
            network=spec.network,
            aliases=list(spec.aliases),
            ports=ports.bindings(spec.ports),
            dns=spec.dns,
            dns_search=spec.dns_search,
            hostname=resource.name,
            healthcheck_off=True,  # the image's health check is Cargo's
        )
    )
    try:
        engine.start(infra)
    except EngineError:
        engine.remove_container(infra)  # no `Created` leftover holding the name or the ports
        raise
    return infra


def remove_infra(engine: Engine, project: str, resource: Resource) -> None:
    """Remove the namespace holder of an app (after the app), if it has one, also when renamed by hand;
    refuses an unlabelled container of its name."""
    docker_name = resource.spec.get("docker_name")
    if isinstance(docker_name, str) and docker_name:
        actions.clear_name(engine, infra_name(docker_name), project)
    for stale in engine.containers(labels=_selector(project, resource)):
        engine.remove_container(stale.id)


def collect_finished(engine: Engine, project: str) -> list[str]:
    """Remove the infra containers of one-offs (`gefyra run`) that finished or were removed: nothing else
    ends them (an app container's infra goes with the app's delete). Returns the names removed."""
    rows = engine.containers(labels=[labels.project_filter(project)])
    running = {row.name for row in rows if row.state == "running" and row.kind == labels.KIND_RUN}
    removed = []
    for row in rows:
        if row.kind == INFRA_KIND and row.resource_name.startswith(f"{labels.KIND_RUN}."):
            if row.name.removesuffix(".infra") not in running and engine.remove_container(row.id):
                removed.append(row.name)
    return removed

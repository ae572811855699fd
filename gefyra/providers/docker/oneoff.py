"""`gefyra run`, `list` and `logs`: imperative helpers over the same labels and container handler."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence

from gefyra.dataplane.render import CARGO_DNS_ADDRESS, app_dns_settings
from gefyra.errors import ConfigError, ProviderError
from gefyra.model import labels
from gefyra.model.desired import (
    NETWORK,
    ContainerSpec,
    MountSpec,
    NetworkSpec,
    PortSpec,
    container_name,
    network_name,
)
from gefyra.model.resources import Resource
from gefyra.providers.base import StepContext, narrow
from gefyra.providers.docker import netns
from gefyra.providers.docker.container import KIND as CONTAINERS
from gefyra.providers.docker.engine import Engine
from gefyra.providers.docker.network import KIND as NETWORKS


def parse_env(items: Sequence[str]) -> dict[str, str]:
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"-e {item!r}: expected KEY=VALUE")
        env[key] = value
    return env


def parse_mount(item: str, cwd: str) -> MountSpec:
    import os

    parts = item.split(":")
    if (
        len(parts) not in (2, 3)
        or not parts[1].startswith("/")
        or (len(parts) == 3 and parts[2] not in ("ro", "rw"))
    ):
        raise ConfigError(f"-v {item!r}: expected SOURCE:/TARGET[:ro]")
    source = os.path.normpath(os.path.join(cwd, os.path.expanduser(parts[0])))
    return MountSpec(source=source, target=parts[1], read_only=len(parts) == 3 and parts[2] == "ro")


def parse_port(item: str) -> PortSpec:
    body, _, protocol = item.partition("/")
    pieces = body.split(":")
    try:
        host_ip = pieces[0] if len(pieces) == 3 else None
        host_port, container_port = int(pieces[-2]), int(pieces[-1])
    except (ValueError, IndexError):
        raise ConfigError(f"-p {item!r}: expected [IP:]HOST:CONTAINER[/tcp|udp]") from None
    return PortSpec(
        host_ip=host_ip, host_port=host_port, container_port=container_port, protocol=protocol or "tcp"
    )


def run_resource(
    project: str,
    *,
    image: str,
    name: str | None,
    env: dict[str, str],
    mounts: list[MountSpec],
    ports: list[PortSpec],
    args: list[str] | None,
    command: list[str] | None,
) -> Resource:
    name = name or f"run-{secrets.token_hex(3)}"
    spec = ContainerSpec(
        docker_name=container_name(project, name),
        image=image,
        image_id=None,
        command=command,
        args=args or None,
        env=env,
        mounts=mounts,
        ports=ports,
        network=network_name(project),
        aliases=[name],
    )
    return Resource(kind=labels.KIND_RUN, name=name, spec=spec.dump(), depends_on=(NETWORK,))


def with_cargo_dns(resource: Resource, namespace: str) -> Resource:
    """The one-off runs like an app container of the project (kind cargo's `amend`): in the namespace of an
    infra container that Cargo routes before the one-off starts, with Cargo's DNS address and Pod-like
    search domains."""
    dns = app_dns_settings(CARGO_DNS_ADDRESS, namespace)
    spec = {**resource.spec, "netns": "infra", "dns": dns.dns, "dns_search": dns.dns_search}
    return resource.evolve(spec=spec)


def run(ctx: StepContext, resource: Resource, subnet: str) -> str:
    """Create the project network when missing, then the one-off container; returns its Docker name.

    When the project has a Cargo container, the one-off resolves through it (cluster names, no public ones);
    the namespace of the search domains is `cluster.namespace` of the config, `default` without one."""
    engine = ctx.session.client_of("docker", Engine)
    # found by its labels: a Cargo renamed by hand is still the project's Cargo
    if engine.containers(labels=[labels.project_filter(ctx.project), f"{labels.KIND}=cargo"]):
        cluster = ctx.config.cluster if ctx.config is not None else None
        resource = with_cargo_dns(resource, cluster.namespace if cluster is not None else "default")
    if not engine.networks(names=[network_name(ctx.project)]):
        spec = NetworkSpec(docker_name=network_name(ctx.project), subnet=subnet)
        NETWORKS.create(ctx, Resource(kind=NETWORK.kind, name=NETWORK.name, spec=spec.dump()))
    existing = engine.containers(name=str(resource.spec["docker_name"]))
    ours = bool(existing) and existing[0].project == ctx.project and existing[0].kind == labels.KIND_RUN
    if existing and ours and existing[0].state != "running":  # an earlier, finished one-off
        engine.remove_container(existing[0].id)
        existing = []
    netns.collect_finished(engine, ctx.project)
    if existing:
        raise ProviderError(
            f"a container named {resource.spec['docker_name']} exists",
            hint="choose another -N NAME or `gefyra down` first",
        )
    CONTAINERS.create(ctx, resource)
    return str(resource.spec["docker_name"])


def listing(client: object, project: str | None) -> list[dict[str, str]]:
    """Every gefyra container (of one project or of all), sorted by project and name."""
    engine = narrow(client, Engine, "the docker client")
    rows = [
        {
            "project": item.project,
            "kind": item.kind,
            "name": item.resource_name,
            "docker_name": item.name,
            "state": item.state,
            "status": item.status,
            "image": item.image,
        }
        for item in engine.containers(labels=[labels.project_filter(project)])
    ]
    return sorted(rows, key=lambda row: (row["project"], row["kind"], row["name"]))


def logs(client: object, project: str, name: str, *, follow: bool, tail: int | None) -> Iterator[bytes]:
    """Log chunks of the project's container `name` (an app container or a one-off)."""
    engine = narrow(client, Engine, "the docker client")
    found = engine.containers(labels=[labels.project_filter(project), f"{labels.NAME}={name}"])
    if not found:
        raise ProviderError(f"no container {name!r} in project {project!r}", hint="see `gefyra list`")
    yield from engine.stream_logs(found[0].id, follow=follow, tail=tail)

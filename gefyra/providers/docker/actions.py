"""Idempotent Docker operations: each re-checks the world and never touches objects gefyra did not label."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from ipaddress import IPv4Network

from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.model.desired import BuildSpec
from gefyra.providers.docker import subnet as subnets
from gefyra.providers.docker.engine import Engine
from gefyra.providers.errors import EngineError, EngineFailure, NotFound

_POOL_OVERLAP = ("overlaps", "Pool overlaps")
_SUBNET_ATTEMPTS = 8


def ensure_ours(item_labels: Mapping[str, str], project: str, what: str) -> None:
    """Refuse to change an object that is not labelled with this project."""
    if item_labels.get(labels.PROJECT) != project:
        raise ProviderError(
            f"{what} exists but was not created by gefyra for project {project!r}",
            hint="rename or remove it yourself; gefyra never touches objects it did not label",
        )


def clear_name(engine: Engine, name: str, project: str) -> None:
    """Remove our container named `name` (a stale copy an interrupted apply left); refuse a stranger's."""
    existing = engine.find_container(name)
    if existing is not None:
        ensure_ours(existing.labels, project, f"container {name}")
        engine.remove_container(existing.id)


def ensure_image(engine: Engine, ref: str, *, log: Callable[[str], None]) -> str:
    """Id of image `ref`, pulled when the engine says it is not there (only then)."""
    found = engine.find_image(ref)
    if found is not None:
        return found.id
    log(f"pulling {ref}")
    try:
        return engine.pull(ref)
    except (NotFound, EngineFailure) as error:
        raise ProviderError(
            f"image {ref} is not present locally and could not be pulled: {error}",
            hint="build or load the image first, or use `build:` in gefyra.yaml",
        ) from error


def build_image(
    engine: Engine, build: BuildSpec, tag: str, project: str, *, log: Callable[[str], None]
) -> str:
    """Build `tag` from a BuildSpec; returns the image id. Build output is surfaced on failure only."""
    log(f"building {tag} from {build.context}")
    return engine.build(
        build.context,
        dockerfile=build.dockerfile,
        buildargs=dict(build.args),
        target=build.target,
        tag=tag,
        labels={labels.PROJECT: project},
    )


def create_network(
    engine: Engine,
    name: str,
    subnet: str,
    net_labels: Mapping[str, str],
    *,
    driver: str,
    log: Callable[[str], None],
) -> str:
    """Create a bridge network; subnet "auto" picks a free /24 (retrying when another engine user raced
    us). An identical one (same spec hash) already there is kept: an interrupted apply made it."""
    for network in engine.networks(names=[name]):
        ensure_ours(network.labels, net_labels[labels.PROJECT], f"network {name}")
        if network.labels.get(labels.SPEC_HASH) == net_labels[labels.SPEC_HASH]:
            return network.id
        remove_network(engine, network.id)
    taken: list[IPv4Network] = []
    for _ in range(_SUBNET_ATTEMPTS):
        chosen = subnet
        if subnet == "auto":
            chosen = str(subnets.choose(subnets.docker_subnets(engine) + subnets.host_routes() + taken))
        try:
            created = engine.create_network(name, subnet=chosen, labels=dict(net_labels), driver=driver)
        except EngineError as error:
            if subnet == "auto" and any(text in str(error) for text in _POOL_OVERLAP):
                taken.append(IPv4Network(chosen))
                continue
            raise
        log(f"network {name} uses {chosen}")
        return created
    raise ProviderError(
        f"cannot find a free subnet for network {name}", hint="set network.subnet in gefyra.yaml"
    )


def remove_network(engine: Engine, ident: str) -> bool:
    """Remove a network, first disconnecting gefyra containers still attached; True if it existed."""
    try:
        info = engine.inspect_network(ident)
    except NotFound:
        return False
    for container_id in info.containers:
        found = engine.find_container(container_id)
        if found is None:
            continue
        ensure_ours(found.labels, info.project, f"container {found.name} on network {info.name}")
        try:
            engine.disconnect(container_id, ident)
        except NotFound:
            pass  # removed meanwhile
    return engine.remove_network(ident)


def prune_old_builds(engine: Engine, repository: str, keep: str) -> None:
    """Best effort: drop earlier tags of a container's built image (each build context hash is a new tag)."""
    for image in engine.images(reference=repository):
        for tag in image.repo_tags:
            if tag != keep and tag.startswith(f"{repository}:"):
                try:
                    engine.remove_image(tag, force=False)
                except EngineError as error:
                    if error.status != 409:  # 409: still used (a replace in flight): the next build prunes it
                        raise


def network_subnet(engine: Engine, network: str) -> str:
    """The IPv4 subnet of `network` (read through NetworkInfo, the one IPAM reader)."""
    try:
        subnet = engine.inspect_network(network).subnet
    except NotFound as error:
        raise ProviderError(f"network {network} is missing") from error
    if subnet is None:
        raise ProviderError(f"network {network} has no IPv4 subnet")
    return subnet

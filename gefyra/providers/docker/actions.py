"""Idempotent Docker operations: each re-checks the world and never touches objects gefyra did not label."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from ipaddress import IPv4Network
from typing import Any

from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.providers.docker import subnet as subnets

_POOL_OVERLAP = ("overlaps", "Pool overlaps")
_SUBNET_ATTEMPTS = 8


def _errors():
    import docker.errors

    return docker.errors


def find_container(client: Any, name: str) -> dict[str, Any] | None:
    """Inspect data of the container named `name`, or None."""
    try:
        return client.api.inspect_container(name)
    except _errors().NotFound:
        return None


def ensure_ours(item: Mapping[str, Any], project: str, what: str) -> None:
    """Refuse to change an object that is not labelled with this project."""
    item_labels = (item.get("Config") or {}).get("Labels") or item.get("Labels") or {}
    if item_labels.get(labels.PROJECT) != project:
        raise ProviderError(
            f"{what} exists but was not created by gefyra for project {project!r}",
            hint="rename or remove it yourself; gefyra never touches objects it did not label",
        )


def remove_container(client: Any, ident: str) -> bool:
    """Force-remove (SIGKILL: dev containers need no graceful stop) with anonymous volumes; True if it
    existed."""
    try:
        client.api.remove_container(ident, force=True, v=True)
        return True
    except _errors().NotFound:
        return False
    except _errors().APIError as error:
        if "already in progress" in str(error) or error.status_code == 404:
            return False
        raise ProviderError(f"cannot remove container {ident[:12]}: {error.explanation or error}") from error


def ensure_image(client: Any, ref: str, *, log: Callable[[str], None]) -> str:
    """Id of image `ref`, pulled when missing locally."""
    errors = _errors()
    try:
        return client.api.inspect_image(ref)["Id"]
    except errors.ImageNotFound:
        pass
    log(f"pulling {ref}")
    try:
        client.images.pull(ref)
        return client.api.inspect_image(ref)["Id"]
    except errors.APIError as error:
        raise ProviderError(
            f"image {ref} is not present locally and could not be pulled: {error.explanation or error}",
            hint="build or load the image first, or use `build:` in gefyra.yaml",
        ) from error


def build_image(
    client: Any, build: Mapping[str, Any], tag: str, project: str, *, log: Callable[[str], None]
) -> str:
    """Build `tag` from a BuildSpec dict; returns the image id. Build output is surfaced on failure only."""
    log(f"building {tag} from {build['context']}")
    try:
        image, _ = client.images.build(
            path=build["context"],
            dockerfile=build["dockerfile"],
            buildargs=dict(build.get("args") or {}),
            target=build.get("target"),
            tag=tag,
            rm=True,
            labels={labels.PROJECT: project},
        )
    except _errors().BuildError as error:
        tail = "".join(str(line.get("stream", line.get("error", ""))) for line in list(error.build_log)[-8:])
        raise ProviderError(
            f"building {tag} failed: {error.msg}", hint=tail.strip()[-800:] or None
        ) from error
    except _errors().APIError as error:
        raise ProviderError(f"building {tag} failed: {error.explanation or error}") from error
    return image.id


def create_network(
    client: Any,
    name: str,
    subnet: str,
    net_labels: Mapping[str, str],
    *,
    driver: str,
    log: Callable[[str], None],
) -> str:
    """Create a bridge network; subnet "auto" picks a free /24 (retrying when another engine user raced
    us). An identical one (same spec hash) already there is kept: an interrupted apply made it."""
    existing = client.api.networks(names=[name])
    for network in existing:
        if network.get("Name") == name:
            ensure_ours(network, net_labels[labels.PROJECT], f"network {name}")
            if (network.get("Labels") or {}).get(labels.SPEC_HASH) == net_labels[labels.SPEC_HASH]:
                return network["Id"]
            remove_network(client, network["Id"])
    taken: list[IPv4Network] = []
    for _ in range(_SUBNET_ATTEMPTS):
        chosen = subnet
        if subnet == "auto":
            chosen = str(subnets.choose(subnets.docker_subnets(client) + subnets.host_routes() + taken))
        from docker.types import IPAMConfig, IPAMPool

        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=chosen)])
        try:
            created = client.api.create_network(
                name, driver=driver, ipam=ipam, labels=dict(net_labels), check_duplicate=True
            )
        except _errors().APIError as error:
            if subnet == "auto" and any(text in str(error) for text in _POOL_OVERLAP):
                taken.append(IPv4Network(chosen))
                continue
            raise ProviderError(
                f"cannot create network {name} ({chosen}): {error.explanation or error}"
            ) from error
        log(f"network {name} uses {chosen}")
        return created["Id"]
    raise ProviderError(
        f"cannot find a free subnet for network {name}", hint="set network.subnet in gefyra.yaml"
    )


def remove_network(client: Any, ident: str) -> bool:
    """Remove a network, first disconnecting gefyra containers still attached; True if it existed."""
    errors = _errors()
    try:
        info = client.api.inspect_network(ident)
    except errors.NotFound:
        return False
    project = (info.get("Labels") or {}).get(labels.PROJECT)
    for container_id in info.get("Containers") or {}:
        found = find_container(client, container_id)
        if found is None:
            continue
        ensure_ours(found, project or "", f"container {found['Name'].lstrip('/')} on network {info['Name']}")
        try:
            client.api.disconnect_container_from_network(container_id, ident, force=True)
        except errors.APIError:
            pass  # removed meanwhile
    try:
        client.api.remove_network(ident)
    except errors.NotFound:
        return False
    except errors.APIError as error:
        raise ProviderError(f"cannot remove network {info['Name']}: {error.explanation or error}") from error
    return True


def remove_volume(client: Any, name: str) -> bool:
    try:
        client.api.remove_volume(name, force=True)
        return True
    except _errors().NotFound:
        return False


def remove_image(client: Any, ref: str) -> bool:
    """Remove an image (all its tags); True if it existed. An image still in use is an error."""
    try:
        client.api.remove_image(ref, force=True)
        return True
    except _errors().ImageNotFound:
        return False
    except _errors().APIError as error:
        raise ProviderError(f"cannot remove image {ref[:19]}: {error.explanation or error}") from error


def prune_old_builds(client: Any, repository: str, keep: str) -> None:
    """Best effort: drop earlier tags of a container's built image (each build context hash is a new tag)."""
    for image in client.api.images(name=repository):
        for tag in image.get("RepoTags") or ():
            if tag != keep and tag.startswith(f"{repository}:"):
                try:
                    client.api.remove_image(tag)
                except _errors().APIError:
                    pass  # still used by a container (e.g. another replace in flight): next build prunes it

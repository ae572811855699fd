"""The Docker provider: client, one snapshot, and label-based cleanup for `down`."""

from __future__ import annotations

from typing import Any

from gefyra.model import labels
from gefyra.providers.base import Provider
from gefyra.providers.docker import actions
from gefyra.providers.docker.observe import observe


class DockerProvider(Provider):
    name = "docker"

    def connect(self, config: Any) -> Any:
        """A client for DOCKER_HOST (or the local socket); fails with a hint when the engine does not
        answer. For a unix socket it is a FastClient (no docker SDK import for a no-op plan)."""
        from gefyra.errors import ProviderError
        from gefyra.providers.docker.fastclient import FastClient, socket_path

        def sdk() -> Any:
            import docker

            return docker.from_env(timeout=120)

        try:
            path = socket_path()  # unix socket: fast read-only lists, the SDK only when something changes
            client = FastClient(path, sdk) if path is not None else sdk()
            client.ping()
        except Exception as error:  # noqa: BLE001 - any connection problem is one clear error
            raise ProviderError(
                f"Docker engine not reachable: {error}",
                hint="start it (bash scripts/engine.sh) or set DOCKER_HOST",
            ) from error
        return client

    def observe(self, client: Any, project: str | None, config: Any) -> Any:
        return observe(client, project)

    def projects(self, client: Any) -> set[str]:
        selector = {"label": [labels.PROJECT]}
        found = client.api.containers(all=True, filters=selector) + client.api.networks(filters=selector)
        found += client.api.volumes(filters=selector).get("Volumes") or []
        return {(item.get("Labels") or {})[labels.PROJECT] for item in found}

    def sweep(self, client: Any, project: str, *, images: bool = False) -> list[str]:
        removed = []
        snapshot = observe(client, project, with_volumes=True)
        for item in snapshot.containers:  # containers first: networks and volumes are in use until they go
            if actions.remove_container(client, item["Id"]):
                removed.append(f"container {(item.get('Names') or ['?'])[0].lstrip('/')}")
        for item in snapshot.networks:
            if actions.remove_network(client, item["Id"]):
                removed.append(f"network {item.get('Name')}")
        for item in snapshot.volumes:
            if actions.remove_volume(client, item["Name"]):
                removed.append(f"volume {item['Name']}")
        for image in _built_images(client, project) if images else ():
            if actions.remove_image(client, image["Id"]):
                removed.append(f"image {', '.join(image.get('RepoTags') or [image['Id'][:19]])}")
        return removed

    def leftovers(self, client: Any, project: str, *, images: bool = False) -> list[str]:
        snapshot = observe(client, project, with_volumes=True)
        return (
            [f"container {(c.get('Names') or ['?'])[0].lstrip('/')}" for c in snapshot.containers]
            + [f"network {n.get('Name')}" for n in snapshot.networks]
            + [f"volume {v['Name']}" for v in snapshot.volumes]
            + ([f"image {i['Id'][:19]}" for i in _built_images(client, project)] if images else [])
        )


def _built_images(client: Any, project: str) -> list[dict[str, Any]]:
    """Images gefyra built for `project` (`build:` containers carry the project label)."""
    return client.api.images(filters={"label": [labels.project_filter(project)]})


PROVIDER = DockerProvider()

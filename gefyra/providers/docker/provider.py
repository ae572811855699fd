"""The Docker provider: the engine boundary, one snapshot, and label-based cleanup for `down`."""

from __future__ import annotations

from gefyra.config.model import Config
from gefyra.model import labels
from gefyra.providers.base import Provider, narrow
from gefyra.providers.docker import actions
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.engine import Engine, ImageRow
from gefyra.providers.docker.observe import DockerSnapshot, observe


def engine_of(client: object) -> Engine:
    return narrow(client, Engine, "the docker client")


def planned_images(config: Config | None) -> list[str] | None:
    """The images whose ids planning `config` looks up (the containers' `image:`, Cargo's); None (all)
    without a config or with a build, whose tag depends on its context's hash."""
    if config is None or any(c.build is not None for c in config.containers.values()):
        return None
    refs = [c.image for c in config.containers.values() if c.image]
    return [*refs, image_tag("cargo")] if config.cluster is not None else refs


class DockerProvider(Provider):
    name = "docker"

    def connect(self, config: Config | None) -> Engine:
        """The engine at DOCKER_HOST (or the local socket), pinged; a one-line error when it cannot be used.
        Reads never import the docker SDK (a no-op plan stays fast); the first write does."""
        return Engine.from_env()

    def observe(self, client: object, project: str | None, config: Config | None) -> DockerSnapshot:
        return observe(engine_of(client), project, image_refs=planned_images(config))

    def projects(self, client: object) -> set[str]:
        engine = engine_of(client)
        selector = [labels.PROJECT]
        found = [
            *engine.containers(labels=selector),
            *engine.networks(labels=selector),
            *engine.volumes(labels=selector),
        ]
        return {item.project for item in found}

    def sweep(self, client: object, project: str, *, images: bool = False) -> list[str]:
        engine = engine_of(client)
        removed = []
        snapshot = observe(engine, project, with_volumes=True)
        for item in snapshot.containers:  # containers first: networks and volumes are in use until they go
            if engine.remove_container(item.id):
                removed.append(f"container {item.name}")
        for network in snapshot.networks:
            if actions.remove_network(engine, network.id):
                removed.append(f"network {network.name}")
        for volume in snapshot.volumes:
            if engine.remove_volume(volume.name):
                removed.append(f"volume {volume.name}")
        for image in _built_images(engine, project) if images else ():
            if engine.remove_image(image.id):
                removed.append(f"image {', '.join(image.repo_tags or [image.id[:19]])}")
        return removed

    def leftovers(self, client: object, project: str, *, images: bool = False) -> list[str]:
        engine = engine_of(client)
        snapshot = observe(engine, project, with_volumes=True)
        return (
            [f"container {c.name}" for c in snapshot.containers]
            + [f"network {n.name}" for n in snapshot.networks]
            + [f"volume {v.name}" for v in snapshot.volumes]
            + ([f"image {i.id[:19]}" for i in _built_images(engine, project)] if images else [])
        )


def _built_images(engine: Engine, project: str) -> list[ImageRow]:
    """Images gefyra built for `project` (`build:` containers carry the project label)."""
    return engine.images(labels=[labels.project_filter(project)])


PROVIDER = DockerProvider()

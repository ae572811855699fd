"""One snapshot of Docker, by label only: list calls, no per-container inspect (fast no-op plans), an inspect
of each image the plan looks up (a few; otherwise one list of all images), plus one read of the notes of each
running container that keeps some (Cargo)."""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from gefyra.model import labels
from gefyra.model.desired import image_key
from gefyra.model.resources import Observed, Resource, ResourceKey
from gefyra.providers.base import Snapshot
from gefyra.providers.docker import retire
from gefyra.providers.docker.engine import ContainerRow, EngineReads, NetworkInfo, VolumeRow
from gefyra.providers.errors import NotFound

NOTE_MAX_BYTES = 4096


@dataclass
class DockerSnapshot:
    """Labelled containers and networks of one project (or of all projects), and local image ids by
    reference (normalised with `image_key`: look references up through that too)."""

    project: str | None
    containers: list[ContainerRow] = field(default_factory=list)
    networks: list[NetworkInfo] = field(default_factory=list)
    volumes: list[VolumeRow] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)
    local: bool = True  # the engine runs on this machine (unix socket): its host ports are ours to probe
    notes: dict[str, dict[str, str]] = field(default_factory=dict)  # container id -> file name -> text
    observed_at: float = field(default_factory=time.time)  # unix time of the observation (notes' ages)

    def containers_of(self, kind: str) -> list[ContainerRow]:
        return [c for c in self.containers if c.kind == kind]

    def networks_of(self, kind: str) -> list[NetworkInfo]:
        return [n for n in self.networks if n.kind == kind]


def docker_snapshot(snapshot: Snapshot) -> DockerSnapshot:
    """The Docker part of a snapshot (typed)."""
    return snapshot.of("docker", DockerSnapshot)


MAX_IMAGE_INSPECTS = 8  # beyond this many images one list of all is cheaper than an inspect each


def observe(
    engine: EngineReads,
    project: str | None,
    *,
    with_volumes: bool = False,
    image_refs: Sequence[str] | None = None,
) -> DockerSnapshot:
    """List every object labelled with the project (sparse lists: the labels carry everything planning
    needs). `image_refs`: the only images planning looks up (None: all); a handful are inspected instead of
    listing every image of the engine (~80 ms with 240 images on a loaded engine: most of a watch
    reaction's plan)."""
    retire.settle_all()  # a container being retired must not show (their errors: the snapshot shows them)
    selector = [labels.project_filter(project)]
    observed_at = time.time()
    containers = engine.containers(labels=selector)
    networks = engine.networks(labels=selector)
    volumes = engine.volumes(labels=selector) if with_volumes else []
    images = _images(engine, image_refs)
    notes = {
        item.id: read_notes(engine, item.id, labels.NOTES_FOLDER)
        for item in containers
        if item.state == "running" and item.labels.get(labels.NOTES) == "true"
    }
    return DockerSnapshot(
        project=project,
        containers=sorted(containers, key=lambda item: (item.resource_name, item.id)),
        networks=sorted(networks, key=lambda item: (item.resource_name, item.id)),
        volumes=volumes,
        images=images,
        local=engine.local,
        notes=notes,
        observed_at=observed_at,
    )


def _images(engine: EngineReads, refs: Sequence[str] | None) -> dict[str, str]:
    """Local image ids by `image_key` of their references (and by id); only those of `refs` when given."""
    images: dict[str, str] = {}
    wanted = sorted({image_key(ref) for ref in refs}) if refs is not None else None
    if wanted is not None and len(wanted) <= MAX_IMAGE_INSPECTS:
        for key in wanted:
            found = engine.find_image(key)
            if found is not None:
                images[key] = found.id
        return images
    for image in engine.images():
        images[image.id] = image.id
        for ref in image.repo_tags + image.repo_digests:
            images[image_key(ref)] = image.id
    return images


def read_notes(engine: EngineReads, container_id: str, folder: str) -> dict[str, str]:
    """The small text files in `folder` of a running container (name -> text); {} when the container or
    the folder is gone (any other engine error is raised: notes that cannot be read are not "no notes")."""
    try:
        data = engine.archive(container_id, folder)
    except NotFound:
        return {}
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member) if member.isfile() and member.size < NOTE_MAX_BYTES else None
            if extracted is not None:
                found[posixpath.basename(member.name)] = extracted.read().decode(errors="replace")
    return found


def resource_from_labels(item_labels: dict[str, str], observed: Observed) -> Resource:
    """Read a Resource back from an object's labels (spec from dev.gefyra.spec; {} when unreadable)."""
    try:
        spec = json.loads(item_labels.get(labels.SPEC, "{}"))
    except ValueError:
        spec = {}
    deps = tuple(
        ResourceKey.parse(text) for text in item_labels.get(labels.DEPENDS_ON, "").split(",") if text
    )
    return Resource(
        kind=item_labels.get(labels.KIND, ""),
        name=item_labels.get(labels.NAME, ""),
        spec=spec if isinstance(spec, dict) else {},
        depends_on=deps,
        spec_hash=item_labels.get(labels.SPEC_HASH, "") or "unknown",
        observed=observed,
    )


def read_container(item: ContainerRow, status: str, healthy: bool, **info: str) -> Resource:
    """The resource behind one of our containers as listed by the engine (`docker ps` row)."""
    observed = Observed(
        status=status,
        healthy=healthy,
        detail=item.status,
        ref=item.id,
        info={"docker_name": item.name, **info},
    )
    return resource_from_labels(item.labels, observed)


def labels_for(project: str, resource: Resource) -> dict[str, str]:
    """Every label a gefyra object carries."""
    from gefyra.model.hashing import canonical_json

    return {
        labels.PROJECT: project,
        labels.KIND: resource.kind,
        labels.NAME: resource.name,
        labels.SPEC_HASH: resource.spec_hash,
        labels.SPEC: canonical_json(resource.spec),
        labels.DEPENDS_ON: ",".join(str(dep) for dep in resource.depends_on),
    }

"""One snapshot of Docker, by label only: three list calls, no per-object inspect (fast no-op plans), plus one
read of the notes of each running container that keeps some (Cargo)."""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
from dataclasses import dataclass, field
from typing import Any

from gefyra.model import labels
from gefyra.model.desired import image_key
from gefyra.model.resources import Observed, Resource, ResourceKey


@dataclass
class DockerSnapshot:
    """Labelled containers and networks of one project (or of all projects), and local image ids by
    reference (normalised with `image_key`: look references up through that too)."""

    project: str | None
    containers: list[dict[str, Any]] = field(default_factory=list)
    networks: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)
    local: bool = True  # the engine runs on this machine (unix socket): its host ports are ours to probe
    notes: dict[str, dict[str, str]] = field(default_factory=dict)  # container id -> file name -> text

    def containers_of(self, kind: str) -> list[dict[str, Any]]:
        return [c for c in self.containers if (c.get("Labels") or {}).get(labels.KIND) == kind]

    def networks_of(self, kind: str) -> list[dict[str, Any]]:
        return [n for n in self.networks if (n.get("Labels") or {}).get(labels.KIND) == kind]


def observe(client: Any, project: str | None, *, with_volumes: bool = False) -> DockerSnapshot:
    """List every object labelled with the project (sparse lists: the labels carry everything planning
    needs)."""
    selector = {"label": [labels.project_filter(project)]}
    containers = client.api.containers(all=True, filters=selector)
    networks = client.api.networks(filters=selector)
    volumes = client.api.volumes(filters=selector).get("Volumes") or [] if with_volumes else []
    images: dict[str, str] = {}
    for image in client.api.images():
        images[image["Id"]] = image["Id"]
        for ref in (image.get("RepoTags") or []) + (image.get("RepoDigests") or []):
            images[image_key(ref)] = image["Id"]
    key = lambda item: ((item.get("Labels") or {}).get(labels.NAME, ""), item.get("Id", ""))  # noqa: E731
    notes = {
        item["Id"]: read_notes(client, item["Id"], labels.NOTES_FOLDER)
        for item in containers
        if item.get("State") == "running" and (item.get("Labels") or {}).get(labels.NOTES) == "true"
    }
    return DockerSnapshot(
        project=project,
        containers=sorted(containers, key=key),
        networks=sorted(networks, key=key),
        volumes=volumes,
        images=images,
        local=_is_local(client),
        notes=notes,
    )


def read_notes(client: Any, container_id: str, folder: str) -> dict[str, str]:
    """The small text files in `folder` of a running container (name -> text); {} when there is none."""
    try:
        chunks, _ = client.api.get_archive(container_id, folder)
        data = b"".join(chunks)
    except Exception:  # noqa: BLE001 - gone or no such folder (EngineHTTPError / docker.errors.NotFound)
        return {}
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.size < 4096:
                text = tar.extractfile(member).read().decode(errors="replace")
                found[posixpath.basename(member.name)] = text
    return found


def _is_local(client: Any) -> bool:
    base_url = str(getattr(getattr(client, "api", None), "base_url", "http+docker://"))
    return base_url.startswith("http+docker://") or "://localhost" in base_url or "://127.0.0.1" in base_url


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

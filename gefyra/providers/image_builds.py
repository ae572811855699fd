"""`gefyra images build`: every image gefyra runs (Cargo, Stowaway, Carrier, Operator), what is cached and
what would be built, and the builds themselves with progress.

Each image is tagged by a hash of its sources, so "cached" means an image with that tag and the same hash
label exists here; anything else is built (one at a time: two builds on 2 cores only slow each other down).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gefyra.errors import ConfigError, ProviderError
from gefyra.providers.docker.dataplane.images import (
    CONTENT_HASH_LABEL,
    DATAPLANE_IMAGES,
    ensure_images,
    image_hash,
    image_tag,
)
from gefyra.providers.docker.engine import Engine
from gefyra.providers.kube.images import build_operator, operator_hash, operator_tag

IMAGES: tuple[str, ...] = (*DATAPLANE_IMAGES, "operator")


class ImageState(BaseModel):
    """One image: its tag and whether this engine already has it built from the current sources."""

    model_config = ConfigDict(frozen=True)

    name: str
    tag: str
    state: Literal["cached", "missing", "outdated"]


def _wanted(name: str) -> tuple[str, str]:
    if name == "operator":
        return operator_tag(), operator_hash()
    return image_tag(name), image_hash(name)


def selected(names: Sequence[str]) -> list[str]:
    """The named images (all when none is named), in a fixed order; an unknown name is a usage error."""
    unknown = [name for name in names if name not in IMAGES]
    if unknown:
        raise ConfigError(f"unknown image {unknown[0]!r}", hint=f"choose from {', '.join(IMAGES)}")
    return [name for name in IMAGES if name in names or not names]


def states(engine: Engine, names: Sequence[str]) -> list[ImageState]:
    """What building `names` would do, without building anything."""
    found: list[ImageState] = []
    for name in selected(names):
        tag, digest = _wanted(name)
        image = engine.find_image(tag)
        if image is None:
            state: Literal["cached", "missing", "outdated"] = "missing"
        else:
            state = "cached" if image.labels.get(CONTENT_HASH_LABEL) == digest else "outdated"
        found.append(ImageState(name=name, tag=tag, state=state))
    return found


def build(
    engine: Engine, names: Sequence[str], *, force: bool = False, progress: Callable[[str], None] = print
) -> list[ImageState]:
    """Build what is not cached (everything with `force`), one image at a time, saying what happens."""
    result: list[ImageState] = []
    for item in states(engine, names):
        if item.state == "cached" and not force:
            progress(f"{item.name}: {item.tag} cached")
            result.append(item)
            continue
        progress(f"{item.name}: building {item.tag} ({'forced' if force else item.state}) ...")
        started = time.monotonic()
        if item.name == "operator":
            build_operator(engine, tag=item.tag, force=force)
        else:
            ensure_images(engine, [item.name], force=force)
        progress(f"{item.name}: built {item.tag} in {time.monotonic() - started:.1f} s")
        result.append(item.model_copy(update={"state": "cached"}))
    return result


class PushItem(BaseModel):
    """One image to push: its local tag and the name it gets in the registry."""

    model_config = ConfigDict(frozen=True)

    name: str
    local: str  # gefyra/<name>:<version>-<hash>
    repository: str  # <registry>/gefyra-<name>
    tag: str  # <version>-<hash>, the same as the local tag's

    @property
    def remote(self) -> str:
        return f"{self.repository}:{self.tag}"


def push_items(registry: str, names: Sequence[str]) -> list[PushItem]:
    """`<registry>/gefyra-<name>:<local tag>` for each named image (all when none is named); the registry is
    host[:port][/path], without a scheme."""
    base = registry.strip().rstrip("/")
    if not base or "://" in base or any(c.isspace() or not c.isprintable() for c in base):
        raise ConfigError(
            f"registry {registry!r}: expected host[:port][/path], like 'registry.example:5000/team'",
            hint="no scheme (https://): the Docker engine chooses it",
        )
    items = []
    for name in selected(names):
        local, _ = _wanted(name)
        items.append(
            PushItem(name=name, local=local, repository=f"{base}/gefyra-{name}", tag=local.rpartition(":")[2])
        )
    return items


def images_block(items: Sequence[PushItem]) -> str:
    """The `cluster.images:` block of gefyra.yaml naming the pushed cluster-side images (Cargo runs here)."""
    remote = {item.name: item.remote for item in items}
    lines = ["cluster:", "  images:"]
    lines += [f"    {name}: {remote[name]}" for name in ("operator", "stowaway", "carrier") if name in remote]
    return "\n".join(lines) if len(lines) > 2 else ""


def push(engine: Engine, items: Sequence[PushItem], *, progress: Callable[[str], None] = print) -> None:
    """Build what is not cached, tag each image with its registry name and push it. A failed push removes
    the name it gave (the local image stays) and raises, naming the registry."""
    build(engine, [item.name for item in items], progress=progress)
    for item in items:
        progress(f"{item.name}: pushing {item.remote} ...")
        engine.tag_image(item.local, item.repository, item.tag)
        try:
            engine.push(item.repository, item.tag, progress=_prefixed(progress, item.name))
        except ProviderError as error:
            engine.remove_image(item.remote, force=False)
            registry = item.repository.rpartition("/")[0]
            raise ProviderError(
                error.message,
                hint=f"is the registry {registry} running and reachable from the Docker engine (and are you "
                "logged in: `docker login`)? Without a registry, load the images into the cluster's nodes "
                "instead: see docs/cluster.md",
            ) from None
        progress(f"{item.name}: pushed {item.remote}")


def _prefixed(progress: Callable[[str], None], name: str) -> Callable[[str], None]:
    return lambda line: progress(f"{name}: {line}")

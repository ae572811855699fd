"""Image names of the data plane and a builder that rebuilds an image only when its sources changed.

Each image is built from `images/<name>/Dockerfile` (FROM debian:bookworm-slim, Debian packages only) and
tagged `gefyra/<name>:<version>-<hash>`. Images listed in PARENT_CONTEXT also copy shared files from
`images/shared/` and are built with `images/` as the context (`docker build -f images/cargo/Dockerfile
images`); their hash covers both folders. The hash is stored as an image label, so `ensure_images` skips an
image whose label already matches (Docker's layer cache makes a changed context cheap as well).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gefyra import __version__
from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.providers.docker.context_hash import context_hash
from gefyra.providers.docker.engine import Engine

DATAPLANE_IMAGES = ("cargo", "stowaway", "carrier")
SHARED = "shared"  # images/shared/: files several images copy (the wireguard-go start)
PARENT_CONTEXT = ("cargo", "stowaway")  # built with images/ as the context: they copy from shared/
# Image label holding the sources' hash (an image label, not a resource label: see model/labels.py).
CONTENT_HASH_LABEL = labels.IMAGE_CONTENT_HASH
_BUILD_LOCK = threading.Lock()


def images_dir() -> Path:
    """`images/` of the source tree (GEFYRA_IMAGES_DIR overrides, e.g. for an installed package)."""
    override = os.environ.get("GEFYRA_IMAGES_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[4] / "images"


def image_hash(name: str, root: Path | None = None) -> str:
    """sha256 over the content hashes of every folder the image's Dockerfile copies from."""
    root = root or images_dir()
    parts = [name, SHARED] if name in PARENT_CONTEXT else [name]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(f"{part}\0{context_hash(root / part)}\n".encode())
    return digest.hexdigest()


def image_tag(name: str) -> str:
    """`gefyra/<name>:<version>-<first 12 hex digits of the image's hash>`: two checkouts with different
    image sources (worktrees, branches) never retag each other's image under a running test."""
    if name not in DATAPLANE_IMAGES:
        raise ValueError(f"unknown data-plane image {name!r}")
    return f"gefyra/{name}:{__version__}-{image_hash(name)[:12]}"


def _build(engine: Engine, name: str, root: Path, force: bool) -> str:
    if not (root / name / "Dockerfile").is_file():
        raise ProviderError(f"no Dockerfile in {root / name}")
    tag, wanted = image_tag(name), image_hash(name, root)
    found = None if force else engine.find_image(tag)  # only a real "no such image" builds
    if found is not None and found.labels.get(CONTENT_HASH_LABEL) == wanted:
        return found.id
    if name in PARENT_CONTEXT:
        return engine.build(
            str(root), dockerfile=f"{name}/Dockerfile", tag=tag, labels={CONTENT_HASH_LABEL: wanted}
        )
    return engine.build(str(root / name), tag=tag, labels={CONTENT_HASH_LABEL: wanted})


def ensure_images(
    engine: Engine, names: Iterable[str] = DATAPLANE_IMAGES, *, force: bool = False
) -> dict[str, str]:
    """Build the named images whose context hash changed (in parallel); return name -> image id."""
    wanted = list(names)
    for name in wanted:
        image_tag(name)
    root = images_dir()
    with _BUILD_LOCK, ThreadPoolExecutor(max_workers=len(wanted) or 1) as pool:
        futures = {name: pool.submit(_build, engine, name, root, force) for name in wanted}
        return {name: future.result() for name, future in futures.items()}

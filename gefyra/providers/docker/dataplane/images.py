"""Image names of the data plane and a builder that rebuilds an image only when its build context changed.

Each image is built from `images/<name>/` (FROM debian:bookworm-slim, Debian packages only) and tagged
`gefyra/<name>:<version>-<hash>`; the sha256 of its build context is stored as an image label, so
`ensure_images` skips an image whose label already matches (Docker's layer cache makes a changed context
cheap as well).
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
from gefyra.providers.docker.engine import Engine

DATAPLANE_IMAGES = ("cargo", "stowaway", "carrier")
# Image label holding the build-context hash (an image label, not a resource label: see model/labels.py).
CONTENT_HASH_LABEL = labels.IMAGE_CONTENT_HASH
_BUILD_LOCK = threading.Lock()


def images_dir() -> Path:
    """`images/` of the source tree (GEFYRA_IMAGES_DIR overrides, e.g. for an installed package)."""
    override = os.environ.get("GEFYRA_IMAGES_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "images"


def image_tag(name: str) -> str:
    """`gefyra/<name>:<version>-<first 12 hex digits of the build context's hash>`: two checkouts with
    different image sources (worktrees, branches) never retag each other's image under a running test."""
    if name not in DATAPLANE_IMAGES:
        raise ValueError(f"unknown data-plane image {name!r}")
    return f"gefyra/{name}:{__version__}-{context_hash(images_dir() / name)[:12]}"


def context_hash(context: Path) -> str:
    """sha256 over every file's relative path, executable bit and bytes, in sorted order."""
    digest = hashlib.sha256()
    files = sorted(p for p in context.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.relative_to(context).as_posix().encode() + b"\0")
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _build(engine: Engine, name: str, root: Path, force: bool) -> str:
    context = root / name
    if not (context / "Dockerfile").is_file():
        raise ProviderError(f"no Dockerfile in {context}")
    tag, wanted = image_tag(name), context_hash(context)
    found = None if force else engine.find_image(tag)  # only a real "no such image" builds
    if found is not None and found.labels.get(CONTENT_HASH_LABEL) == wanted:
        return found.id
    return engine.build(str(context), tag=tag, labels={CONTENT_HASH_LABEL: wanted})


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

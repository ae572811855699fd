"""Tiny images for the test sandbox, built from the base image and cached by content hash.

`ensure_image(client, "echo")` builds `tests/sandbox/images/echo/` once and returns a tag such as
`gefyra-sandbox-echo:3f2a...`; a rebuild happens only when a file in that folder changes.

The base image is `debian:bookworm-slim` (GEFYRA_BASE_TAG overrides it, as for images/base/build.sh, which
makes it here without a registry). It is also the Pods' infra container, so nothing runs without it:
require_base() says how to get it instead of failing somewhere inside a build.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_BASE = "debian:bookworm-slim"
BASE_IMAGE = os.environ.get("GEFYRA_BASE_TAG") or DEFAULT_BASE
BUILD_BASE = "run: bash images/base/build.sh"


class MissingImage(RuntimeError):
    """An image the sandbox needs is not on this machine; the message says how to get it."""


def content_hash(name: str) -> str:
    """sha256 over the relative paths and bytes of every file of one image folder, and the base image when it
    is not the default one (first 12 hex digits)."""
    digest = hashlib.sha256()
    folder = HERE / name
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    if BASE_IMAGE != DEFAULT_BASE:
        digest.update(b"base\0" + BASE_IMAGE.encode())
    return digest.hexdigest()[:12]


def image_tag(name: str) -> str:
    return f"gefyra-sandbox-{name}:{content_hash(name)}"


def _present(client: Any, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def require_base(client: Any) -> str:
    """The base image's tag; MissingImage (saying how to make it) when it is not here."""
    if not _present(client, BASE_IMAGE):
        raise MissingImage(
            f"the base image {BASE_IMAGE} is missing (the sandbox's Pods and images start from it, and no "
            f"registry is reachable here); {BUILD_BASE}"
        )
    return BASE_IMAGE


def ensure_image(client: Any, name: str) -> str:
    """Return the tag of the image built from `images/<name>/`, building it when missing."""
    tag = image_tag(name)
    if not _present(client, tag):
        require_base(client)
        client.images.build(
            path=str(HERE / name),
            tag=tag,
            rm=True,
            forcerm=True,
            buildargs={"BASE_IMAGE": BASE_IMAGE},
            labels={"dev.gefyra.sandbox.image": name},
        )
    return tag

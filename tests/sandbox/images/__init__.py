"""Tiny images for the test sandbox, built from `debian:bookworm-slim` and cached by content hash.

`ensure_image(client, "echo")` builds `tests/sandbox/images/echo/` once and returns a tag such as
`gefyra-sandbox-echo:3f2a...`; a rebuild happens only when a file in that folder changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def content_hash(name: str) -> str:
    """sha256 over the relative paths and bytes of every file of one image folder (first 12 hex digits)."""
    digest = hashlib.sha256()
    folder = HERE / name
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def image_tag(name: str) -> str:
    return f"gefyra-sandbox-{name}:{content_hash(name)}"


def ensure_image(client, name: str) -> str:
    """Return the tag of the image built from `images/<name>/`, building it when missing."""
    import docker.errors

    tag = image_tag(name)
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        client.images.build(
            path=str(HERE / name), tag=tag, rm=True, forcerm=True, labels={"dev.gefyra.sandbox.image": name}
        )
    return tag

"""The images of the cluster side: configurable references, built here from images/ by default.

`cluster.images` in gefyra.yaml names images from a registry; GEFYRA_OPERATOR_IMAGE, GEFYRA_STOWAWAY_IMAGE
and GEFYRA_CARRIER_IMAGE override it (all three, or none); when neither is set the three are built locally
(Stowaway and Carrier like the other data-plane images, the Operator with images/operator/prepare.sh +
`docker build`), tagged by a hash of their sources, so a cluster that runs local images (k3d/kind after an
import, the test sandbox) gets exactly this checkout's code.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from gefyra import __version__
from gefyra.config.model import ClusterImages
from gefyra.errors import ProviderError
from gefyra.model.cluster_specs import ImageRefs
from gefyra.providers.docker.context_hash import context_hash
from gefyra.providers.docker.dataplane.images import CONTENT_HASH_LABEL, ensure_images, image_tag, images_dir
from gefyra.providers.docker.engine import Engine

ENV = {
    "operator": "GEFYRA_OPERATOR_IMAGE",
    "stowaway": "GEFYRA_STOWAWAY_IMAGE",
    "carrier": "GEFYRA_CARRIER_IMAGE",
}


def _repo() -> Path:
    return images_dir().parent


def operator_sources() -> list[Path]:
    """What the Operator image is made of (prepare.sh copies these; its wheels follow requirements.txt)."""
    repo = _repo()
    return [
        repo / "images" / "operator" / "Dockerfile",
        repo / "images" / "operator" / "requirements.txt",
        repo / "images" / "operator" / "prepare.sh",
        repo / "operator" / "gefyra_operator",
        repo / "gefyra" / "cluster",
        repo / "gefyra" / "dataplane",
        repo / "gefyra" / "stowaway",
        repo / "gefyra" / "errors.py",
    ]


def operator_hash() -> str:
    digest = hashlib.sha256()
    for path in operator_sources():
        part = context_hash(path) if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        digest.update(f"{path.name}\0{part}\n".encode())
    return digest.hexdigest()


def operator_tag() -> str:
    return f"gefyra/operator:{__version__}-{operator_hash()[:12]}"


def image_refs(configured: ClusterImages | None = None) -> ImageRefs:
    """GEFYRA_*_IMAGE when set (they override gefyra.yaml), else cluster.images, else this checkout's local
    tags (reads files, no engine call)."""
    given = {name: os.environ.get(var, "").strip() for name, var in ENV.items()}
    if any(given.values()):
        missing = [ENV[name] for name, ref in given.items() if not ref]
        if missing:
            raise ProviderError(f"{', '.join(missing)} not set", hint="name all three images, or none")
        return ImageRefs(**given, local=False)
    if configured is not None:
        return ImageRefs(**configured.model_dump(), local=False)
    return ImageRefs(
        operator=operator_tag(), stowaway=image_tag("stowaway"), carrier=image_tag("carrier"), local=True
    )


def build_local(engine: Engine, refs: ImageRefs) -> None:
    """Make sure the local images exist (each built only when its sources changed)."""
    if not refs.local:
        return
    ensure_images(engine, ["stowaway", "carrier"])
    build_operator(engine, tag=refs.operator)


def build_operator(engine: Engine, *, tag: str | None = None, force: bool = False) -> None:
    """The Operator image (prepare.sh: wheels downloaded on the host, code copied; then `docker build`),
    unless an image built from the same sources is there already."""
    tag = tag or operator_tag()
    wanted = operator_hash()
    found = None if force else engine.find_image(tag)
    if found is not None and found.labels.get(CONTENT_HASH_LABEL) == wanted:
        return
    context = _repo() / "images" / "operator"
    done = subprocess.run(["bash", str(context / "prepare.sh")], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ProviderError(f"preparing the Operator image failed: {done.stderr.strip()[-400:]}")
    engine.build(str(context), tag=tag, labels={CONTENT_HASH_LABEL: wanted})

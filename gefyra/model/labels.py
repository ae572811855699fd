"""Every label key gefyra puts on Docker objects, and nowhere else.

Actual state lives in the world: these labels are how a provider finds gefyra's objects again and reads them
back into Resources. Nothing without `dev.gefyra.project` is ever touched.
"""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = "dev.gefyra."
PROJECT = "dev.gefyra.project"
KIND = "dev.gefyra.kind"
NAME = "dev.gefyra.name"
SPEC_HASH = "dev.gefyra.spec-hash"
# The canonical spec as JSON: lets the planner name the fields that differ without re-deriving them from
# `inspect`.
SPEC = "dev.gefyra.spec"
# "kind/name,kind/name": deletes can go in reverse dependency order even when gefyra.yaml is gone (`down
# --all`).
DEPENDS_ON = "dev.gefyra.depends-on"
# One-off containers of `gefyra run` carry KIND = "run": no kind handler reads them, so they are never
# planned; `down` sweeps them with everything else labelled with the project.
KIND_RUN = "run"
# On images gefyra builds from images/ (Cargo, Stowaway, Carrier): the hash of the build context, so an
# image is rebuilt only when its content changed.
IMAGE_CONTENT_HASH = "dev.gefyra.image-content-hash"
# On an app's infra container (the holder of its network namespace): the hash of what the holder is made from
# (network, aliases, published ports, DNS settings, hostname). A replaced app whose new spec hashes the same
# joins the running holder again, which keeps its namespace and its route through Cargo.
NETNS_HASH = "dev.gefyra.netns-hash"
# On short-lived helper containers (route patching, rsync) that share an app container's network namespace.
HELPER = "dev.gefyra.helper"
HELPER_FOR = "dev.gefyra.helper-for"  # ... and the id of the container whose namespace the helper works in
# "true" on a container that keeps small files for the engine in NOTES_FOLDER (Cargo: which start of each app
# container it routed); observe reads that folder (never any other) of such a container while it runs.
NOTES = "dev.gefyra.notes"
NOTES_FOLDER = "/run/gefyra-notes"
# On objects made by the data-plane test stands (never by the product).
TEST = "dev.gefyra.test"


def project_filter(project: str | None = None) -> str:
    """A Docker label filter for one project, or for every gefyra project when `project` is None."""
    return PROJECT if project is None else f"{PROJECT}={project}"


def is_gefyra(labels: Mapping[str, str] | None) -> bool:
    """True for objects gefyra made (the only ones it may change)."""
    return labels is not None and PROJECT in labels

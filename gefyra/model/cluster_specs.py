"""Names, keys and typed specs of the cluster-side kinds `install`, `client` and `bridge` (pure).

Like the data-plane specs: the dumped spec is hashed, stored on the object (annotation `gefyra.dev/spec`,
label `gefyra.dev/spec-hash`) and diffed by the planner. Facts the cluster reports (the bridge's Pods, the
local container's current IP) are never part of a spec: they are `Observed.drift`.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gefyra.model.resources import ResourceKey

INSTALL = ResourceKey("install", "default")
CLIENT = ResourceKey("client", "default")
SPEC_ANNOTATION = "gefyra.dev/spec"  # the canonical spec (JSON) of the object gefyra made
DEPENDS_ANNOTATION = "gefyra.dev/depends-on"
KIND_LABEL = "gefyra.dev/kind"
NAME_LABEL = "gefyra.dev/name"
INSTALL_ANNOTATION = "gefyra.dev/install"  # on a GefyraClient: "auto" when its project installs gefyra


def _dns_label(text: str) -> str:
    """`text` when it is a valid DNS label length, else a shortened form with a hash (stable)."""
    if len(text) <= 63:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[:54].rstrip('-')}-{digest}"


def client_name(project: str, client_id: str) -> str:
    """The GefyraClient's name (and its peer's name at Stowaway)."""
    return _dns_label(f"{project}-{client_id}")


def bridge_object_name(client: str, bridge: str) -> str:
    """The GefyraBridge's name: per client, so two developers can bridge different workloads."""
    return _dns_label(f"{client}-{bridge}")


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ImageRefs(_Spec):
    operator: str
    stowaway: str
    carrier: str
    local: bool  # built here from images/ (the defaults); False when GEFYRA_*_IMAGE names them


class InstallSpec(_Spec):
    """gefyra's cluster side as the client installs it (cluster.install: auto). Every field is mutable: a
    difference re-applies the manifests in place (an upgrade), never deletes the namespace."""

    namespace: str
    images: ImageRefs
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"]
    node_port: int
    cluster_routes: list[str]
    cluster_dns: list[str]
    endpoint: str | None


INSTALL_MUTABLE = tuple(InstallSpec.model_fields)


class ClientSpec(_Spec):
    """This machine's GefyraClient for the project; its routed subnet is the project network's subnet."""

    name: str
    project: str
    client_id: str
    network: str  # the Docker network whose subnet is routed into this client's tunnel
    client_timeout_seconds: int


CLIENT_MUTABLE = ("client_timeout_seconds",)


class BridgeSpec(_Spec):
    """One `bridges:` entry as a GefyraBridge. The local container's IP is an observed fact (drift)."""

    object_name: str
    target: str  # kind/name
    namespace: str
    container: str | None
    ports: dict[str, int]  # cluster port -> local port ({} = every port, same number)
    client: str
    local: str  # the local container's resource name
    local_docker_name: str
    network: str
    sync: list[str] = []  # paths of the bridged container copied into the local one (mutable: the loop)
    origin: Literal["config", "cli"] = "config"  # gefyra.yaml, or `gefyra bridge` (kept in the cluster)


BRIDGE_MUTABLE = ("sync", "origin")


class EnvFromSpec(_Spec):
    """`containers.<name>.env_from`: a container in the cluster whose environment the local container gets.
    Only the reference is part of a spec (and so of labels and plan text), never a value."""

    kind: Literal["deployment", "statefulset", "pod"]
    name: str
    container: str | None  # None: the Pod's first container
    namespace: str

    def __str__(self) -> str:
        container = f"/{self.container}" if self.container else ""
        return f"{self.kind}/{self.name}{container} in namespace {self.namespace}"

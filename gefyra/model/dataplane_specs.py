"""Names, keys and typed specs of the data-plane kinds `connection` and `cargo` (pure).

Like NetworkSpec / ContainerSpec: the dumped spec is what gets hashed, stored in the `dev.gefyra.spec` label
and diffed by the planner. Facts the world reports (which app container is routed) are never part of a spec:
they are `Observed.drift`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gefyra.model.cluster_specs import EnvFromSpec
from gefyra.model.desired import ContainerSpec
from gefyra.model.hashing import spec_hash
from gefyra.model.resources import ResourceKey

CONNECTION = ResourceKey("connection", "default")
CARGO = ResourceKey("cargo", "default")
APP_KINDS = ("container", "run")  # kinds whose containers are routed through Cargo


def connection_name(project: str) -> str:
    """The holder container of the peer config (created, never started)."""
    return f"gefyra-{project}.connection"


def cargo_name(project: str) -> str:
    return f"gefyra-{project}.cargo"


def peer_name(project: str) -> str:
    """The peer's name at Stowaway: one peer per project on this machine."""
    return project


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class SecretSource(_Spec):
    """The peer config in the GefyraClient's Secret (the Operator writes it)."""

    kind: Literal["secret"] = "secret"
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"Secret {self.namespace}/{self.name}"


class StowawaySource(_Spec):
    """The escape hatch: the peer asked from a Stowaway's control API directly (GEFYRA_STOWAWAY_URL)."""

    kind: Literal["stowaway"] = "stowaway"
    url: str

    def __str__(self) -> str:
        return self.url


class ConnectionSpec(_Spec):
    """This client's WireGuard peer at Stowaway and the holder container keeping its config.

    `peer_version` names the peer config the holder keeps (a digest of its public parts: keys, address,
    routes, DNS, endpoint, MTU), read from the Secret when the plan is made: new keys (a new GefyraClient, a
    peer provisioned again) or new routes replace the connection, and with it Cargo. "" = not known yet."""

    docker_name: str
    peer: str
    source: Annotated[SecretSource | StowawaySource, Field(discriminator="kind")]
    peer_version: str = ""
    endpoint: str  # Stowaway's UDP endpoint as reachable from here, or "auto" (what Stowaway names)
    mtu: str
    network: str


class CargoSpec(_Spec):
    """The Cargo sidecar on the project network."""

    docker_name: str
    image: str
    image_id: str | None  # part of the hash: a rebuilt Cargo image replaces Cargo
    network: str


# ---- app containers routed through Cargo ---------------------------------------------------------------

INFRA_KIND = "infra"  # kind label of the container holding an app container's network namespace


def infra_name(docker_name: str) -> str:
    """The Docker name of the namespace holder of app container `docker_name` (a dot never occurs in a
    DNS-1123 app name, so it cannot collide with one)."""
    return f"{docker_name}.infra"


def infra_owner(kind: str, name: str) -> str:
    """The `dev.gefyra.name` label of an infra container: `<kind>.<name>` of the app it holds the namespace
    for (`container.web`, `run.run-1a2b3c`)."""
    return f"{kind}.{name}"


class AppSpec(ContainerSpec):
    """ContainerSpec plus where its network namespace comes from: `own` (Docker's, on the project network)
    or `infra` (an infra container's, routed through Cargo before the app starts; Cargo's `amend` and `gefyra
    run` set it when the project has Cargo), and `env_from`: cluster containers whose environment comes
    first (env_file and env on top), resolved when the container is created (the kube provider's `amend`
    sets the references; values never enter a spec)."""

    netns: Literal["own", "infra"] = "own"
    env_from: list[EnvFromSpec] = []


def netns_hash(spec: AppSpec, hostname: str) -> str:
    """The hash of what an app's infra container is made from: its network, aliases, published ports, DNS
    settings and hostname. An app replaced with these unchanged joins its running infra container again."""
    held = spec.model_dump(mode="json", include={"network", "aliases", "ports", "dns", "dns_search"})
    return spec_hash({**held, "hostname": hostname})

"""Config -> Resources for the local kinds `network` and `container` (pure: facts such as image ids come in).

Typed specs (pydantic) are dumped to canonical JSON-able dicts: that dict is what gets hashed, stored in the
`dev.gefyra.spec` label and diffed by the planner.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from gefyra.model.resources import Resource, ResourceKey, Spec

if TYPE_CHECKING:  # only for annotations: importing the config models costs start-up time
    from gefyra.config.model import Config, Container

NETWORK = ResourceKey("network", "default")


def network_name(project: str) -> str:
    """The project network's Docker name."""
    return f"gefyra-{project}"


def container_name(project: str, name: str) -> str:
    """An app container's Docker name. Other kinds use `gefyra-<project>.<kind>` (a dot never occurs in a
    DNS-1123 container name, so they cannot collide)."""
    return f"gefyra-{project}-{name}"


_DEFAULT_REGISTRY = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/")


def image_key(ref: str) -> str:
    """Docker's normal form of an image reference, as image lists show it in RepoTags / RepoDigests:
    `rv-img` -> `rv-img:latest`, `docker.io/library/debian:12` -> `debian:12`. Without it an untagged or
    fully qualified `image:` never finds its id and the container is replaced on every plan."""
    name, at, digest = ref.partition("@")
    for prefix in _DEFAULT_REGISTRY:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if at:
        return f"{name}@{digest}"
    if ":" not in name.rsplit("/", 1)[-1] and not name.startswith("sha256:"):
        name += ":latest"
    return name


def build_tag(project: str, name: str, context_hash: str) -> str:
    """Tag of an image built for a container: the build context's hash, so an unchanged context is not
    rebuilt."""
    return f"gefyra-{project}-{name}:{context_hash.removeprefix('sha256:')[:16]}"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> Spec:
        return self.model_dump(mode="json")


class NetworkSpec(_Spec):
    docker_name: str
    subnet: str  # "auto" (chosen free at create time, kept afterwards) or a CIDR
    driver: str = "bridge"


class BuildSpec(_Spec):
    context: str
    dockerfile: str
    args: dict[str, str] = {}
    target: str | None = None
    context_hash: str


class MountSpec(_Spec):
    source: str
    target: str
    read_only: bool = False


class PortSpec(_Spec):
    host_ip: str | None = None
    host_port: int
    container_port: int
    protocol: str = "tcp"


class ContainerSpec(_Spec):
    docker_name: str
    image: str
    image_id: str | None  # part of the hash: a new image under the same tag replaces the container
    build: BuildSpec | None = None
    command: list[str] | None = None  # entrypoint (Kubernetes meaning)
    args: list[str] | None = None  # arguments (Docker CMD)
    env: dict[str, str] = {}
    mounts: list[MountSpec] = []
    ports: list[PortSpec] = []
    workdir: str | None = None
    user: str | None = None
    network: str
    aliases: list[str] = []
    # Set by other kinds through Kind.amend (e.g. the connection kind points DNS at Cargo); None = Docker's
    # default.
    dns: list[str] | None = None
    dns_search: list[str] | None = None
    cap_add: list[str] | None = None


def network_resource(config: Config) -> Resource:
    """The project's network (`network/default`)."""
    subnet = config.network.subnet
    spec = NetworkSpec(
        docker_name=network_name(config.project.name),
        subnet="auto" if subnet == "auto" or subnet is None else str(IPv4Network(str(subnet))),
    )
    return Resource(kind=NETWORK.kind, name=NETWORK.name, spec=spec.dump())


def container_resource(
    config: Config,
    name: str,
    container: Container,
    *,
    image_ids: Mapping[str, str],
    context_hash: str | None = None,
) -> Resource:
    """One app container. `image_ids` maps local image references (normalised with `image_key`) to ids;
    `context_hash` is given for builds."""
    project = config.project.name
    build = None
    image = container.image or ""  # the config model guarantees exactly one of image and build
    if container.build is not None:
        build = BuildSpec(
            context=str(container.build.context),
            dockerfile=container.build.dockerfile,
            args=dict(container.build.args),
            target=container.build.target,
            context_hash=context_hash or "",
        )
        image = build_tag(project, name, build.context_hash)
    spec = ContainerSpec(
        docker_name=container_name(project, name),
        image=image,
        image_id=image_ids.get(image_key(image)),
        build=build,
        command=list(container.command) if container.command is not None else None,
        args=list(container.args) if container.args is not None else None,
        env=dict(container.resolved_env()),
        mounts=[
            MountSpec(source=str(m.source), target=m.target, read_only=m.read_only) for m in container.mounts
        ],
        ports=[
            PortSpec(
                host_ip=p.host_ip, host_port=p.host_port, container_port=p.container_port, protocol=p.protocol
            )
            for p in container.ports
        ],
        workdir=container.workdir,
        user=container.user,
        network=network_name(project),
        aliases=[name],
    )
    return Resource(kind="container", name=name, spec=spec.dump(), depends_on=(NETWORK,))

"""Typed views of the Engine API's answers: only the fields gefyra reads, `null` read as empty.

Field names follow gefyra's vocabulary; aliases are the Engine API's JSON keys, so rows validate straight
from the engine's answers (and from hand-written dicts in unit tests).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from gefyra.model import labels as label_keys


def _or_empty(value: object) -> object:
    return {} if value is None else value


def _or_list(value: object) -> object:
    return [] if value is None else value


def _or_text(value: object) -> object:
    return "" if value is None else value


Labels = Annotated[dict[str, str], BeforeValidator(_or_empty)]
Texts = Annotated[list[str], BeforeValidator(_or_list)]
Text = Annotated[str, BeforeValidator(_or_text)]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


def _lift_networks(data: object) -> object:
    """`NetworkSettings.Networks` -> `networks`, `HostConfig.NetworkMode` -> `network_mode` (the only parts
    of those gefyra reads)."""
    if isinstance(data, dict) and "networks" not in data:
        settings = data.get("NetworkSettings") or {}
        host = data.get("HostConfig") or {}
        return {
            **data,
            "networks": settings.get("Networks") or {},
            "network_mode": host.get("NetworkMode") or "",
        }
    return data


class Endpoint(_Row):
    """A container's attachment to one network (Docker makes a new endpoint at every start)."""

    endpoint_id: Text = Field("", alias="EndpointID")
    ip: Text = Field("", alias="IPAddress")


class PublishedPort(_Row):
    private_port: int = Field(0, alias="PrivatePort")
    public_port: int | None = Field(None, alias="PublicPort")
    protocol: Text = Field("tcp", alias="Type")


class _Labelled(_Row):
    labels: Labels = Field({}, alias="Labels")

    @property
    def kind(self) -> str:
        return self.labels.get(label_keys.KIND, "")

    @property
    def resource_name(self) -> str:
        return self.labels.get(label_keys.NAME, "")

    @property
    def project(self) -> str:
        return self.labels.get(label_keys.PROJECT, "")


class ContainerRow(_Labelled):
    """One row of `GET /containers/json` (`docker ps -a`)."""

    id: str = Field(alias="Id")
    names: Texts = Field([], alias="Names")
    image: Text = Field("", alias="Image")
    image_id: Text = Field("", alias="ImageID")
    state: Text = Field("unknown", alias="State")
    status: Text = Field("", alias="Status")
    ports: Annotated[list[PublishedPort], BeforeValidator(_or_list)] = Field([], alias="Ports")
    networks: Annotated[dict[str, Endpoint], BeforeValidator(_or_empty)] = {}
    network_mode: Text = ""  # e.g. `container:<id>`: the namespace it joined

    _lift = model_validator(mode="before")(_lift_networks)

    @property
    def name(self) -> str:
        return (self.names or ["?"])[0].lstrip("/")

    def endpoint(self, network: str) -> str:
        """The endpoint id on `network` ("" when not attached)."""
        found = self.networks.get(network)
        return found.endpoint_id if found else ""


class ContainerState(_Row):
    status: Text = Field("unknown", alias="Status")
    running: bool = Field(False, alias="Running")
    exit_code: int = Field(0, alias="ExitCode")
    started_at: Text = Field("", alias="StartedAt")

    @property
    def started(self) -> tuple[str, str]:
        """StartedAt as a sortable key: (seconds part, nanoseconds padded to 9 digits). Docker trims trailing
        zeros of the fraction, so the text itself does not sort."""
        whole, _, fraction = self.started_at.rstrip("Z").partition(".")
        return whole, fraction.ljust(9, "0")


class ContainerConfig(_Row):
    image: Text = Field("", alias="Image")
    labels: Labels = Field({}, alias="Labels")
    env: Texts = Field([], alias="Env")  # "KEY=value": values may be secrets, never put them in messages


class ContainerInfo(_Row):
    """`GET /containers/{id}/json` (`docker inspect`), the parts gefyra reads."""

    id: str = Field(alias="Id")
    raw_name: Text = Field("", alias="Name")
    image_id: Text = Field("", alias="Image")
    state: ContainerState = Field(alias="State")
    config: ContainerConfig = Field(alias="Config")
    networks: Annotated[dict[str, Endpoint], BeforeValidator(_or_empty)] = {}
    network_mode: Text = ""

    _lift = model_validator(mode="before")(_lift_networks)

    @property
    def name(self) -> str:
        return self.raw_name.lstrip("/")

    @property
    def labels(self) -> dict[str, str]:
        return self.config.labels

    @property
    def project(self) -> str:
        return self.labels.get(label_keys.PROJECT, "")

    def ip_on(self, network: str) -> str:
        """The IPv4 address on `network` ("" when not attached)."""
        found = self.networks.get(network)
        return found.ip if found else ""


class IpamPool(_Row):
    subnet: Text = Field("", alias="Subnet")
    gateway: Text = Field("", alias="Gateway")


class Ipam(_Row):
    config: Annotated[list[IpamPool], BeforeValidator(_or_list)] = Field([], alias="Config")


class NetworkInfo(_Labelled):
    """A row of `GET /networks` or `GET /networks/{id}` (the latter also lists attached containers)."""

    id: str = Field(alias="Id")
    name: Text = Field("", alias="Name")
    ipam: Ipam = Field(Ipam(), alias="IPAM")
    containers: Annotated[dict[str, object], BeforeValidator(_or_empty)] = Field({}, alias="Containers")

    def subnets(self) -> list[ipaddress.IPv4Network]:
        """The network's IPv4 subnets (the one reader of IPAM configs; unparsable entries skipped)."""
        found = []
        for pool in self.ipam.config:
            try:
                net = ipaddress.ip_network(pool.subnet, strict=False)
            except ValueError:
                continue
            if isinstance(net, ipaddress.IPv4Network):
                found.append(net)
        return found

    @property
    def subnet(self) -> str | None:
        """The first IPv4 subnet as text, None when the network has none."""
        nets = self.subnets()
        return str(nets[0]) if nets else None


class VolumeRow(_Labelled):
    name: str = Field(alias="Name")


class ImageRow(_Labelled):
    """A row of `GET /images/json`."""

    id: str = Field(alias="Id")
    repo_tags: Texts = Field([], alias="RepoTags")
    repo_digests: Texts = Field([], alias="RepoDigests")


class ImageInfo(_Row):
    """`GET /images/{name}/json`, the parts gefyra reads."""

    id: str = Field(alias="Id")
    config: ContainerConfig = Field(ContainerConfig(), alias="Config")

    @property
    def labels(self) -> dict[str, str]:
        return self.config.labels


class ExecResult(_Row):
    exit_code: int
    output: str

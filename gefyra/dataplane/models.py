"""Typed data exchanged with Stowaway's control API and handed to the renderers."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class PeerConfig(BaseModel):
    """A peer's side of the tunnel as Stowaway hands it out (the private key stays a SecretStr)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    address: str  # the peer's tunnel address, e.g. 100.87.0.2/32
    private_key: SecretStr
    public_key: str
    server_public_key: str
    allowed_ips: list[str]  # tunnel subnet + cluster ranges routed into the tunnel
    dns: list[str]
    mtu: str = "1420"
    listen_port: int = 51820
    endpoint: str | None = None
    routed_subnets: list[str] = []


class PeerStatus(BaseModel):
    """One line of `wg show <if> dump` joined with Stowaway's peer record."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    address: str
    public_key: str
    routed_subnets: list[str] = []
    active: bool
    endpoint: str | None = None
    latest_handshake: int = 0  # unix seconds; 0 = never
    rx_bytes: int = 0
    tx_bytes: int = 0


class ServerInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    public_key: str
    address: str
    subnet: str
    listen_port: int
    cluster_routes: list[str]
    dns: list[str]
    mtu: str


class ProxyRoute(BaseModel):
    """A Stowaway stream proxy port forwarding through the tunnel to a local container's IP:port."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = Field(pattern=NAME_PATTERN)
    listen_port: int = Field(ge=1, le=65535)
    target_host: str
    target_port: int = Field(ge=1, le=65535)

    @field_validator("target_host")
    @classmethod
    def _ip(cls, value: str) -> str:
        return str(ipaddress.ip_address(value))


class CarrierPort(BaseModel):
    """One port of the bridged container: Carrier listens on `port` and proxies to the upstream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    port: int = Field(ge=1, le=65535)
    upstream_host: str
    upstream_port: int = Field(ge=1, le=65535)
    protocol: Literal["http", "tcp"] = "http"

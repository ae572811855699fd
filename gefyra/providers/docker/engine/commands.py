"""Typed requests of the write half (what gefyra asks the engine to make)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PortBinding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    container_port: int
    protocol: str = "tcp"
    host_port: int
    host_ip: str | None = None


class ContainerCreate(BaseModel):
    """One container to create. `network` attaches it (with `ip`, `aliases`); `network_mode` instead joins
    another container's namespace (`container:<id>`) or none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    image: str
    name: str | None = None
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    env: dict[str, str] = {}
    labels: dict[str, str] = {}
    network: str | None = None
    ip: str | None = None
    aliases: list[str] = []
    network_mode: str | None = None
    binds: list[str] = []
    ports: list[PortBinding] = []
    dns: list[str] | None = None
    dns_search: list[str] | None = None
    dns_opt: list[str] | None = None
    cap_add: list[str] | None = None
    devices: list[str] | None = None
    sysctls: dict[str, str] | None = None
    tmpfs: dict[str, str] | None = None  # path -> mount options; empty again on every start
    working_dir: str | None = None
    user: str | None = None
    hostname: str | None = None
    healthcheck_off: bool = False

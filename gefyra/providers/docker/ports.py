"""Host ports: are they free on this machine, before anything is created?"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from gefyra.model.desired import PortSpec
from gefyra.providers.docker.engine import ContainerRow, EngineReads, PortBinding
from gefyra.providers.errors import EngineError

BUSY_HINT = (
    "stop what holds it (`ss -ltnup 'sport = :{port}'` names the process, "
    "`docker ps --filter publish={port}` a container) or change `ports:` in gefyra.yaml"
)


def published(containers: Iterable[ContainerRow]) -> set[tuple[int, str]]:
    """(host port, protocol) published by these listed containers (the `Ports` of a container list)."""
    return {
        (port.public_port, port.protocol) for item in containers for port in item.ports if port.public_port
    }


def is_free(host_ip: str | None, port: int, protocol: str) -> bool:
    """Whether this process could bind the port (what Docker's proxy will do at start)."""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    address = host_ip or "0.0.0.0"  # noqa: S104 - Docker publishes on every address by default
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, kind) as probe:
        # SO_REUSEADDR: a TIME_WAIT leftover is not "in use"; a listening socket still is.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def holder(engine: EngineReads, port: int) -> str | None:
    """Name of a Docker container publishing `port` (of any project, or none), for the error message."""
    try:
        found = engine.containers(all=False, publish=port)
    except EngineError:  # only an explanation; the error about the port stands without it
        return None
    return found[0].name if found else None


def busy_message(engine: EngineReads | None, what: str, port: int) -> tuple[str, str]:
    """The message and hint for a host port in use: names the container holding it when it is one."""
    name = holder(engine, port) if engine is not None else None
    if name:
        return (
            f"{what} is already in use by container {name}",
            f"stop {name} or change `ports:` in gefyra.yaml",
        )
    return f"{what} is already in use", BUSY_HINT.format(port=port)


def bindings(published: Iterable[PortSpec]) -> list[PortBinding]:
    """The engine's port bindings for a container's published ports (app or infra container alike)."""
    return [
        PortBinding(
            container_port=p.container_port, protocol=p.protocol, host_port=p.host_port, host_ip=p.host_ip
        )
        for p in published
    ]

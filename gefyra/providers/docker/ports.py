"""Host ports: are they free on this machine, before anything is created?"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

BUSY_HINT = (
    "stop what holds it (`ss -ltnup 'sport = :{port}'` names the process, "
    "`docker ps --filter publish={port}` a container) or change `ports:` in gefyra.yaml"
)


def published(containers: Iterable[dict[str, Any]]) -> set[tuple[int, str]]:
    """(host port, protocol) published by these listed containers (the `Ports` of a container list)."""
    return {
        (int(port["PublicPort"]), port.get("Type", "tcp"))
        for item in containers
        for port in item.get("Ports") or ()
        if port.get("PublicPort")
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

"""Choosing a free subnet for a project network: it must overlap no Docker network and no host route."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Iterator
from ipaddress import IPv4Network
from pathlib import Path

from gefyra.providers.docker.engine import EngineReads

# /24s are drawn from here; Docker's own default pools (172.17-31/16, 192.168/20) are avoided by the overlap
# check.
POOLS = (IPv4Network("10.201.0.0/16"), IPv4Network("10.202.0.0/16"), IPv4Network("172.29.0.0/16"))
PREFIX = 24


def candidates(pools: Iterable[IPv4Network] = POOLS, prefix: int = PREFIX) -> Iterator[IPv4Network]:
    for pool in pools:
        yield from pool.subnets(new_prefix=prefix)


def choose(taken: Iterable[IPv4Network], pools: Iterable[IPv4Network] = POOLS) -> IPv4Network:
    """The first candidate overlapping nothing in `taken` (pure)."""
    taken = [net for net in taken if net.prefixlen > 0]  # a default route overlaps everything: ignore it
    for subnet in candidates(pools):
        if not any(subnet.overlaps(net) for net in taken):
            return subnet
    raise ValueError("no free subnet left in gefyra's pools")


def host_routes(path: Path = Path("/proc/net/route")) -> list[IPv4Network]:
    """IPv4 destinations of the host's routing table (read from /proc: no subprocess)."""
    routes: list[IPv4Network] = []
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return routes
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        dest = socket.inet_ntoa(struct.pack("<L", int(fields[1], 16)))
        mask = socket.inet_ntoa(struct.pack("<L", int(fields[7], 16)))
        routes.append(IPv4Network(f"{dest}/{mask}", strict=False))
    return routes


def docker_subnets(engine: EngineReads) -> list[IPv4Network]:
    """Subnets of every Docker network on the engine (gefyra's or not)."""
    return [net for network in engine.networks() for net in network.subnets()]

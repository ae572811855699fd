"""Is anything at Stowaway's UDP endpoint? One datagram, and the ICMP answer (if any).

WireGuard answers nothing to a datagram that is no valid handshake, so silence is the best a probe without
keys can get; but a port nobody listens on makes the host (or a router) answer "port unreachable", which a
connected UDP socket reports as ConnectionRefusedError on the next receive.
"""

from __future__ import annotations

import socket
from typing import Literal

EndpointProbe = Literal["refused", "silent", "answered", "unresolved"]
PROBE = b"\x00"  # no WireGuard message type is 0: Stowaway drops it


def probe_udp(host: str, port: int, timeout_s: float = 1.5) -> EndpointProbe:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror:
        return "unresolved"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(address)
            sock.send(PROBE)
            sock.recv(64)
        except ConnectionRefusedError:
            return "refused"
        except TimeoutError:
            return "silent"
        except OSError:
            return "refused"  # unreachable network or host: nothing answers there either
    return "answered"

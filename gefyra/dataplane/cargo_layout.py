"""Facts about the Cargo image and its place on a project network (pure)."""

from __future__ import annotations

import ipaddress

CARGO_CONFIG_PATH = "/etc/gefyra/wg0.conf"  # the peer config (mode 600) the entry point reads
RUN_FOLDER = "/run/cargo"  # the entry point's markers: a tmpfs, so none outlives a run (a kill + start)
READY_MARKER = f"{RUN_FOLDER}/ready"  # made by the entry point once the tunnel and dnsmasq are up
# wireguard-go's control sockets: a tmpfs too. wireguard-go binds its socket before it listens and exits
# when the file goes; a `wg` that connects in between is refused and unlinks it. So nothing may run `wg`
# before the ready marker, and a marker (or socket) of the previous run must never be seen.
WG_SOCKET_FOLDER = "/run/wireguard"
RUN_TMPFS = {RUN_FOLDER: "mode=0700", WG_SOCKET_FOLDER: "mode=0755"}
HEALTH_SCRIPT = "/usr/local/bin/cargo-health.sh"


def cargo_address(subnet: str) -> str:
    """Cargo's fixed address on a project network: the last usable host, far from Docker's sequential
    assignment from the bottom, so app containers can name it (DNS, gateway) before Cargo exists and it
    survives Cargo being recreated."""
    network = ipaddress.ip_network(subnet)
    if network.num_addresses < 8:
        raise ValueError(f"subnet {subnet} is too small for Cargo")
    return str(network.broadcast_address - 1)

"""Facts about the Cargo image and its place on a project network (pure)."""

from __future__ import annotations

import ipaddress

CARGO_CONFIG_PATH = "/etc/gefyra/wg0.conf"  # the peer config (mode 600) the entry point reads
READY_MARKER = "/run/cargo/ready"  # made by the entry point once the tunnel and dnsmasq are up
HEALTH_SCRIPT = "/usr/local/bin/cargo-health.sh"


def cargo_address(subnet: str) -> str:
    """Cargo's fixed address on a project network: the last usable host, far from Docker's sequential
    assignment from the bottom, so app containers can name it (DNS, gateway) before Cargo exists and it
    survives Cargo being recreated."""
    network = ipaddress.ip_network(subnet)
    if network.num_addresses < 8:
        raise ValueError(f"subnet {subnet} is too small for Cargo")
    return str(network.broadcast_address - 1)

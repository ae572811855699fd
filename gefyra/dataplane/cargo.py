"""Start Cargo with a given peer config and watch its tunnel."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping

from gefyra.dataplane.files import put_files
from gefyra.dataplane.images import image_tag
from gefyra.dataplane.render import AppDns, app_dns_settings, normalize_mtu
from gefyra.errors import ProviderError

CARGO_CONFIG_PATH = "/etc/gefyra/wg0.conf"


def cargo_address(subnet: str) -> str:
    """Cargo's fixed address on a project network: the last usable host, far from Docker's sequential
    assignment from the bottom, so app containers can name it (DNS, gateway) before Cargo exists and it
    survives Cargo being recreated."""
    network = ipaddress.ip_network(subnet)
    if network.num_addresses < 8:
        raise ValueError(f"subnet {subnet} is too small for Cargo")
    return str(network.broadcast_address - 1)


def app_dns_for_network(client, network: str, namespace: str = "default") -> AppDns:
    """DNS settings for an app container about to be created on `network`: Cargo's fixed address as the
    server, Pod-like search domains. For the container kind's create (the address needs the real subnet)."""
    attrs = client.api.inspect_network(network)
    pools = (attrs.get("IPAM") or {}).get("Config") or []
    if not pools or not pools[0].get("Subnet"):
        raise ProviderError(f"network {network} has no IPv4 subnet")
    return app_dns_settings(cargo_address(pools[0]["Subnet"]), namespace)


def create_cargo(
    client,
    *,
    name: str,
    network: str,
    wg_config: str | bytes,
    labels: Mapping[str, str] | None = None,
    mtu: int | str | None = None,
    image: str | None = None,
    ip: str | None = None,
    start: bool = True,
):
    """Create (and start) Cargo on `network`; the WireGuard config goes in as a mode-600 file before start.

    Cargo needs NET_ADMIN and /dev/net/tun (wireguard-go) and IP forwarding in its own netns; the app
    containers that route through it get no privileges at all. `ip`: a fixed address (the network must
    have a configured subnet).
    """
    environment = {"CARGO_MTU": normalize_mtu(mtu)} if mtu is not None else {}
    host_config = client.api.create_host_config(
        cap_add=["NET_ADMIN"],
        devices=["/dev/net/tun:/dev/net/tun:rwm"],
        sysctls={"net.ipv4.ip_forward": "1"},
    )
    endpoint = client.api.create_endpoint_config(ipv4_address=ip or None)
    created = client.api.create_container(
        image or image_tag("cargo"),
        name=name,
        labels=dict(labels or {}),
        environment=environment,
        host_config=host_config,
        networking_config=client.api.create_networking_config({network: endpoint}),
        detach=True,
    )
    container = client.containers.get(created["Id"])
    put_files(container, {CARGO_CONFIG_PATH: wg_config})
    if start:
        container.start()
    return container


def container_ip(container, network: str) -> str:
    """The container's IPv4 address on `network` (reloads the container first)."""
    container.reload()
    settings = container.attrs["NetworkSettings"]["Networks"].get(network)
    if not settings or not settings.get("IPAddress"):
        raise ProviderError(f"container {container.name} has no address on network {network}")
    return settings["IPAddress"]


def _exec(container, *cmd: str) -> tuple[int, str]:
    result = container.exec_run(list(cmd), demux=False)
    return result.exit_code, (result.output or b"").decode(errors="replace").strip()


def latest_handshake(container, interface: str = "wg0") -> int:
    """Unix time of the tunnel's latest handshake, 0 for none (from `wg show <if> latest-handshakes`)."""
    code, out = _exec(container, "wg", "show", interface, "latest-handshakes")
    if code != 0:
        return 0
    stamps = [int(line.split()[1]) for line in out.splitlines() if len(line.split()) == 2]
    return max(stamps, default=0)


def cargo_health(container) -> tuple[bool, str]:
    """(healthy, why) from the image's health script: tunnel up, dnsmasq alive, handshake < 180 s."""
    container.reload()
    if container.status != "running":
        return False, f"container {container.status}"
    code, out = _exec(container, "/usr/local/bin/cargo-health.sh")
    return code == 0, out


def wait_tunnel(container, timeout: float = 30.0, *, since: float = 0.0) -> None:
    """Poll until Cargo is up and has a handshake newer than `since` (unix time); explain a failure."""
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        if container.status in ("exited", "dead"):
            tail = container.logs(tail=20).decode(errors="replace")
            raise ProviderError(f"Cargo {container.name} exited:\n{tail}")
        if container.status == "running":
            code, _ = _exec(container, "test", "-e", "/run/cargo/ready")
            if code == 0 and latest_handshake(container) > since:
                return
        if time.monotonic() > deadline:
            tail = container.logs(tail=20).decode(errors="replace")
            why = f"no WireGuard handshake after {timeout:.0f}s"
            raise ProviderError(f"Cargo {container.name}: {why}:\n{tail}")
        time.sleep(0.2)

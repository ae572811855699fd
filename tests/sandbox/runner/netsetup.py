"""Host networking of one sandbox: the Docker network that holds Pod IPs, iptables chains, the unreachable
route.

Safety: the Pod range is the Docker network's own subnet (routed to its bridge only) and the Service range
gets an `unreachable` route, so a packet to a ClusterIP without a DNAT rule fails fast with "No route to host"
and never leaves this machine. Every rule lives in chains named GEFYRA-SANDBOX-<INSTANCE>-*, jumped to from
the built-in chains, so cleanup is: delete the jumps, flush and delete the chains.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from ..privatedir import FILE_FLAGS
from .settings import LABEL, LABEL_ROLE, POD_SUPERNET, Settings, state_root

log = logging.getLogger(__name__)

# Interfaces whose incoming packets may use ClusterIPs and NodePorts: loopback, every sandbox bridge, Docker's
# default bridge and user-defined Docker bridges. Not the uplink: a test sandbox's NodePorts are no business
# of the LAN (a real node would expose them; this machine must not).
LOCAL_INTERFACES = ("lo", "gsbx-+", "docker0", "br-+")
# (table, built-in chain, extra match, our chain suffix): the jumps `setup` inserts at position 1.
JUMPS = (
    *(("nat", "PREROUTING", ("-i", interface), "SVC") for interface in LOCAL_INTERFACES),
    ("nat", "OUTPUT", (), "SVC"),
    ("nat", "POSTROUTING", (), "PST"),
    ("filter", "DOCKER-USER", (), "FWD"),
)
NAT_CHAINS = ("SVC", "NP", "PST")
FILTER_CHAINS = ("FWD",)


def iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["iptables", "-w", "10", *args], capture_output=True, text=True, check=check)


def iptables_restore(text: str) -> None:
    """Atomically replace the contents of the chains declared in `text` (others stay untouched)."""
    subprocess.run(
        ["iptables-restore", "-w", "10", "--noflush"], input=text, text=True, check=True, capture_output=True
    )


def host_routes() -> list[ipaddress.IPv4Network]:
    out = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    routes = []
    for line in out.splitlines():
        words = line.split()
        if not words:
            continue
        target = (
            words[1]
            if words[0] in {"unreachable", "blackhole", "prohibit", "local", "broadcast"}
            else words[0]
        )
        if target == "default":
            continue
        try:
            routes.append(ipaddress.ip_network(target, strict=False))
        except ValueError:
            continue
    return routes


def network_subnets(client) -> list[ipaddress.IPv4Network]:
    subnets = []
    for network in client.networks.list():
        for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
            if config.get("Subnet") and ":" not in config["Subnet"]:
                subnets.append(ipaddress.ip_network(config["Subnet"], strict=False))
    return subnets


def used_subnets(client) -> list[ipaddress.IPv4Network]:
    return host_routes() + network_subnets(client)


@contextlib.contextmanager
def slot_lock() -> Iterator[None]:
    """Serialise taking a slot (network + route) and giving it back (network, then route) across processes,
    so a sandbox being removed never deletes the fresh route of another that just took the same slot."""
    fd = os.open(state_root() / ".slots.lock", os.O_RDWR | os.O_CREAT | FILE_FLAGS, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


def find_existing(client, instance: str) -> Settings | None:
    """The settings of an instance whose network already exists (a previous `up` or a crashed run)."""
    for network in client.networks.list(filters={"label": f"{LABEL}={instance}"}):
        for config in network.attrs.get("IPAM", {}).get("Config") or []:
            subnet = ipaddress.ip_network(config["Subnet"])
            if subnet.subnet_of(POD_SUPERNET):
                return Settings(instance=instance, slot=int(str(subnet.network_address).split(".")[2]))
    return None


def create_network(client, instance: str) -> Settings:
    """Create the cluster network in the first free slot (Pod /24 and Service /24 both unused here)."""
    import docker.errors
    import docker.types

    existing = find_existing(client, instance)
    if existing is not None:
        return existing
    for slot in range(256):
        settings = Settings(instance=instance, slot=slot)
        used = used_subnets(client)
        if any(settings.pod_cidr.overlaps(n) or settings.service_cidr.overlaps(n) for n in used):
            continue
        ipam = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=str(settings.pod_cidr), gateway=settings.gateway)]
        )
        try:
            client.networks.create(
                settings.network_name,
                driver="bridge",
                ipam=ipam,
                check_duplicate=True,
                options={"com.docker.network.bridge.name": settings.bridge},
                labels={**settings.labels, LABEL_ROLE: "network"},
            )
        except docker.errors.APIError as error:
            # Another sandbox (or anyone) took the subnet between our check and the create: try the next slot.
            if "overlap" in str(error).lower():
                continue
            raise
        return settings
    raise RuntimeError("no free slot for a sandbox network in 10.242.0.0/16 + 10.243.0.0/16")


def setup_host(settings: Settings) -> None:
    """Chains, jumps, the unreachable route and route_localnet on our bridge (idempotent)."""
    rules = ["*nat"]
    rules += [f":{settings.chain(c)} - [0:0]" for c in NAT_CHAINS]
    rules += [
        # Hairpin and Pod -> Service -> Pod on one bridge: replies must pass the host to be un-DNATed.
        f"-A {settings.chain('PST')} -s {settings.pod_cidr} -o {settings.bridge} -m conntrack --ctstate DNAT "
        "-j MASQUERADE",
        # Host -> 127.0.0.1:<NodePort>: the source must not stay 127.0.0.1 on the bridge.
        f"-A {settings.chain('PST')} -s 127.0.0.0/8 -o {settings.bridge} -j MASQUERADE",
        "COMMIT",
        "*filter",
    ]
    rules += [f":{settings.chain(c)} - [0:0]" for c in FILTER_CHAINS]
    rules += [
        # Docker isolates bridges from each other; let DNAT-ed flows (NodePorts, ClusterIPs) in and out.
        f"-A {settings.chain('FWD')} -o {settings.bridge} -m conntrack --ctstate DNAT -j ACCEPT",
        f"-A {settings.chain('FWD')} -i {settings.bridge} -m conntrack --ctstate DNAT -j ACCEPT",
        "COMMIT",
        "",
    ]
    iptables_restore("\n".join(rules))
    for table, builtin, match, suffix in JUMPS:
        jump = [*match, "-j", settings.chain(suffix)]
        if iptables("-t", table, "-C", builtin, *jump, check=False).returncode != 0:
            iptables("-t", table, "-I", builtin, "1", *jump)
    subprocess.run(["ip", "route", "replace", "unreachable", str(settings.service_cidr)], check=True)
    # NodePort DNAT for host -> 127.0.0.1 needs this; set on our own bridge only.
    Path(f"/proc/sys/net/ipv4/conf/{settings.bridge}/route_localnet").write_text("1\n")


def teardown_rules(settings: Settings) -> None:
    """Remove jumps and chains (idempotent; touches nothing not named after this instance)."""
    for table, builtin, match, suffix in JUMPS:
        jump = [*match, "-j", settings.chain(suffix)]
        while iptables("-t", table, "-D", builtin, *jump, check=False).returncode == 0:
            pass
    # Jumps of older versions (PREROUTING without an interface match) go too.
    while iptables("-t", "nat", "-D", "PREROUTING", "-j", settings.chain("SVC"), check=False).returncode == 0:
        pass
    for table, chains in (("nat", NAT_CHAINS), ("filter", FILTER_CHAINS)):
        for suffix in chains:
            iptables("-t", table, "-F", settings.chain(suffix), check=False)
            iptables("-t", table, "-X", settings.chain(suffix), check=False)


def remove_route(client, settings: Settings) -> bool:
    """Delete the unreachable route of the Service range - only when no Docker network holds the slot's Pod
    subnet any more (ours is really gone, and no other sandbox took the slot since). Call under slot_lock().
    """
    if any(settings.pod_cidr == subnet for subnet in network_subnets(client)):
        return False
    subprocess.run(["ip", "route", "del", "unreachable", str(settings.service_cidr)], capture_output=True)
    return True


def leftover_rules(settings: Settings) -> list[str]:
    """Every iptables line or route that still names this instance (for `down` verification and tests)."""
    found = []
    for table in ("nat", "filter"):
        out = iptables("-t", table, "-S", check=False).stdout
        found += [line for line in out.splitlines() if settings.chain("") in line]
    routes = subprocess.run(
        ["ip", "route", "show", "type", "unreachable"], capture_output=True, text=True
    ).stdout
    found += [line for line in routes.splitlines() if line.split()[1] == str(settings.service_cidr)]
    return found

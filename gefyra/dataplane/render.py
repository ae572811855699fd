"""Pure renderers of data-plane configs: no I/O, deterministic text, validated input."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from gefyra.dataplane.models import CarrierPort, PeerConfig

DEFAULT_MTU = 1420
# Cargo answers DNS on this constant address too (on its loopback): app containers can name it at plan time,
# before the project subnet (and so Cargo's own address) is known. Queries reach it via the default route.
CARGO_DNS_ADDRESS = "100.87.255.53"
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.?)+$", re.IGNORECASE)


def normalize_mtu(value: int | str | None, default: int | str = DEFAULT_MTU) -> str:
    """`auto` (tunnel device MTU = route MTU - 80, decided in the container) or an int in 1280..9000."""
    if value is None or value == "":
        value = default
    if str(value).strip().lower() == "auto":
        return "auto"
    try:
        mtu = int(value)
    except ValueError:
        raise ValueError(f"MTU must be 'auto' or an integer, got {value!r}") from None
    if not 1280 <= mtu <= 9000:
        raise ValueError(f"MTU {mtu} is outside 1280..9000")
    return str(mtu)


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` -> (host, port), validated."""
    pattern = r"\[(?P<v6>[0-9a-fA-F:]+)\]:(?P<port>\d+)|(?P<host>[^:\s]+):(?P<port2>\d+)"
    match = re.fullmatch(pattern, endpoint)
    if not match:
        raise ValueError(f"endpoint must be host:port, got {endpoint!r}")
    host = match["v6"] or match["host"]
    port = int(match["port"] or match["port2"])
    if not 1 <= port <= 65535:
        raise ValueError(f"endpoint port {port} out of range")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not HOSTNAME_RE.match(host):
            raise ValueError(f"endpoint host {host!r} is neither an IP nor a host name") from None
    return host, port


def render_cargo_wg_config(
    peer: PeerConfig,
    endpoint: str | None = None,
    *,
    mtu: int | str | None = None,
    extra_allowed_ips: Sequence[str] = (),
    keepalive: int = 25,
    local_subnets: Sequence[str] = (),
) -> str:
    """Cargo's wg-quick style file: [Interface] PrivateKey/Address/DNS/MTU, one [Peer] for Stowaway.

    Cargo's entry point strips Address/DNS/MTU and hands the rest to `wg setconf`. The result holds the
    private key: write it only as a mode-600 file. `local_subnets` (the project network) must not overlap
    a tunnelled range, or replies to the cluster would stay on the local bridge. Every cluster DNS server
    must lie inside a tunnelled range, or Cargo's dnsmasq would query it through eth0.
    """
    endpoint = endpoint or peer.endpoint
    if not endpoint:
        raise ValueError("no endpoint: pass the address where Stowaway's UDP port is reachable")
    host, port = split_endpoint(endpoint)
    if not peer.dns:
        raise ValueError("the peer config names no cluster DNS server")
    allowed = []
    for cidr in [*peer.allowed_ips, *extra_allowed_ips]:
        net = str(ipaddress.ip_network(cidr, strict=False))
        if net in ("0.0.0.0/0", "::/0"):
            raise ValueError("a default route into the tunnel is not supported: list the cluster ranges")
        if net not in allowed:
            allowed.append(net)
    ipaddress.ip_interface(peer.address)
    nets = [ipaddress.ip_network(n) for n in allowed]
    for server in peer.dns:
        if not any(ipaddress.ip_address(server) in n for n in nets):
            # Cargo's dnsmasq would send its queries out through eth0 (the host's network), not the tunnel.
            raise ValueError(
                f"cluster DNS server {server} lies outside the tunnelled ranges ({', '.join(allowed)})"
            )
    for local in local_subnets:
        local_net = ipaddress.ip_network(local, strict=False)
        clash = [n for n in allowed if ipaddress.ip_network(n).overlaps(local_net)]
        if clash:
            raise ValueError(f"local network {local} overlaps tunnelled range {clash[0]}")
    # An endpoint inside a tunnelled range (a node address in the Pod range) is fine: Cargo keeps it on its
    # uplink with a host route, so the tunnel's own packets never enter the tunnel (cargo-entry.sh).
    shown_host = f"[{host}]" if ":" in host else host
    return "\n".join(
        [
            "[Interface]",
            f"PrivateKey = {peer.private_key.get_secret_value()}",
            f"Address = {peer.address}",
            f"DNS = {', '.join(str(ipaddress.ip_address(d)) for d in peer.dns)}",
            f"MTU = {normalize_mtu(mtu, peer.mtu)}",
            "",
            "[Peer]",
            f"PublicKey = {peer.server_public_key}",
            f"Endpoint = {shown_host}:{port}",
            f"AllowedIPs = {', '.join(allowed)}",
            f"PersistentKeepalive = {int(keepalive)}",
            "",
        ]
    )


def render_dnsmasq_conf(
    host_records: Mapping[str, str], *, upstreams: Sequence[str] = (), port: int = 53
) -> str:
    """A dnsmasq config answering `host_records` (name -> IP) and forwarding the rest to `upstreams` only.

    Without upstreams every other name fails to resolve (what the isolated test cluster DNS needs).
    """
    lines = [f"port={int(port)}", "no-resolv", "no-hosts", "no-poll", "user=root", "log-facility=-"]
    for server in upstreams:
        lines.append(f"server={ipaddress.ip_address(server)}")
    for name in sorted(host_records):
        if not HOSTNAME_RE.match(name):
            raise ValueError(f"invalid DNS name {name!r}")
        lines.append(f"host-record={name.rstrip('.')},{ipaddress.ip_address(host_records[name])}")
    return "\n".join(lines) + "\n"


def render_carrier_nginx(ports: Sequence[CarrierPort]) -> str:
    """Carrier's nginx config: an `http` server per HTTP port, a `stream` server per TCP port."""
    seen: set[int] = set()
    for item in ports:
        if item.port in seen:
            raise ValueError(f"port {item.port} appears twice")
        seen.add(item.port)
    http = sorted((p for p in ports if p.protocol == "http"), key=lambda p: p.port)
    tcp = sorted((p for p in ports if p.protocol == "tcp"), key=lambda p: p.port)
    out = ["# Carrier: every port of the bridged container goes to Stowaway's proxy port for the bridge."]
    if http:
        out += [
            "http {",
            "    access_log off;",
            "    map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
        ]
        for p in http:
            upstream = f"{ipaddress.ip_address(p.upstream_host)}:{p.upstream_port}"
            out += [
                "    server {",
                f"        listen {p.port};",
                "        location / {",
                f"            proxy_pass http://{upstream};",
                "            proxy_http_version 1.1;",
                "            proxy_set_header Host $http_host;",
                "            proxy_set_header Upgrade $http_upgrade;",
                "            proxy_set_header Connection $connection_upgrade;",
                "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                "            proxy_buffering off;",
                "            proxy_request_buffering off;",
                "        }",
                "    }",
            ]
        out.append("}")
    if tcp:
        out.append("stream {")
        for p in tcp:
            upstream = f"{ipaddress.ip_address(p.upstream_host)}:{p.upstream_port}"
            out += [
                "    server {",
                f"        listen {p.port};",
                f"        proxy_pass {upstream};",
                "        proxy_half_close on;",
                "    }",
            ]
        out.append("}")
    return "\n".join(out) + "\n"


class AppDns(BaseModel):
    """DNS settings of an app container: Cargo as the only server, Kubernetes-like search domains."""

    model_config = ConfigDict(frozen=True)

    dns: list[str]
    dns_search: list[str]
    dns_opt: list[str]


def app_dns_settings(
    cargo_ip: str, namespace: str = "default", cluster_domain: str = "cluster.local"
) -> AppDns:
    """The same search list a Pod in `namespace` gets, so short service names resolve as in the cluster."""
    return AppDns(
        dns=[str(ipaddress.ip_address(cargo_ip))],
        dns_search=[f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain],
        dns_opt=["ndots:5"],
    )

"""App -> Cargo -> WireGuard -> Stowaway -> cluster: by IP, by name, and nothing else."""

from __future__ import annotations

import ipaddress

import pytest

from gefyra.dataplane.render import render_cargo_wg_config
from gefyra.providers.docker.dataplane.cargo import create_cargo, wait_tunnel
from gefyra.providers.docker.dataplane.gateway import default_gateway
from tests.dataplane.testbed import HTTP_PORT, SVC_NAME

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_app_default_route_is_cargo(bed):
    assert default_gateway(bed.engine, bed.containers["app"].id) == bed.ips["cargo"]


def test_app_reaches_service_by_ip_through_the_tunnel(bed):
    before = {p.name: p for p in bed.api.peers()}["dev1"]
    code, out = bed.run_in("app", "get", f"http://{bed.ips['svc']}:{HTTP_PORT}/")
    assert (code, out.strip()) == (0, "hello from svc")
    after = {p.name: p for p in bed.api.peers()}["dev1"]
    # The request crossed Stowaway's WireGuard interface: the peer's counters moved.
    assert after.rx_bytes > before.rx_bytes and after.tx_bytes > before.tx_bytes
    assert after.latest_handshake > 0


def test_app_resolves_service_name_through_the_tunnel(bed):
    code, out = bed.run_in("app", "resolve", SVC_NAME)
    assert (code, out.strip()) == (0, bed.ips["svc"])
    code, out = bed.run_in("app", "get", f"http://{SVC_NAME}:{HTTP_PORT}/")
    assert (code, out.strip()) == (0, "hello from svc")


def test_short_name_resolves_with_namespace_search_domain(bed):
    code, out = bed.run_in("app", "resolve", "svc-a")
    assert (code, out.strip()) == (0, bed.ips["svc"])


def test_public_name_does_not_resolve(bed):
    code, out = bed.run_in("app", "resolve", "example.com")
    assert code == 2, out
    assert out.startswith("unresolved")
    # This machine resolves no public name at all, so the above alone cannot catch a fallback: Cargo's
    # dnsmasq must ignore resolv.conf (Docker's embedded DNS -> the host) and know the cluster DNS only.
    cargo = bed.containers["cargo"]
    pid = cargo.exec_run(["pidof", "dnsmasq"]).output.split()[0].decode()
    argv = cargo.exec_run(["cat", f"/proc/{pid}/cmdline"]).output.decode().split("\0")
    assert "--no-resolv" in argv and "--no-hosts" in argv, argv
    assert [a for a in argv if a.startswith(("--server", "--resolv-file", "--conf"))] == [
        f"--server={bed.ips['dns']}"
    ], argv


@pytest.mark.parametrize(("mtu", "expected"), [("auto", 1420), (1380, 1380)])
def test_tunnel_mtu_is_configurable(bed, mtu, expected):
    """`auto` = MTU of the route to the endpoint (1500 on a Docker bridge) - 80."""
    peer = bed.api.put_peer(f"mtu-{mtu}", routed_subnets=[])
    text = render_cargo_wg_config(peer, f"{bed.project_gateway}:{bed.wg_port}", mtu=mtu)
    made = create_cargo(
        bed.engine, name=bed.name(f"mtu-{mtu}"), network=bed.project_net, wg_config=text, labels=bed.labels
    )
    cargo = bed.client.containers.get(made)
    try:
        wait_tunnel(bed.engine, made, 30)
        out = cargo.exec_run(["cat", "/sys/class/net/wg0/mtu"]).output.decode()
        assert int(out) == expected
    finally:
        cargo.remove(force=True)
        bed.api.delete_peer(f"mtu-{mtu}")


def test_tunnelled_ranges_are_dropped_never_sent_out_when_the_tunnel_is_down(bed):
    """Network safety: with wg0 down (or gone) a packet for the cluster must hit Cargo's blackhole routes,
    not Cargo's default route out through Docker's bridge onto the host's network."""
    peer = bed.api.put_peer("down", routed_subnets=[])
    text = render_cargo_wg_config(peer, f"{bed.project_gateway}:{bed.wg_port}")
    made = create_cargo(
        bed.engine, name=bed.name("down"), network=bed.project_net, wg_config=text, labels=bed.labels
    )
    cargo = bed.client.containers.get(made)
    try:
        wait_tunnel(bed.engine, made, 30)
        route = lambda: cargo.exec_run(["ip", "-4", "route", "get", bed.ips["svc"]])  # noqa: E731
        up = route()
        assert up.exit_code == 0 and b"dev wg0" in up.output, up.output
        blackholes = cargo.exec_run(["ip", "-4", "route", "show", "type", "blackhole"]).output.decode()
        expected = sorted(str(ipaddress.ip_network(c)) for c in peer.allowed_ips)
        assert sorted(line.split()[1] for line in blackholes.splitlines()) == expected, blackholes
        assert cargo.exec_run(["ip", "link", "set", "wg0", "down"]).exit_code == 0
        down = route()
        assert down.exit_code != 0 and b"dev eth0" not in down.output, down.output
    finally:
        cargo.remove(force=True)
        bed.api.delete_peer("down")


def _wg0_rx(container) -> tuple[int, int]:
    stats = container.exec_run(
        ["cat", "/sys/class/net/wg0/statistics/rx_packets", "/sys/class/net/wg0/statistics/rx_bytes"]
    ).output.split()
    return int(stats[0]), int(stats[1])


def test_tunnel_uses_segmentation_offloads_and_large_socket_buffers(bed):
    """The throughput rests on wireguard-go's TUN offloads (virtio-net header: TCP segments coalesced into
    64 KiB packets) and its enlarged UDP socket buffers (bookworm's older build dropped datagrams with the
    default 208 KiB): keep both from regressing with an image change."""
    for role in ("cargo", "stowaway"):
        link = bed.containers[role].exec_run(["ip", "-d", "link", "show", "wg0"]).output.decode()
        assert "vnet_hdr on" in link, (role, link)
        sockets = bed.containers[role].exec_run(["ss", "-uamnp"]).output.decode().splitlines()
        wg_socket = next(i for i, line in enumerate(sockets) if "wireguard-go" in line)
        rcvbuf = int(sockets[wg_socket + 1].split("rb")[1].split(",")[0])
        assert rcvbuf >= 1 << 20, (role, sockets[wg_socket : wg_socket + 2])
    packets, size = _wg0_rx(bed.containers["cargo"])
    code, out = bed.run_in("app", "download", f"http://{bed.ips['svc']}:{HTTP_PORT}/bytes/{50 << 20}")
    assert code == 0, out
    packets_after, size_after = _wg0_rx(bed.containers["cargo"])
    # Without TUN GRO no packet written to wg0 exceeds the MTU (1420): an average above it means
    # wireguard-go coalesced segments (how much depends on batching, i.e. on load: 2-60 KB seen).
    assert (size_after - size) / (packets_after - packets) > 1420

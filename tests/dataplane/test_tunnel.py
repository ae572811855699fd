"""App -> Cargo -> WireGuard -> Stowaway -> cluster: by IP, by name, and nothing else."""

from __future__ import annotations

import pytest

from gefyra.dataplane.cargo import create_cargo, wait_tunnel
from gefyra.dataplane.gateway import default_gateway
from gefyra.dataplane.render import render_cargo_wg_config
from tests.dataplane.testbed import HTTP_PORT, SVC_NAME

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_app_default_route_is_cargo(bed):
    assert default_gateway(bed.client, bed.containers["app"]) == bed.ips["cargo"]


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


@pytest.mark.parametrize(("mtu", "expected"), [("auto", 1420), (1380, 1380)])
def test_tunnel_mtu_is_configurable(bed, mtu, expected):
    """`auto` = MTU of the route to the endpoint (1500 on a Docker bridge) - 80."""
    peer = bed.api.put_peer(f"mtu-{mtu}", routed_subnets=[])
    text = render_cargo_wg_config(peer, f"{bed.project_gateway}:{bed.wg_port}", mtu=mtu)
    cargo = create_cargo(bed.client, name=bed.name(f"mtu-{mtu}"), network=bed.project_net, wg_config=text,
                         labels=bed.labels)
    try:
        wait_tunnel(cargo, 30)
        out = cargo.exec_run(["cat", "/sys/class/net/wg0/mtu"]).output.decode()
        assert int(out) == expected
    finally:
        cargo.remove(force=True)
        bed.api.delete_peer(f"mtu-{mtu}")

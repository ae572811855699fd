"""Pure parts of Stowaway's control API program (images/stowaway/stowaway_api.py, stdlib only)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "images/stowaway/stowaway_api.py"


@pytest.fixture(scope="module")
def api():
    spec = importlib.util.spec_from_file_location("stowaway_api_under_test", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dump_skips_the_interface_line_and_reads_peers(api):
    text = (
        "cHJpdmF0ZQ==\tcHVibGlj\t51820\toff\n"
        "peerA=\t(none)\t172.18.0.1:40000\t192.168.99.2/32,172.30.0.0/24\t1764000000\t1200\t3400\t25\n"
        "peerB=\t(none)\t(none)\t192.168.99.3/32\t0\t0\t0\toff\n"
    )
    status = api.parse_wg_dump(text)
    assert status == {
        "peerA=": {
            "endpoint": "172.18.0.1:40000",
            "latest_handshake": 1764000000,
            "rx_bytes": 1200,
            "tx_bytes": 3400,
        },
        "peerB=": {"endpoint": None, "latest_handshake": 0, "rx_bytes": 0, "tx_bytes": 0},
    }
    assert "cHJpdmF0ZQ==" not in repr(status)


def test_route_renders_one_stream_server(api):
    text = api.render_route(
        {"name": "br-a", "listen_port": 10080, "target_host": "172.30.0.3", "target_port": 8080}
    )
    assert "listen 10080;" in text and "proxy_pass 172.30.0.3:8080;" in text
    assert "proxy_half_close on;" in text


def test_route_validation(api):
    with pytest.raises(api.ApiError):
        api.validate_route("x", {"listen_port": 1, "target_host": "not-an-ip", "target_port": 1})
    with pytest.raises(api.ApiError):
        api.validate_route("x", {"listen_port": 0, "target_host": "10.0.0.1", "target_port": 1})
    with pytest.raises(api.ApiError):
        api.validate_route("x", {"listen_port": api.API_PORT, "target_host": "10.0.0.1", "target_port": 1})


def test_routed_subnet_may_not_overlap_tunnel_cluster_routes_or_attached_networks(api):
    """Stowaway routes a peer's subnet into the tunnel by replacing its own route for it: overlapping a
    cluster range or a network Stowaway sits on would cut it off from the cluster."""
    reserved = [
        ("100.87.0.0/24", "the tunnel subnet"),
        ("10.96.0.0/12", "a cluster route"),
        ("172.20.0.0/16", "a network Stowaway is attached to"),
    ]
    for subnet, what in [
        ("100.87.0.128/25", "tunnel subnet"),
        ("10.100.0.0/16", "cluster route"),
        ("172.20.5.0/24", "attached to"),
    ]:
        with pytest.raises(api.ApiError, match=what) as caught:
            api.check_routed_subnets("p", [subnet], {}, reserved)
        assert caught.value.status == 409
    assert api.check_routed_subnets("p", ["172.30.0.5/24"], {}, reserved) == ["172.30.0.0/24"]
    peers = {"q": {"name": "q", "routed_subnets": ["172.30.0.0/24"]}}
    with pytest.raises(api.ApiError, match="of peer q"):
        api.check_routed_subnets("p", ["172.30.0.0/25"], peers, reserved)

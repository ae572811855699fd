"""Data-plane renderers: pure functions, exact text, validated input."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gefyra.dataplane.models import CarrierPort, PeerConfig, ProxyRoute
from gefyra.dataplane.render import (
    app_dns_settings,
    normalize_mtu,
    render_cargo_wg_config,
    render_carrier_nginx,
    render_dnsmasq_conf,
    split_endpoint,
)

PRIVATE = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
PEER = PeerConfig(
    name="dev1",
    address="192.168.99.2/32",
    private_key=PRIVATE,
    public_key="xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
    server_public_key="TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=",
    allowed_ips=["192.168.99.0/24", "10.96.0.0/12"],
    dns=["10.96.0.10"],
)


def test_cargo_config_is_wg_quick_style_with_every_field():
    text = render_cargo_wg_config(PEER, "172.18.0.1:31820", mtu=1380)
    assert text == (
        "[Interface]\n"
        f"PrivateKey = {PRIVATE}\n"
        "Address = 192.168.99.2/32\n"
        "DNS = 10.96.0.10\n"
        "MTU = 1380\n"
        "\n"
        "[Peer]\n"
        "PublicKey = TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\n"
        "Endpoint = 172.18.0.1:31820\n"
        "AllowedIPs = 192.168.99.0/24, 10.96.0.0/12\n"
        "PersistentKeepalive = 25\n"
    )


def test_cargo_config_mtu_defaults_to_the_peer_and_accepts_auto():
    assert "MTU = 1420\n" in render_cargo_wg_config(PEER, "h:1")
    assert "MTU = auto\n" in render_cargo_wg_config(PEER, "h:1", mtu="auto")


def test_cargo_config_deduplicates_and_normalises_extra_ranges():
    text = render_cargo_wg_config(PEER, "h:1", extra_allowed_ips=["10.96.0.0/12", "10.244.1.7/16"])
    assert "AllowedIPs = 192.168.99.0/24, 10.96.0.0/12, 10.244.0.0/16\n" in text


def test_cargo_config_refuses_a_default_route_into_the_tunnel():
    with pytest.raises(ValueError, match="default route"):
        render_cargo_wg_config(PEER, "h:1", extra_allowed_ips=["0.0.0.0/0"])


def test_cargo_config_takes_an_endpoint_inside_a_tunnelled_range():
    # Cargo routes such an endpoint on its uplink (tests/e2e/test_endpoint_in_routed_range.py proves it)
    assert "Endpoint = 10.100.0.1:31820" in render_cargo_wg_config(PEER, "10.100.0.1:31820")


def test_cargo_config_refuses_a_local_network_overlapping_a_tunnelled_range():
    with pytest.raises(ValueError, match="overlaps tunnelled range 192.168.99.0/24"):
        render_cargo_wg_config(PEER, "h:1", local_subnets=["192.168.96.0/20"])
    assert render_cargo_wg_config(PEER, "h:1", local_subnets=["172.30.0.0/24"])


def test_cargo_config_refuses_a_cluster_dns_server_outside_the_tunnelled_ranges():
    """dnsmasq in Cargo would query such a server through eth0 (the host's network), not the tunnel."""
    outside = PEER.model_copy(update={"dns": ["10.96.0.10", "8.8.8.8"]})
    with pytest.raises(ValueError, match="cluster DNS server 8.8.8.8 lies outside the tunnelled ranges"):
        render_cargo_wg_config(outside, "h:1")
    # A range added by extra_allowed_ips counts as tunnelled.
    text = render_cargo_wg_config(outside, "h:1", extra_allowed_ips=["8.8.8.8/32"])
    assert "DNS = 10.96.0.10, 8.8.8.8\n" in text


def test_cargo_config_needs_an_endpoint():
    with pytest.raises(ValueError, match="no endpoint"):
        render_cargo_wg_config(PEER)
    v6 = PEER.model_copy(update={"endpoint": "[fd00::1]:51820"})
    assert "Endpoint = [fd00::1]:51820\n" in render_cargo_wg_config(v6)


@pytest.mark.parametrize("bad", ["host", "host:0", "host:70000", "a b:1", ":1", "1.2.3.4:x"])
def test_split_endpoint_rejects_malformed(bad):
    with pytest.raises(ValueError):
        split_endpoint(bad)


def test_split_endpoint_accepts_names_and_addresses():
    assert split_endpoint("node-1.example:31820") == ("node-1.example", 31820)
    assert split_endpoint("[fd00::1]:5") == ("fd00::1", 5)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "1420"), ("", "1420"), ("AUTO", "auto"), (1280, "1280")]
)
def test_normalize_mtu(value, expected):
    assert normalize_mtu(value) == expected


@pytest.mark.parametrize("bad", [1279, 9001, "big"])
def test_normalize_mtu_rejects(bad):
    with pytest.raises(ValueError):
        normalize_mtu(bad)


def test_private_key_is_hidden_in_repr_and_dumps():
    assert PRIVATE not in repr(PEER) and PRIVATE not in PEER.model_dump_json()


def test_dnsmasq_conf_answers_records_and_forwards_only_to_upstreams():
    text = render_dnsmasq_conf(
        {"svc-b.default.svc.cluster.local": "10.0.0.2", "svc-a.x": "10.0.0.1"}, upstreams=["10.0.0.53"]
    )
    assert text == (
        "port=53\nno-resolv\nno-hosts\nno-poll\nuser=root\nlog-facility=-\n"
        "server=10.0.0.53\n"
        "host-record=svc-a.x,10.0.0.1\n"
        "host-record=svc-b.default.svc.cluster.local,10.0.0.2\n"
    )


def test_dnsmasq_conf_rejects_bad_names_and_addresses():
    with pytest.raises(ValueError):
        render_dnsmasq_conf({"bad name": "10.0.0.1"})
    with pytest.raises(ValueError):
        render_dnsmasq_conf({"ok": "not-an-ip"})


def test_carrier_nginx_http_and_tcp():
    text = render_carrier_nginx(
        [
            CarrierPort(port=9000, upstream_host="10.0.0.9", upstream_port=10090, protocol="tcp"),
            CarrierPort(port=80, upstream_host="10.0.0.9", upstream_port=10080),
        ]
    )
    assert "http {" in text and "stream {" in text
    http, stream = text.split("stream {")
    assert "listen 80;" in http and "proxy_pass http://10.0.0.9:10080;" in http
    assert "listen 9000;" in stream and "proxy_pass 10.0.0.9:10090;" in stream
    assert "proxy_half_close on;" in stream
    assert text.count("{") == text.count("}")


def test_carrier_nginx_only_the_blocks_needed():
    port = CarrierPort(port=5432, upstream_host="10.0.0.9", upstream_port=1, protocol="tcp")
    text = render_carrier_nginx([port])
    assert "http {" not in text and "stream {" in text


def test_carrier_nginx_rejects_a_port_twice_and_bad_upstreams():
    with pytest.raises(ValueError, match="twice"):
        render_carrier_nginx([CarrierPort(port=80, upstream_host="10.0.0.1", upstream_port=1)] * 2)
    with pytest.raises(ValueError):
        render_carrier_nginx([CarrierPort(port=80, upstream_host="evil;host", upstream_port=1)])


def test_proxy_route_validates():
    with pytest.raises(ValidationError):
        ProxyRoute(name="Bad_Name", listen_port=1, target_host="10.0.0.1", target_port=1)
    with pytest.raises(ValidationError):
        ProxyRoute(name="ok", listen_port=1, target_host="name.example", target_port=1)


def test_app_dns_settings_like_a_pod():
    dns = app_dns_settings("172.30.0.2", "shop")
    assert dns.dns == ["172.30.0.2"]
    assert dns.dns_search == ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    assert dns.dns_opt == ["ndots:5"]

"""Hardening of the Cargo and Stowaway images: secrets kept out of logs, a config readable by others refused,
restarts after SIGKILL, an honest health check and forwarding from the tunnel limited to the project network.
"""

from __future__ import annotations

import io
import tarfile
import time

import pytest

from gefyra.errors import ProviderError
from gefyra.providers.docker.dataplane.cargo import (
    cargo_health,
    container_ip,
    create_cargo,
    latest_handshake,
    wait_tunnel,
)
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.dataplane.tunnel import KEEPER_SCRIPT, received_bytes

pytestmark = [pytest.mark.docker, pytest.mark.slow]

VALID_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="  # wg(8)'s example key: a well-formed value
BAD_VALUE = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw"  # 42 chars of base64: too short for a key
OUTSIDE = "198.51.100.7"  # TEST-NET-2: exists only on the sink container below


def _config(private_key: str = VALID_KEY, public_key: str = VALID_KEY, extra_peer: str = "") -> str:
    return (
        "[Interface]\n"
        f"PrivateKey = {private_key}\n"
        "Address = 100.87.0.250/32\n"
        "DNS = 100.87.0.1\n"
        "\n[Peer]\n"
        f"PublicKey = {public_key}\n"
        "AllowedIPs = 100.87.0.0/24\n"
        "Endpoint = 127.0.0.1:51820\n"
        f"{extra_peer}"
    )


def _wait_exited(container, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        if container.status in ("exited", "dead"):
            return container.logs().decode(errors="replace")
        assert time.monotonic() < deadline, container.logs().decode(errors="replace")
        time.sleep(0.2)


def _run_cargo_files(container) -> list[str]:
    stream, _ = container.get_archive("/run/cargo")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        return sorted(m.name for m in tar.getmembers())


@pytest.mark.parametrize(
    ("config", "secret", "message"),
    [
        (
            _config(private_key=BAD_VALUE),
            BAD_VALUE,
            "PrivateKey in the WireGuard config is not a valid key (44 characters of base64); "
            "value not shown",
        ),
        # 44 characters and the shape of a key, but its last digit has bits beyond the 32 bytes
        (
            _config(public_key=BAD_VALUE + "x="),
            BAD_VALUE,
            "PublicKey in the WireGuard config is not a valid key (44 characters of base64); value not shown",
        ),
        (
            _config(extra_peer=f"PersistentKeepalive = {BAD_VALUE}\n"),
            BAD_VALUE,
            "rejected the WireGuard config: Persistent keepalive interval is neither 0/off nor 1-65535",
        ),
    ],
    ids=["private-key", "public-key", "other-field"],
)
def test_a_rejected_config_is_explained_without_its_values(bed, config, secret, message, request):
    name = bed.name(f"bad-{request.node.callspec.id}")
    made = create_cargo(bed.engine, name=name, network=bed.project_net, wg_config=config, labels=bed.labels)
    cargo = bed.client.containers.get(made)
    try:
        logs = _wait_exited(cargo)
        assert message in logs, logs
        assert secret not in logs and secret[:20] not in logs and VALID_KEY[:20] not in logs, logs
        with pytest.raises(ProviderError) as failure:  # what the user sees
            wait_tunnel(bed.engine, cargo.id, 5)
        assert message in str(failure.value) and secret[:20] not in str(failure.value)
        # The stripped copy holding the private key is gone although `wg setconf` failed.
        assert "cargo/setconf" not in _run_cargo_files(cargo)
    finally:
        cargo.remove(force=True)


def test_a_config_readable_by_others_is_refused(bed):
    made = create_cargo(
        bed.engine,
        name=bed.name("mode"),
        network=bed.project_net,
        wg_config=_config(),
        labels=bed.labels,
        start=False,
    )
    cargo = bed.client.containers.get(made)
    try:
        put_files(bed.engine, cargo.id, {"/etc/gefyra/wg0.conf": _config()}, mode=0o644)
        cargo.start()
        logs = _wait_exited(cargo)
        assert "WireGuard config /etc/gefyra/wg0.conf has mode 644" in logs, logs
        assert "must be mode 600 (or tighter)" in logs, logs
        assert "using wireguard-go" not in logs  # refused before anything was set up
    finally:
        cargo.remove(force=True)


def test_cargo_killed_and_started_again_comes_back(bed):
    """SIGKILL leaves wireguard-go's socket in the container layer; the next start must not trust it."""
    cargo = bed.start_cargo(peer="killed", role="killed", routed=False)
    try:
        cargo.kill()
        cargo.reload()
        assert cargo.status == "exited"
        started = int(time.time())
        cargo.start()
        wait_tunnel(bed.engine, cargo.id, 30, since=started - 1)
        healthy, why = cargo_health(bed.engine, cargo.id)
        assert healthy, (why, cargo.logs(tail=20).decode(errors="replace"))
    finally:
        cargo.remove(force=True)
        bed.api.delete_peer("killed")


def test_a_restarted_cargo_starts_with_empty_run_folders(bed):
    """The ready marker and wireguard-go's socket of the previous run must not exist even for the first
    instant of the next: a `wg` trusting either could reach wireguard-go before it listens."""
    cargo = bed.start_cargo(peer="runtmp", role="runtmp", routed=False)
    try:
        canaries = ["/run/cargo/canary", "/run/wireguard/canary"]
        assert cargo.exec_run(["touch", *canaries]).exit_code == 0
        cargo.kill()
        started = int(time.time())
        cargo.start()
        wait_tunnel(bed.engine, cargo.id, 30, since=started - 1)
        left = cargo.exec_run(["ls", *canaries]).output.decode(errors="replace")
        assert "No such file" in left and "canary\n" not in left, left
    finally:
        cargo.remove(force=True)
        bed.api.delete_peer("runtmp")


# Logs each `wg` run while the ready marker is missing (with its parent's command line), then runs wg.
_WG_SPY = """#!/bin/sh
[ -e /run/cargo/ready ] || echo "$* <- $(tr '\\0' ' ' </proc/$PPID/cmdline)" >>/tmp/wg-early
exec /usr/bin/wg "$@"
"""


def test_nothing_of_gefyra_runs_wg_before_cargo_is_ready(bed):
    """Before the ready marker, wireguard-go may have bound its control socket without listening yet; a `wg`
    connecting then unlinks it and wireguard-go exits. gefyra's readers say "unknown" instead."""
    cargo = bed.start_cargo(peer="early", role="early", routed=False)
    try:
        put_files(bed.engine, cargo.id, {"/usr/local/bin/wg": _WG_SPY}, mode=0o755)
        assert latest_handshake(bed.engine, cargo.id) > 0  # through the spy, ready: the readers work
        assert cargo.exec_run(["rm", "/run/cargo/ready"]).exit_code == 0
        assert latest_handshake(bed.engine, cargo.id) == 0
        assert received_bytes(bed.engine, cargo.id) == -1
        refused = cargo.exec_run([KEEPER_SCRIPT, "rehandshake"])
        assert refused.exit_code == 1 and b"still starting" in refused.output, refused.output
        assert cargo_health(bed.engine, cargo.id) == (False, "starting")
        early = cargo.exec_run(["sh", "-c", "cat /tmp/wg-early 2>/dev/null || true"]).output.decode()
        others = [line for line in early.splitlines() if not line.rstrip().endswith("cargo-keeper.sh keep")]
        assert others == [], early
    finally:
        cargo.remove(force=True)
        bed.api.delete_peer("early")


def test_health_fails_when_the_tunnel_interface_is_down(bed):
    cargo = bed.start_cargo(peer="health", role="health", routed=False)
    try:
        healthy, why = cargo_health(bed.engine, cargo.id)
        assert healthy, why
        assert cargo.exec_run(["ip", "link", "set", "wg0", "down"]).exit_code == 0
        healthy, why = cargo_health(bed.engine, cargo.id)
        assert not healthy and why == "interface wg0 is not up", why
    finally:
        cargo.remove(force=True)
        bed.api.delete_peer("health")


def _dropped(cargo) -> int:
    """Packets Cargo's CARGO-FROM-TUNNEL chain dropped."""
    drops = cargo.exec_run(["iptables", "-w", "-nvxL", "CARGO-FROM-TUNNEL"]).output.decode()
    return sum(int(line.split()[0]) for line in drops.splitlines() if " DROP " in f" {line} ")


def _input_packets(container, destination: str) -> int:
    out = container.exec_run(["iptables", "-w", "-nvxL", "INPUT"]).output.decode()
    return sum(int(line.split()[0]) for line in out.splitlines() if f" {destination} " in f" {line} ")


def _send_udp_from_stowaway(bed, destination: str, count: int = 5) -> None:
    code = (
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        f"for _ in range({count}): s.sendto(b'x', ('{destination}', 9999))\n"
    )
    result = bed.containers["stowaway"].exec_run(["python3", "-c", code])
    assert result.exit_code == 0, result.output


def test_traffic_from_the_tunnel_reaches_the_project_network_only(bed):
    """Stowaway sends into the tunnel to an address outside the project subnet that Cargo could reach
    through eth0 (a route via a sink container standing in for the host's LAN): Cargo must drop it, while
    the same traffic to the sink's project address (through the main Cargo) arrives."""
    sink = bed.client.containers.create(
        image_tag("cargo"),
        name=bed.name("sink"),
        entrypoint=["sleep", "infinity"],
        network=bed.project_net,
        cap_add=["NET_ADMIN"],
        labels=bed.labels,
        healthcheck={"test": ["NONE"]},
        detach=True,
    )
    cargo = None
    try:
        sink.start()
        sink_ip = container_ip(bed.engine, sink.id, bed.project_net)
        for cmd in (
            ["ip", "address", "add", f"{OUTSIDE}/32", "dev", "lo"],
            ["iptables", "-w", "-A", "INPUT", "-d", OUTSIDE, "-p", "udp", "-j", "ACCEPT"],
            ["iptables", "-w", "-A", "INPUT", "-d", sink_ip, "-p", "udp", "-j", "ACCEPT"],
        ):
            assert sink.exec_run(cmd).exit_code == 0, cmd
        cargo = bed.start_cargo(peer="fwd", role="fwd", routed=False)
        bed.api.put_peer("fwd", routed_subnets=[f"{OUTSIDE}/32"])  # Stowaway sends OUTSIDE into this tunnel
        assert cargo.exec_run(["ip", "route", "add", f"{OUTSIDE}/32", "via", sink_ip]).exit_code == 0

        # Control: the sink counts what reaches it through the main Cargo at its project address (UDP may
        # lose the first datagrams while neighbours are resolved: send until some arrive).
        deadline = time.monotonic() + 10
        while _input_packets(sink, sink_ip) < 3:
            assert time.monotonic() < deadline, "nothing reached the sink through the tunnel"
            _send_udp_from_stowaway(bed, sink_ip, count=1)
            time.sleep(0.2)
        for _ in range(10):
            _send_udp_from_stowaway(bed, OUTSIDE, count=1)
            time.sleep(0.05)  # pacing, not waiting: ten separate datagrams
        # They come out of the tunnel in Cargo and go no further: wait until Cargo dropped them, then the
        # sink must have seen none.
        deadline = time.monotonic() + 10
        while (dropped := _dropped(cargo)) < 5:
            assert time.monotonic() < deadline, f"only {dropped} datagrams reached Cargo's drop rule"
            time.sleep(0.1)
        assert _input_packets(sink, OUTSIDE) == 0
    finally:
        sink.remove(force=True)
        if cargo is not None:
            cargo.remove(force=True)
            bed.api.delete_peer("fwd")


def test_stowaway_killed_and_started_again_comes_back(bed):
    """Last in this module: Stowaway's wireguard-go socket survives SIGKILL too."""
    stowaway = bed.containers["stowaway"]
    stowaway.kill()
    stowaway.reload()
    assert stowaway.status == "exited"
    stowaway.start()
    bed.api.wait_ready(30)
    assert "dev1" in {p.name for p in bed.api.peers()}
    deadline = time.monotonic() + 40
    while (stowaway.exec_run(["wg", "show", "wg0", "listen-port"]).output or b"").strip() != b"51820":
        assert time.monotonic() < deadline, stowaway.logs(tail=20).decode(errors="replace")
        time.sleep(0.5)
    stowaway.reload()
    assert stowaway.status == "running", stowaway.logs(tail=20).decode(errors="replace")

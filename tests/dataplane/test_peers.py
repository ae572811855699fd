"""Stowaway's control API: live peers (`wg set`), handshakes from `wg show dump`, auth, and no disturbance."""

from __future__ import annotations

import json
import threading
import time

import pytest

from gefyra.stowaway.client import StowawayClient, StowawayError
from tests.dataplane.testbed import HTTP_PORT, TCP_PORT

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _peers(bed) -> dict:
    return {p.name: p for p in bed.api.peers()}


def test_listing_shows_the_handshake_of_the_connected_peer(bed):
    peer = _peers(bed)["dev1"]
    assert peer.active and peer.latest_handshake > time.time() - 180
    assert peer.endpoint and peer.address == "100.87.0.2/32"


def test_wrong_or_missing_token_is_refused(bed):
    for token in ("", "not-the-token"):
        with pytest.raises(StowawayError) as caught:
            StowawayClient(bed.api.base_url, token).peers()
        assert caught.value.status == 401


def test_routed_subnet_of_another_peer_is_refused(bed):
    with pytest.raises(StowawayError) as caught:
        bed.api.put_peer("thief", routed_subnets=[bed.project_subnet])
    assert caught.value.status == 409 and "dev1" in str(caught.value)
    assert "thief" not in _peers(bed)


def test_routed_subnet_overlapping_the_cluster_network_is_refused(bed):
    """Routing it into the tunnel would replace Stowaway's own route to the cluster network."""
    with pytest.raises(StowawayError) as caught:
        bed.api.put_peer("hijack", routed_subnets=[bed.cluster_subnet])
    assert caught.value.status == 409 and bed.cluster_subnet in str(caught.value), caught.value
    assert "hijack" not in _peers(bed)
    code, out = bed.run_in("app", "get", f"http://{bed.ips['svc']}:{HTTP_PORT}/")
    assert (code, out.strip()) == (0, "hello from svc")


def test_put_peer_is_idempotent_and_keeps_the_keys(bed):
    first = bed.api.get_peer("dev1")
    again = bed.api.put_peer("dev1", routed_subnets=first.routed_subnets)
    assert again.public_key == first.public_key and again.address == first.address
    assert again.private_key.get_secret_value() == first.private_key.get_secret_value()


def _stowaway_identity(bed) -> tuple[str, int, str]:
    """What a restart of Stowaway (container or its wireguard-go) would change."""
    stowaway = bed.containers["stowaway"]
    stowaway.reload()
    pid = stowaway.exec_run(["pidof", "wireguard-go"])
    assert pid.exit_code == 0 and pid.output.strip(), pid.output
    return stowaway.attrs["State"]["StartedAt"], stowaway.attrs["RestartCount"], pid.output.decode().strip()


def _dump_counters(bed, public_key: str) -> tuple[int, int]:
    """rx/tx bytes of one peer straight from `wg show wg0 dump` (not through the control API)."""
    dump = bed.containers["stowaway"].exec_run(["wg", "show", "wg0", "dump"]).output.decode()
    for line in dump.splitlines()[1:]:
        fields = line.split("\t")
        if fields[0] == public_key:
            return int(fields[5]), int(fields[6])
    raise AssertionError(f"peer {public_key} missing from wg0")


def test_second_peer_comes_and_goes_while_the_first_streams_without_losing_a_byte(bed):
    """Live `wg set`, not a restart: TCP retransmits would hide a short restart from the stream check, so
    Stowaway's start time and wireguard-go's PID must not change, and the first peer's counters (which a
    restart resets) must never go down while the second peer comes and goes."""
    result: dict = {}
    samples: list[tuple[int, int]] = []
    sampling = threading.Event()

    def stream() -> None:
        result["run"] = bed.run_in("app", "echo", bed.ips["svc"], str(TCP_PORT), "7", "1024")

    def sample() -> None:
        while not sampling.is_set():
            peer = _peers(bed)["dev1"]
            samples.append((peer.rx_bytes, peer.tx_bytes))
            time.sleep(0.05)

    identity = _stowaway_identity(bed)
    dev1_key = _peers(bed)["dev1"].public_key
    dump_before = _dump_counters(bed, dev1_key)
    before = _peers(bed)["dev1"].rx_bytes
    worker = threading.Thread(target=stream)
    worker.start()
    deadline = time.monotonic() + 10
    while _peers(bed)["dev1"].rx_bytes < before + 256 * 1024:  # the stream flows through the tunnel
        assert time.monotonic() < deadline, "the stream did not start"
        time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        bed.start_cargo("dev2", role="cargo2", routed=False)  # a real second peer: keys, Cargo, handshake
        assert _peers(bed)["dev2"].latest_handshake > 0
        assert bed.api.delete_peer("dev2")
        assert "dev2" not in _peers(bed)
        assert worker.is_alive(), "the stream ended before the second peer was removed: make it longer"
    finally:
        sampling.set()
        sampler.join(10)

    worker.join(60)
    code, out = result["run"]
    echoed = json.loads(out)
    assert code == 0 and echoed["errors"] == [], echoed
    assert echoed["sent"] >= 6 * 1024 * 1024 and echoed["received"] == echoed["sent"] and echoed["intact"]
    bed.containers.pop("cargo2").remove(force=True)

    assert _stowaway_identity(bed) == identity, "Stowaway or its wireguard-go restarted"
    assert len(samples) >= 5, samples
    went_down = [(a, b) for a, b in zip(samples, samples[1:], strict=False) if b[0] < a[0] or b[1] < a[1]]
    assert not went_down, f"dev1's counters went down (a restart resets them): {went_down}"
    dump_after = _dump_counters(bed, dev1_key)
    # The whole stream went in and came back through dev1 since `dump_before`: nothing was reset in between.
    grown = [after - start for start, after in zip(dump_before, dump_after, strict=True)]
    assert all(delta >= echoed["sent"] for delta in grown), (dump_before, dump_after, echoed["sent"])


def test_removed_peer_is_gone_from_wireguard(bed):
    bed.api.put_peer("gone", routed_subnets=[])
    public = bed.api.get_peer("gone").public_key
    assert bed.api.delete_peer("gone")
    dump = bed.containers["stowaway"].exec_run(["wg", "show", "wg0", "peers"]).output.decode()
    assert public not in dump and bed.api.get_peer("gone") is None
    assert bed.api.delete_peer("gone") is False


def test_removed_peers_subnet_is_dropped_not_sent_into_the_cluster(bed):
    """A proxy route may still aim at a removed peer's app: its subnet must not fall back to Stowaway's
    default route (the cluster network); re-adding a peer with it routes it into the tunnel again."""
    # Invented and outside Docker's address pools (172.17-31/16, 192.168/16), so it never overlaps the
    # cluster network Docker happened to hand out; routed only inside Stowaway's namespace.
    subnet = "100.88.250.0/24"
    stowaway = bed.containers["stowaway"]
    route = lambda: stowaway.exec_run(["ip", "-4", "route", "get", "100.88.250.7"])  # noqa: E731
    bed.api.put_peer("leaver", routed_subnets=[subnet])
    assert b"dev wg0" in route().output
    assert bed.api.delete_peer("leaver")
    gone = route()
    assert gone.exit_code != 0 and b"dev eth0" not in gone.output, gone.output
    bed.api.put_peer("leaver", routed_subnets=[subnet])
    try:
        assert b"dev wg0" in route().output
    finally:
        bed.api.delete_peer("leaver")

"""The lease's sense of life (pure): received bytes between handshakes count, not only handshakes, which
WireGuard makes only every 2 minutes; a client_timeout shorter than that must not reap a live client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gefyra_operator import clients

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
CREATED = T0 - timedelta(minutes=10)
HANDSHAKE = int((T0 - timedelta(seconds=100)).timestamp())


def test_first_look_knows_no_change_yet():
    assert clients.traffic_seen(None, 500, T0) == (500, None)


def test_changed_bytes_are_a_sign_of_life_now():
    later = T0 + timedelta(seconds=10)
    assert clients.traffic_seen((500, None), 548, later) == (548, later)
    assert clients.traffic_seen((548, later), 548, later + timedelta(seconds=10)) == (548, later)


def test_keepalives_keep_a_client_alive_between_handshakes():
    seen = clients.traffic_seen(clients.traffic_seen(None, 500, T0), 548, T0 + timedelta(seconds=10))
    # 100s since the handshake, but bytes came in 10s ago: silent for 10s, under a 45s timeout
    now = T0 + timedelta(seconds=20)
    assert clients.silent_for(HANDSHAKE, seen[1], CREATED, now) == 10


def test_without_a_seen_change_the_handshake_decides():
    assert clients.silent_for(HANDSHAKE, None, CREATED, T0) == 100
    assert clients.silent_for(0, None, CREATED, T0) == 600  # never a handshake: since the client was made


def test_bytes_that_stopped_leave_the_client_silent_since_then():
    seen = clients.traffic_seen((500, None), 548, T0)
    for step in (10, 20, 60):
        seen = clients.traffic_seen(seen, 548, T0 + timedelta(seconds=step))
    assert clients.silent_for(HANDSHAKE, seen[1], CREATED, T0 + timedelta(seconds=60)) == 60

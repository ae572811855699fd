"""Stop Cargo mid-stream; starting it again restores the tunnel (same keys, same routes)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from gefyra.dataplane.models import ProxyRoute
from gefyra.providers.docker.dataplane.cargo import container_ip, wait_tunnel
from gefyra.providers.docker.dataplane.gateway import patch_default_route
from tests.dataplane.testbed import HTTP_PORT, TCP_PORT

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_cargo_stopped_mid_stream_and_started_again_restores_the_tunnel(bed):
    result: dict = {}

    def stream() -> None:
        result["run"] = bed.run_in("app", "echo", bed.ips["svc"], str(TCP_PORT), "30", "512")

    worker = threading.Thread(target=stream)
    worker.start()
    peer = lambda: {p.name: p for p in bed.api.peers()}["dev1"]  # noqa: E731
    before = peer().rx_bytes
    deadline = time.monotonic() + 10
    while peer().rx_bytes < before + 128 * 1024:
        assert time.monotonic() < deadline, "the stream did not start"
        time.sleep(0.1)

    cargo = bed.containers["cargo"]
    cargo.stop(timeout=2)
    worker.join(60)
    echoed = json.loads(result["run"][1])
    # The stream really used the tunnel: without Cargo it breaks.
    assert echoed["errors"] and echoed["received"] < 30 * 512 * 1024, echoed
    code, _ = bed.run_in("app", "get", f"http://{bed.ips['svc']}:{HTTP_PORT}/")
    assert code != 0

    restarted_at = int(time.time())
    cargo.start()
    wait_tunnel(bed.engine, cargo.id, 30, since=restarted_at - 1)
    # The app's route survives when Cargo keeps its address; patch again when it does not.
    patch_default_route(
        bed.engine, bed.containers["app"].id, container_ip(bed.engine, cargo.id, bed.project_net)
    )
    code, out = bed.run_in("app", "get", f"http://{bed.ips['svc']}:{HTTP_PORT}/")
    assert (code, out.strip()) == (0, "hello from svc")


def test_stowaway_restart_keeps_keys_peers_and_routes(bed):
    """Stowaway's state (keys, peers, routes) lives in /var/lib/stowaway: a restart restores all of it and
    Cargo's next handshake brings the tunnel back without a new peer config."""
    route = ProxyRoute(name="keep", listen_port=10111, target_host=bed.ips["app"], target_port=HTTP_PORT)
    bed.api.put_route(route)
    server_key = bed.api.server().public_key
    stowaway = bed.containers["stowaway"]
    stowaway.restart(timeout=2)
    bed.api.wait_ready(30)
    assert bed.api.server().public_key == server_key
    assert "dev1" in {p.name for p in bed.api.peers()}
    assert [r.name for r in bed.api.routes()] == ["keep"]
    # A new namespace after the restart: the address may change, Cargo follows the endpoint it was given.
    deadline = time.monotonic() + 40
    while True:
        code, out = bed.run_in(
            "app", "get", f"http://{container_ip(bed.engine, stowaway.id, bed.cluster_net)}:10111/"
        )
        if code == 0:
            break
        assert time.monotonic() < deadline, out
        time.sleep(0.5)
    assert out.strip() == "hello from app"  # app -> tunnel -> Stowaway's proxy port -> tunnel -> app
    bed.api.delete_route("keep")
    assert bed.api.routes() == []
    # The proxy port closes with the route (nginx reloads): a bounded wait until it stops answering.
    url = f"http://{container_ip(bed.engine, stowaway.id, bed.cluster_net)}:10111/"
    deadline = time.monotonic() + 15
    while bed.run_in("app", "get", url)[0] == 0:
        assert time.monotonic() < deadline, "port 10111 still answers after its route was deleted"
        time.sleep(0.5)
    code, out = bed.run_in("app", "get", url)  # closed for good, not one lost request
    assert code != 0 and "refused" in out.lower(), out

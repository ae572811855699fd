"""A silent tunnel: Stowaway's Pod is replaced (new address, same NodePort, same keys). The stand reaches
Stowaway through a kernel DNAT like kube-proxy's NodePort and swaps its target without flushing conntrack,
so a client that keeps sending from the same source port stays bound to the old, gone address (the worst
case; kube-proxy flushes UDP flows, Docker's userland proxy starts afresh). Cargo's keeper notices that
nothing comes back, re-handshakes from a new source port, and gefyra reports the silence meanwhile."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

import pytest

from gefyra import api
from gefyra.model import labels
from gefyra.providers.docker.dataplane.tunnel import TUNNEL_NOTE, parse_report, rehandshake
from gefyra.providers.docker.observe import read_notes
from tests.dataplane.faultkit import Prober, Watching, serving_app, wait_for, write_config
from tests.dataplane.testbed import (
    HTTP_PORT,
    Testbed,
    host_bridge_ip,
    new_run_id,
    project_containers,
    stowaway_settings,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]

DETECT_S = 30  # goal: a silent tunnel is reported within 30 s
RECOVER_S = 10  # goal: traffic is back within 10 s after Stowaway answers again


@pytest.fixture(scope="module")
def stand(docker_client, dataplane_images):
    bed = Testbed(docker_client, new_run_id("dps"), publish_ip=host_bridge_ip(docker_client), nodeport=True)
    try:
        bed.start_cluster()
        yield bed
    finally:
        bed.teardown()


@pytest.fixture(scope="module")
def project(stand, tmp_path_factory):
    folder = tmp_path_factory.mktemp("silent")
    name = f"t-st-{secrets.token_hex(3)}"
    write_config(folder, name, stand, {"app": serving_app()})
    with stowaway_settings(stand, folder):
        try:
            yield api.load(folder / "gefyra.yaml")
        finally:
            api.down(name)


def cargo_status(config):
    return next(r for r in api.status(config).resources if r.address == "cargo/default")


def silent_cargo(config):
    found = cargo_status(config)
    return found if not found.healthy and "tunnel silent" in found.detail else None


def test_a_replaced_stowaway_is_reported_and_the_tunnel_comes_back(stand, project):
    api.apply(project).raise_for_failures()
    app = project_containers(stand.client, project.project.name)["container/app"]
    prober = Prober(app, f"http://{stand.ips['svc']}:{HTTP_PORT}/", seconds=150)
    watching = Watching(project.source, drift_interval=2.0)
    try:
        assert prober.first_ok_after(time.time(), 20), "no request through the tunnel before the fault"
        assert cargo_status(project).healthy
        old_address = stand.ips["stowaway"]
        removed = time.time()
        state = stand.remove_stowaway()

        found = wait_for("the silent tunnel in `status`", lambda: silent_cargo(project), timeout=DETECT_S + 5)
        detected = time.time() - removed
        assert detected <= DETECT_S, detected
        assert found.state == "drifted", found
        cli = subprocess.run(
            [sys.executable, "-m", "gefyra", "status"],
            cwd=project.source.parent,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            timeout=60,
        )
        assert cli.returncode == 2, cli.stdout + cli.stderr
        assert "tunnel silent for" in cli.stdout and "cargo/default" in cli.stdout, cli.stdout
        # watch saw it too: its drift tick plans Cargo's in-place repair (a re-handshake, failing while
        # nobody answers)
        wait_for("watch's repair step", lambda: watching.steps("update:cargo/default"), timeout=15)

        stand.start_stowaway(state)  # returns once its control API answers: WireGuard is up before that
        answering = time.time()
        assert stand.ips["stowaway"] != old_address  # a new address behind the same NodePort
        back = prober.first_ok_after(answering, RECOVER_S + 20)
        assert back is not None, "no traffic through the tunnel after Stowaway came back"
        recovered = back - answering
        print(f"\nsilent tunnel: detected after {detected:.1f}s, traffic back after {recovered:.1f}s")
        assert recovered <= RECOVER_S, recovered
        wait_for("a healthy status again", lambda: cargo_status(project).healthy, timeout=15)
    finally:
        watching.close()


def test_a_rehandshake_escapes_a_stale_nat_flow(stand, engine):
    """gefyra's own repair (`update` of a silent Cargo) with the keeper's repair turned off: WireGuard keeps
    retrying from its old source port, which the stale NAT flow binds to the gone address; one re-handshake
    from a new source port brings the tunnel back at once."""
    cargo = stand.start_cargo("manual", role="manual", routed=False, env={"CARGO_REHANDSHAKE_AFTER": "3600"})
    try:

        def report():
            return parse_report(read_notes(engine, cargo.id, labels.NOTES_FOLDER).get(TUNNEL_NOTE, ""))

        assert report() is not None and report().state == "ok"
        port = report().port
        state = stand.remove_stowaway()
        wait_for("the keeper's silent report", lambda: report().state == "silent", timeout=25)
        stand.start_stowaway(state)
        started = time.monotonic()
        while time.monotonic() - started < 8:  # a bounded look: WireGuard's own retries stay unanswered
            assert report().state == "silent" and report().port == port
            time.sleep(1)
        answer = rehandshake(engine, cargo.id, "manual")
        assert answer.startswith("port ") and answer != f"port {port}"
        wait_for("the keeper's ok report", lambda: report().state == "ok", timeout=10)
    finally:
        cargo.remove(force=True)
        stand.api.delete_peer("manual")

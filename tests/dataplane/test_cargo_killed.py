"""Cargo's container killed mid-traffic: `watch` brings the tunnel back with the longest gap between
successful requests under 3 s. A killed Cargo is started again in place (its config, fixed address and
notes are in its container: nothing to create, copy or route again); a removed one is recreated, its app
namespaces routed in parallel while the handshake is awaited."""

from __future__ import annotations

import secrets
import statistics
import time

import pytest

from gefyra import api
from gefyra.planning.plan import Action
from tests.dataplane.faultkit import Prober, Watching, serving_app, wait_for, write_config
from tests.dataplane.testbed import HTTP_PORT, project_containers, stowaway_settings

pytestmark = [pytest.mark.docker, pytest.mark.slow]

GAP_S = 3.0  # goal: the longest gap between successful requests with watch running
RUNS = 5


@pytest.fixture(scope="module")
def project(cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("killed")
    name = f"t-ck-{secrets.token_hex(3)}"
    write_config(folder, name, cluster, {"app": serving_app(), "worker": serving_app()})
    with stowaway_settings(cluster, folder):
        try:
            yield api.load(folder / "gefyra.yaml")
        finally:
            api.down(name)


def cargo_of(cluster, project):
    return project_containers(cluster.client, project.project.name)["cargo/default"]


def test_a_killed_cargo_is_an_in_place_start(cluster, project):
    api.apply(project).raise_for_failures()
    cargo = cargo_of(cluster, project)
    cargo.kill()
    change = next(c for c in api.plan(project).changes if str(c.key) == "cargo/default")
    assert change.action is Action.UPDATE and change.cause.startswith("stopped (Exited (137)"), change
    api.apply(project).raise_for_failures()
    assert cargo_of(cluster, project).id == cargo.id
    assert not api.plan(project).has_changes


def test_watch_brings_a_killed_cargo_back_within_three_seconds(cluster, project):
    api.apply(project).raise_for_failures()
    app = project_containers(cluster.client, project.project.name)["container/app"]
    prober = Prober(app, f"http://{cluster.ips['svc']}:{HTTP_PORT}/", seconds=20 * RUNS + 10, period=0.1)
    # The watch reacts to the engine's `die` event (Engine.project_events); the 0.3 s drift tick is the safety
    # net should an event be missed while the loop re-subscribes.
    watching = Watching(project.source, drift_interval=0.3)
    gaps = []
    try:
        for _ in range(RUNS):
            assert prober.first_ok_after(time.time(), 20), "no traffic through the tunnel before the kill"
            cargo = cargo_of(cluster, project)
            killed = time.time()
            cargo.kill()
            back = prober.first_ok_after(killed + 0.2, 20)
            assert back is not None, "the tunnel did not come back"
            time.sleep(2.5)  # results arrive up to 2 s after their requests started
            gaps.append(prober.longest_gap(killed - 1, time.time() - 2.5))
            wait_for("the plan to settle", lambda: not api.plan(project).has_changes, timeout=20)
            assert cargo_of(cluster, project).id == cargo.id  # started again in place
    finally:
        watching.close()
    median = statistics.median(gaps)
    print(f"\nkilled Cargo: longest gaps {[round(g, 2) for g in gaps]} s, median {median:.2f} s")
    assert median < GAP_S, gaps


def test_a_removed_cargo_is_recreated_and_traffic_comes_back(cluster, project):
    api.apply(project).raise_for_failures()
    app = project_containers(cluster.client, project.project.name)["container/app"]
    prober = Prober(app, f"http://{cluster.ips['svc']}:{HTTP_PORT}/", seconds=30, period=0.1)
    assert prober.first_ok_after(time.time(), 20)
    cargo = cargo_of(cluster, project)
    removed = time.time()
    cargo.remove(force=True)
    started = time.monotonic()
    api.apply(project).raise_for_failures()
    applied = time.monotonic() - started
    back = prober.first_ok_after(removed + 0.2, 20)
    assert back is not None
    print(f"\nremoved Cargo: apply {applied:.2f} s, traffic back {back - removed:.2f} s after the removal")
    assert cargo_of(cluster, project).id != cargo.id
    assert not api.plan(project).has_changes

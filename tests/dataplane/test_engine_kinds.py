"""The kinds `connection` and `cargo` through the engine: apply brings up the tunnel and routes app containers
through Cargo; a stopped Cargo is started again by the next apply; down removes the peer at Stowaway too."""

from __future__ import annotations

import json
import secrets
import threading
import time

import pytest

from gefyra import api
from gefyra.dataplane.cargo_layout import cargo_address
from gefyra.dataplane.render import CARGO_DNS_ADDRESS
from gefyra.providers.docker.dataplane.gateway import default_gateway
from gefyra.providers.docker.dataplane.images import image_tag
from tests.dataplane.testbed import (
    HTTP_PORT,
    SVC_NAME,
    TCP_PORT,
    TESTKIT,
    project_containers,
    stowaway_settings,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def write_config(folder, name: str, cluster, greeting: str = "one") -> None:
    app = {
        "image": image_tag("carrier"),
        "command": ["python3", "/opt/testkit.py"],
        "args": ["serve", "--http", str(HTTP_PORT), "--tcp", str(TCP_PORT)],
        "mounts": [f"{TESTKIT}:/opt/testkit.py:ro"],
    }
    document = {
        "version": 1,
        "project": {"name": name},
        "cluster": {"endpoint": f"{cluster.publish_ip}:{cluster.wg_port}", "mtu": 1420},
        # Several app containers at once; `GREETING` lets a test force a replace of `app`.
        "containers": {"app": {**app, "env": {"GREETING": greeting}}, "worker": app},
    }
    (folder / "gefyra.yaml").write_text(json.dumps(document))


@pytest.fixture(scope="module")
def project(cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("engine-project")
    name = f"t-dp-{secrets.token_hex(3)}"
    write_config(folder, name, cluster)
    with stowaway_settings(cluster, folder):
        try:
            yield api.load(folder / "gefyra.yaml")
        finally:
            api.down(name)


def _get(client, app, url: str) -> tuple[int, str]:
    result = app.exec_run(["python3", "/opt/testkit.py", "get", url])
    return result.exit_code, result.output.decode(errors="replace")


def test_apply_brings_up_the_tunnel_and_routes_the_app(cluster, project):
    outcome = api.apply(project)
    outcome.raise_for_failures()
    client = cluster.client
    made = project_containers(client, project.project.name)
    assert {"connection/default", "cargo/default", "container/app", "container/worker"} <= set(made)
    assert made["connection/default"].status == "created"  # the holder never runs
    # The app lives in its infra container's namespace; DNS settings are the infra's (Docker shares them).
    infra = made["infra/container.app"]
    assert made["container/app"].attrs["HostConfig"]["NetworkMode"] == f"container:{infra.id}"
    host = infra.attrs["HostConfig"]
    assert host["Dns"] == [CARGO_DNS_ADDRESS]
    assert host["DnsSearch"] == ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    subnet = client.networks.get(f"gefyra-{project.project.name}").attrs["IPAM"]["Config"][0]["Subnet"]
    cargo_ip = cargo_address(subnet)
    assert (
        made["cargo/default"].attrs["NetworkSettings"]["Networks"][f"gefyra-{project.project.name}"][
            "IPAddress"
        ]
        == cargo_ip
    )
    assert default_gateway(cluster.engine, made["container/app"].id) == cargo_ip
    assert default_gateway(cluster.engine, made["container/worker"].id) == cargo_ip
    assert _get(client, made["container/app"], f"http://{cluster.ips['svc']}:{HTTP_PORT}/") == (
        0,
        "hello from svc\n",
    )
    peers = {p.name: p for p in cluster.api.peers()}
    assert peers[project.project.name].latest_handshake > 0


def test_app_resolves_cluster_names_through_cargo(cluster, project):
    app = project_containers(cluster.client, project.project.name)["container/app"]
    for name in (SVC_NAME, "svc-a"):  # full name, and the short one through the search domains
        result = app.exec_run(["python3", "/opt/testkit.py", "resolve", name])
        assert (result.exit_code, result.output.decode().strip()) == (0, cluster.ips["svc"])
    result = app.exec_run(["python3", "/opt/testkit.py", "resolve", "example.com"])
    assert result.exit_code == 2, result.output


def test_run_container_resolves_cluster_names_through_cargo(cluster, project):
    """`gefyra run` gets what an app container gets: Cargo as gateway and as DNS server, Pod-like search."""
    docker_name = api.run(
        project.project.name,
        image=image_tag("carrier"),
        name="oneoff",
        command=["python3", "/opt/testkit.py"],
        args=["serve", "--http", str(HTTP_PORT), "--tcp", str(TCP_PORT)],
        mounts=[f"{TESTKIT}:/opt/testkit.py:ro"],
        config=project,
    )
    try:
        made = project_containers(cluster.client, project.project.name)
        oneoff = made["run/oneoff"]
        assert oneoff.name == docker_name
        infra = made["infra/run.oneoff"]
        assert oneoff.attrs["HostConfig"]["NetworkMode"] == f"container:{infra.id}"
        assert infra.attrs["HostConfig"]["Dns"] == [CARGO_DNS_ADDRESS]
        assert default_gateway(cluster.engine, oneoff.id) == cargo_address(
            cluster.client.networks.get(f"gefyra-{project.project.name}").attrs["IPAM"]["Config"][0]["Subnet"]
        )
        for name in (SVC_NAME, "svc-a"):
            result = oneoff.exec_run(["python3", "/opt/testkit.py", "resolve", name])
            assert (result.exit_code, result.output.decode().strip()) == (0, cluster.ips["svc"])
        result = oneoff.exec_run(["python3", "/opt/testkit.py", "resolve", "example.com"])
        assert result.exit_code == 2, result.output  # Docker's embedded DNS would forward it to the host
    finally:
        cluster.client.containers.get(docker_name).remove(force=True)


def test_second_plan_has_no_changes(cluster, project):
    assert not api.plan(project).has_changes


def test_restarted_app_is_routed_again(cluster, project):
    app = project_containers(cluster.client, project.project.name)["container/app"]
    started = app.attrs["State"]["StartedAt"]
    api.restart(project, "app")
    made = project_containers(cluster.client, project.project.name)
    # Really restarted (a fresh network namespace without the route), else the check below proves nothing.
    assert made["container/app"].attrs["State"]["StartedAt"] != started
    assert _get(cluster.client, made["container/app"], f"http://{cluster.ips['svc']}:{HTTP_PORT}/") == (
        0,
        "hello from svc\n",
    )
    assert (
        default_gateway(cluster.engine, made["container/app"].id)
        == made["cargo/default"].attrs["NetworkSettings"]["Networks"][f"gefyra-{project.project.name}"][
            "IPAddress"
        ]
    )


def test_app_restarted_outside_gefyra_keeps_its_route(cluster, project):
    """`docker restart` of an app keeps the namespace (its infra container's) and so the route: nothing to
    plan. (A restart of the infra container itself is drift: test_race_free_routing.)"""
    client = cluster.client
    made = project_containers(client, project.project.name)
    app, cargo = made["container/app"], made["cargo/default"]
    cargo_ip = cargo.attrs["NetworkSettings"]["Networks"][f"gefyra-{project.project.name}"]["IPAddress"]
    app.restart(timeout=1)
    assert default_gateway(cluster.engine, app.id) == cargo_ip
    assert _get(client, app, f"http://{cluster.ips['svc']}:{HTTP_PORT}/") == (0, "hello from svc\n")
    assert not api.plan(project).has_changes


def test_recreated_app_is_routed_again(cluster, project):
    folder = project.source.parent
    write_config(folder, project.project.name, cluster, greeting="two")
    changed = api.load(folder / "gefyra.yaml")
    before = project_containers(cluster.client, project.project.name)["container/app"].id
    api.apply(changed).raise_for_failures()
    made = project_containers(cluster.client, project.project.name)
    assert made["container/app"].id != before  # replaced, not restarted
    gateway = default_gateway(cluster.engine, made["container/app"].id)
    assert (
        gateway
        == made["cargo/default"].attrs["NetworkSettings"]["Networks"][f"gefyra-{project.project.name}"][
            "IPAddress"
        ]
    )
    write_config(folder, project.project.name, cluster)  # back to what the other tests expect
    api.apply(project).raise_for_failures()


def test_cargo_stopped_mid_stream_is_brought_back_by_apply(cluster, project):
    client = cluster.client
    made = project_containers(client, project.project.name)
    app, cargo = made["container/app"], made["cargo/default"]
    result: dict = {}

    def stream() -> None:
        command = ["python3", "/opt/testkit.py", "echo", cluster.ips["svc"], str(TCP_PORT), "30", "512"]
        run = app.exec_run(command)
        result["out"] = run.output.decode()

    worker = threading.Thread(target=stream)
    worker.start()
    peer = lambda: {p.name: p for p in cluster.api.peers()}[project.project.name]  # noqa: E731
    start, deadline = peer().rx_bytes, time.monotonic() + 10
    while peer().rx_bytes < start + 128 * 1024:
        assert time.monotonic() < deadline, "the stream did not start"
        time.sleep(0.1)
    cargo.stop(timeout=1)
    worker.join(60)
    assert json.loads(result["out"])["errors"], result  # the stream went through Cargo: it broke

    plan = api.plan(project)
    assert "cargo/default" in str(plan) and plan.has_changes
    api.apply(project).raise_for_failures()
    assert _get(client, app, f"http://{cluster.ips['svc']}:{HTTP_PORT}/") == (0, "hello from svc\n")
    assert not api.plan(project).has_changes


def test_down_without_the_stowaway_settings_still_removes_the_local_side(cluster, project, monkeypatch):
    """A peer at Stowaway that `down` cannot reach stays there (nothing reaps peers before the Operator);
    nothing local remains."""
    api.apply(project).raise_for_failures()
    monkeypatch.delenv("GEFYRA_STOWAWAY_URL")
    api.down(project.project.name)
    assert project_containers(cluster.client, project.project.name) == {}
    assert project.project.name in {p.name for p in cluster.api.peers()}


def test_down_removes_everything_and_the_peer(cluster, project):
    api.apply(project).raise_for_failures()
    api.down(project.project.name)
    assert project_containers(cluster.client, project.project.name) == {}
    assert project.project.name not in {p.name for p in cluster.api.peers()}

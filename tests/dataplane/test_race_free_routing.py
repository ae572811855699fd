"""A container has its route through Cargo and its DNS before its process runs: one-off `gefyra run`
containers and app containers from gefyra.yaml that resolve and fetch a cluster Service as their very first
action succeed every time (each joins a network namespace held by an infra container that was routed before
it started, as a Pod's containers join its sandbox)."""

from __future__ import annotations

import json
import secrets
import socket
import time

import pytest

from gefyra import api
from gefyra.model import labels
from gefyra.providers.docker.dataplane.gateway import default_gateway
from gefyra.providers.docker.dataplane.images import image_tag
from tests.dataplane.testbed import HTTP_PORT, TESTKIT, free_port, project_containers, stowaway_settings

pytestmark = [pytest.mark.docker, pytest.mark.slow]

URL = f"http://svc-a:{HTTP_PORT}/"  # a short cluster name: resolved through Cargo's DNS and search domains
FIRST = f"python3 /opt/testkit.py get {URL} >/tmp/first.txt 2>&1; echo rc=$? >>/tmp/first.txt"
RUNS = 20


def write_config(folder, name: str, cluster, containers: dict) -> None:
    document = {
        "version": 1,
        "project": {"name": name},
        "cluster": {"endpoint": f"{cluster.publish_ip}:{cluster.wg_port}"},
        "containers": containers,
    }
    (folder / "gefyra.yaml").write_text(json.dumps(document))


def first_action_app() -> dict:
    """An app whose first action is the fetch; it keeps running afterwards (so the plan converges)."""
    return {
        "image": image_tag("carrier"),
        "command": ["sh", "-c"],
        "args": [f"{FIRST}; exec sleep infinity"],
        "mounts": [f"{TESTKIT}:/opt/testkit.py:ro"],
    }


@pytest.fixture(scope="module")
def project(cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("race-free")
    name = f"t-rf-{secrets.token_hex(3)}"
    write_config(folder, name, cluster, {"first": first_action_app()})
    with stowaway_settings(cluster, folder):
        try:
            yield api.load(folder / "gefyra.yaml")
        finally:
            api.down(name)


def wait_exit(client, name: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = client.api.inspect_container(name)["State"]
        if state["Status"] == "exited":
            return state
        assert time.monotonic() < deadline, f"{name} still {state['Status']} after {timeout}s"
        time.sleep(0.1)


def read_first(container) -> str:
    """What the app's first action printed (polls until it wrote its exit code)."""
    deadline = time.monotonic() + 30
    while True:
        result = container.exec_run(["cat", "/tmp/first.txt"])
        text = result.output.decode(errors="replace")
        if result.exit_code == 0 and "rc=" in text:
            return text
        assert time.monotonic() < deadline, text
        time.sleep(0.1)


def test_an_app_container_reaches_the_cluster_with_its_first_packets(cluster, project):
    api.apply(project).raise_for_failures()
    app = project_containers(cluster.client, project.project.name)["container/first"]
    assert read_first(app) == "hello from svc\nrc=0\n"
    assert not api.plan(project).has_changes


def test_one_off_containers_reach_the_cluster_with_their_first_packets(cluster, project):
    api.apply(project).raise_for_failures()
    failures = []
    for index in range(RUNS):
        name = api.run(
            project.project.name,
            image=image_tag("carrier"),
            name=f"first-{index}",
            command=["python3", "/opt/testkit.py"],
            args=["get", URL],
            mounts=[f"{TESTKIT}:/opt/testkit.py:ro"],
            config=project,
        )
        state = wait_exit(cluster.client, name)
        output = cluster.client.api.logs(name).decode(errors="replace")
        if state["ExitCode"] != 0 or output != "hello from svc\n":
            failures.append((name, state["ExitCode"], output))
        cluster.client.api.remove_container(name, force=True)
    assert failures == [], f"{len(failures)} of {RUNS} failed: {failures[:3]}"
    left = project_containers(cluster.client, project.project.name)
    assert len([key for key in left if key.startswith("infra/run.")]) <= 1  # finished one-offs' are collected


def test_an_app_restart_keeps_its_route(cluster, project):
    api.apply(project).raise_for_failures()
    made = project_containers(cluster.client, project.project.name)
    app = made["container/first"]
    assert app.exec_run(["rm", "/tmp/first.txt"]).exit_code == 0
    app.restart(timeout=0)  # outside gefyra: the namespace is the infra container's and keeps its route
    assert read_first(app) == "hello from svc\nrc=0\n"
    assert not api.plan(project).has_changes


def test_an_infra_restarted_outside_gefyra_is_drift_that_apply_repairs(cluster, project):
    """The namespace holder's own restart is the drift case: a fresh namespace without the route, and the
    app left in the old one. The plan names it, apply routes the holder again and restarts the app."""
    api.apply(project).raise_for_failures()
    made = project_containers(cluster.client, project.project.name)
    infra, app = made["infra/container.first"], made["container/first"]
    infra.restart(timeout=0)
    planned = api.plan(project)
    change = next(c for c in planned.changes if str(c.key) == "cargo/default")
    assert (change.action.value, change.cause) == ("update", "container/first is not routed through Cargo")
    api.apply(project).raise_for_failures()
    assert read_first(app) == "hello from svc\nrc=0\n"  # restarted into the routed namespace
    cargo = made["cargo/default"]
    cargo.reload()
    assert (
        default_gateway(cluster.engine, infra.id)
        == next(iter(cargo.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
    )
    assert not api.plan(project).has_changes


def test_a_replaced_app_joins_its_infra_container_again(cluster, project):
    """A new env replaces the app; its namespace settings are unchanged, so it joins the running infra
    container again (routed already: its first packets reach the cluster). A new host port remakes the
    infra container, routed before the app starts."""
    folder, name = project.source.parent, project.project.name
    api.apply(project).raise_for_failures()
    before = project_containers(cluster.client, name)
    try:
        changed = api.load(_rewrite(folder, name, cluster, env={"VERSION": "2"}))
        since = time.time_ns()
        api.apply(changed).raise_for_failures()
        after = project_containers(cluster.client, name)
        kept = after["infra/container.first"].id
        assert _helpers_made(cluster.client, since, kept) == 0  # the kept namespace is not routed again
        assert after["container/first"].id != before["container/first"].id
        assert after["infra/container.first"].id == before["infra/container.first"].id
        assert read_first(after["container/first"]) == "hello from svc\nrc=0\n"
        assert not api.plan(changed).has_changes

        since = time.time_ns()
        port = free_port("127.0.0.1", socket.SOCK_STREAM)
        ports = [f"127.0.0.1:{port}:80"]
        published = api.load(_rewrite(folder, name, cluster, env={"VERSION": "2"}, ports=ports))
        api.apply(published).raise_for_failures()
        remade = project_containers(cluster.client, name)
        assert remade["infra/container.first"].id != before["infra/container.first"].id
        assert read_first(remade["container/first"]) == "hello from svc\nrc=0\n"
        new = remade["infra/container.first"].id
        assert _helpers_made(cluster.client, since, new) == 1  # the new namespace was routed
        bound = remade["infra/container.first"].ports["80/tcp"]
        assert [(b["HostIp"], b["HostPort"]) for b in bound] == [("127.0.0.1", str(port))]
        assert not api.plan(published).has_changes
        held = cluster.client.api.containers(
            all=True, filters={"label": [f"{labels.PROJECT}={name}", f"{labels.NAME}=container.first"]}
        )
        assert len(held) == 1  # the new infra container: the former one is gone
    finally:
        api.apply(api.load(_rewrite(folder, name, cluster))).raise_for_failures()


def _rewrite(folder, name: str, cluster, **extra) -> str:
    write_config(folder, name, cluster, {"first": {**first_action_app(), **extra}})
    return str(folder / "gefyra.yaml")


def _helpers_made(client, since_ns: int, target: str) -> int:
    """Helper containers the engine created in `target`'s namespace from `since_ns` (time.time_ns) on."""
    events = client.events(
        since=since_ns // 1_000_000_000 - 1,
        until=int(time.time()) + 1,
        decode=True,
        filters={"type": "container", "event": "create", "label": [f"{labels.HELPER_FOR}={target}"]},
    )
    return sum(1 for event in events if event["timeNano"] >= since_ns)

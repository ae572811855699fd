"""Drift made by hand with the Docker CLI's verbs: a container disconnected from the project network (an app's
infra container, a plain app of a project without a cluster, Cargo) or renamed. `plan` names it, `status`
exits 2 with the reason, and `apply` repairs it: in place (rename back, connect again and route through
Cargo) for apps, infra containers and the peer holder; by a replace for Cargo (attachment.py says why)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import urllib.request

import pytest

from gefyra import api
from gefyra.planning.plan import Action
from gefyra.providers.docker.dataplane.gateway import default_gateway
from gefyra.render.plan_text import render
from tests.dataplane.faultkit import serving_app, write_config
from tests.dataplane.testbed import HTTP_PORT, free_port, project_containers, stowaway_settings

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def project(cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("by-hand")
    name = f"t-bh-{secrets.token_hex(3)}"
    write_config(folder, name, cluster, {"app": serving_app()})
    with stowaway_settings(cluster, folder):
        try:
            yield api.load(folder / "gefyra.yaml")
        finally:
            api.down(name)


def change_of(config, address: str):
    planned = api.plan(config)
    return next(c for c in planned.changes if str(c.key) == address), render(planned)


def cli_status(config) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gefyra", "status"],
        cwd=config.source.parent,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )


def reaches_the_cluster(cluster, app) -> bool:
    result = app.exec_run(["python3", "/opt/testkit.py", "get", f"http://{cluster.ips['svc']}:{HTTP_PORT}/"])
    return (result.exit_code, result.output.decode(errors="replace")) == (0, "hello from svc\n")


def test_an_infra_container_disconnected_by_hand_is_reconnected_and_routed(cluster, project):
    api.apply(project).raise_for_failures()
    made = project_containers(cluster.client, project.project.name)
    app, infra = made["container/app"], made["infra/container.app"]
    network = f"gefyra-{project.project.name}"
    cluster.client.networks.get(network).disconnect(infra.id, force=True)
    assert not reaches_the_cluster(cluster, app)  # the app lost its network with its namespace holder

    change, text = change_of(project, "container/app")
    why = f"its infra container not attached to network {network} (left with no network)"
    assert (change.action, change.cause) == (Action.UPDATE, why)
    assert f"~ container/app  (update in place) {why}" in text
    status = cli_status(project)
    assert status.returncode == 2 and why in status.stdout, status.stdout + status.stderr

    started = app.attrs["State"]["StartedAt"]
    api.apply(project).raise_for_failures()
    app.reload()
    assert app.attrs["State"]["StartedAt"] == started  # repaired in place: the app kept running
    assert reaches_the_cluster(cluster, app)
    cargo = project_containers(cluster.client, project.project.name)["cargo/default"]
    assert (
        default_gateway(cluster.engine, infra.id)
        == (cargo.attrs["NetworkSettings"]["Networks"][network]["IPAddress"])
    )
    assert not api.plan(project).has_changes
    assert cli_status(project).returncode == 0


def test_containers_renamed_by_hand_get_their_names_back(cluster, project):
    api.apply(project).raise_for_failures()
    made = project_containers(cluster.client, project.project.name)
    expected = {address: made[address].name for address in made}
    for address in ("container/app", "infra/container.app", "cargo/default", "connection/default"):
        made[address].rename(f"{made[address].name.replace('.', '-')}-renamed")

    planned = api.plan(project)
    causes = {str(c.key): (c.action, c.cause) for c in planned.changes if c.action is not Action.UNCHANGED}
    name = expected["container/app"]
    assert causes == {
        "container/app": (
            Action.UPDATE,
            f"renamed to {name}-renamed by hand (gefyra names it {name}); its infra container renamed to "
            f"{name}-infra-renamed by hand (gefyra names it {name}.infra)",
        ),
        "cargo/default": (
            Action.UPDATE,
            f"renamed to {expected['cargo/default'].replace('.', '-')}-renamed by hand "
            f"(gefyra names it {expected['cargo/default']})",
        ),
        "connection/default": (
            Action.UPDATE,
            f"renamed to {expected['connection/default'].replace('.', '-')}-renamed by hand "
            f"(gefyra names it {expected['connection/default']})",
        ),
    }
    assert cli_status(project).returncode == 2

    api.apply(project).raise_for_failures()
    after = project_containers(cluster.client, project.project.name)
    assert {address: after[address].name for address in after} == expected
    assert {address: after[address].id for address in after} == {a: made[a].id for a in made}  # in place
    assert not api.plan(project).has_changes
    assert reaches_the_cluster(cluster, after["container/app"])


def test_cargo_disconnected_by_hand_is_replaced(cluster, project):
    api.apply(project).raise_for_failures()
    made = project_containers(cluster.client, project.project.name)
    network = f"gefyra-{project.project.name}"
    cluster.client.networks.get(network).disconnect(made["cargo/default"].id, force=True)
    assert not reaches_the_cluster(cluster, made["container/app"])

    change, _ = change_of(project, "cargo/default")
    why = f"cargo is running: not attached to network {network} (left with no network)"
    assert (change.action, change.cause) == (Action.REPLACE, why)
    api.apply(project).raise_for_failures()
    assert reaches_the_cluster(cluster, made["container/app"])
    assert not api.plan(project).has_changes


def test_a_plain_app_disconnected_by_hand_is_reconnected_with_its_port(docker_client, tmp_path):
    """A project without a cluster: the app has its own namespace on the project network and a published
    port; both come back in place."""
    name = f"t-bh-{secrets.token_hex(3)}"
    port = free_port("127.0.0.1", socket.SOCK_STREAM)
    app = serving_app(ports=[f"127.0.0.1:{port}:{HTTP_PORT}"])
    document = {"version": 1, "project": {"name": name}, "containers": {"web": app}}
    (tmp_path / "gefyra.yaml").write_text(json.dumps(document))
    config = api.load(tmp_path / "gefyra.yaml")
    try:
        api.apply(config).raise_for_failures()
        web = project_containers(docker_client, name)["container/web"]
        docker_client.networks.get(f"gefyra-{name}").disconnect(web.id, force=True)
        assert not _answers(port)

        change, _ = change_of(config, "container/web")
        assert (change.action, change.cause) == (
            Action.UPDATE,
            f"not attached to network gefyra-{name} (left with no network)",
        )
        status = cli_status(config)
        assert status.returncode == 2 and "not attached to network" in status.stdout, status.stdout
        api.apply(config).raise_for_failures()
        web.reload()
        assert f"gefyra-{name}" in web.attrs["NetworkSettings"]["Networks"]
        assert "web" in web.attrs["NetworkSettings"]["Networks"][f"gefyra-{name}"]["Aliases"]
        assert _answers(port)
        assert not api.plan(config).has_changes
    finally:
        api.down(name)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as response:
            return response.read().startswith(b"hello from")
    except OSError:
        return False

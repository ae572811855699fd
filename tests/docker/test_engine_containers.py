"""What a container gets (build, command, args, env_file + env, mounts, ports, workdir, user, labels), errors
before anything is made, the subnet choice, and the post-start hook."""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from gefyra import api
from gefyra.errors import ConfigError, ProviderError
from gefyra.model import labels
from gefyra.model.resources import Resource
from gefyra.providers.base import PostStartHook, Snapshot, StepContext
from gefyra.providers.docker.container import KIND as CONTAINERS
from gefyra.providers.docker.engine import Engine
from gefyra.providers.docker.subnet import docker_subnets, host_routes
from tests.docker.engine_helpers import SLEEPER, wait_for

pytestmark = pytest.mark.docker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_container_gets_every_field_of_gefyra_yaml(engine_project) -> None:
    folder = engine_project.folder
    (folder / "app").mkdir()
    (folder / "app" / "Dockerfile").write_text('FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n')
    (folder / "data").mkdir()
    (folder / "data" / "hello.txt").write_text("hi from the host\n")
    (folder / "app.env").write_text("FROM_FILE=1\nOVERRIDDEN=file\n")
    port = _free_port()
    engine_project.write(
        {
            "web": {
                "build": "app",
                "command": ["bash", "-c"],
                "args": ["cat /srv/hello.txt; exec sleep infinity"],
                "env_file": "app.env",
                "env": {"OVERRIDDEN": "env"},
                "mounts": ["./data:/srv:ro"],
                "ports": [f"127.0.0.1:{port}:8000"],
                "workdir": "/tmp",
                "user": "1000:1000",
            }
        }
    )
    api.apply(engine_project.load()).raise_for_failures()
    data = engine_project.containers()["web"]
    config = data["Config"]
    assert config["Entrypoint"] == ["bash", "-c"] and config["Cmd"][0].startswith("cat /srv")
    env = engine_project.env_of("web")
    assert (env["FROM_FILE"], env["OVERRIDDEN"]) == ("1", "env")
    assert config["WorkingDir"] == "/tmp" and config["User"] == "1000:1000"
    assert config["Image"].startswith(f"gefyra-{engine_project.name}-web:")
    mount = data["Mounts"][0]
    assert (mount["Source"], mount["Destination"], mount["RW"]) == (str(folder / "data"), "/srv", False)
    assert data["HostConfig"]["PortBindings"] == {
        "8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    }
    assert {labels.PROJECT, labels.KIND, labels.NAME, labels.SPEC_HASH} <= set(config["Labels"])
    network = data["NetworkSettings"]["Networks"][f"gefyra-{engine_project.name}"]
    assert "web" in network["Aliases"]
    wait_for(
        "the mounted file in the logs",
        lambda: b"hi from the host" in engine_project.client.api.logs(data["Id"]),
    )
    assert api.plan(engine_project.load()).has_changes is False  # the built image is not rebuilt


def test_a_changed_build_context_rebuilds_and_replaces(engine_project) -> None:
    folder = engine_project.folder
    (folder / "app").mkdir()
    dockerfile = folder / "app" / "Dockerfile"
    dockerfile.write_text('FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n')
    engine_project.write({"web": {"build": "app"}})
    api.apply(engine_project.load()).raise_for_failures()
    first = engine_project.containers()["web"]
    dockerfile.write_text('FROM debian:bookworm-slim\nENV VERSION=2\nCMD ["sleep", "infinity"]\n')
    plan = api.plan(engine_project.load())
    assert [c.cause for c in plan.changes if c.action.value == "replace"] == [
        "build.context_hash changed, image changed, image_id changed"
    ]
    api.apply(engine_project.load()).raise_for_failures()
    assert engine_project.env_of("web")["VERSION"] == "2"
    assert engine_project.containers()["web"]["Image"] != first["Image"]


def test_missing_mount_source_fails_before_anything_is_created(engine_project) -> None:
    engine_project.write({"a": SLEEPER, "b": {**SLEEPER, "mounts": ["./nope:/data"]}})
    # the loader checks it now (file:line:col); the engine's own check stays for files that vanish later
    with pytest.raises(
        ConfigError, match=r"containers\.b(\.mounts\[0\])?: mount source .*nope does not exist"
    ):
        api.apply(engine_project.load())
    assert engine_project.labelled() == []


def test_auto_subnet_avoids_other_networks_and_routes_and_a_configured_one_is_used(
    engine_project, docker_client
) -> None:
    engine_project.write({"a": SLEEPER})
    before = _taken_subnets()
    api.apply(engine_project.load()).raise_for_failures()
    info = docker_client.api.inspect_network(f"gefyra-{engine_project.name}")
    chosen = ipaddress.ip_network(info["IPAM"]["Config"][0]["Subnet"])
    # Another suite on the engine makes and removes networks meanwhile: judge only the ones there before and
    # after the apply (so certainly during it).
    during = [net for net in before if net in _taken_subnets()]
    assert not any(chosen.overlaps(net) for net in during), (chosen, during)
    with _configured_subnet_turn():  # a second suite running this test picks after our network exists
        taken = _taken_subnets()
        free = next(
            ipaddress.ip_network(f"10.203.{i}.0/24")
            for i in range(256)
            if not any(ipaddress.ip_network(f"10.203.{i}.0/24").overlaps(net) for net in taken + [chosen])
        )
        engine_project.write({"a": SLEEPER}, network={"subnet": str(free)})
        outcome = api.apply(engine_project.load())
    outcome.raise_for_failures()
    assert [str(c.key) for c in outcome.plan.changes if c.action.value == "replace"] == [
        "network/default",
        "container/a",
    ]
    info = docker_client.api.inspect_network(f"gefyra-{engine_project.name}")
    assert info["IPAM"]["Config"][0]["Subnet"] == str(free)


def _taken_subnets() -> list[ipaddress.IPv4Network]:
    return [net for net in docker_subnets(Engine.from_env()) + host_routes() if net.prefixlen > 0]


@contextlib.contextmanager
def _configured_subnet_turn() -> Iterator[None]:
    """One suite at a time picks a free 10.203.x/24 and creates its network on it (a machine-wide flock)."""
    with open("/run/lock/gefyra-test-configured-subnet.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def test_post_start_hooks_run_on_create_and_on_restart(engine_project, docker_client) -> None:
    engine_project.write({"a": SLEEPER})
    config = engine_project.load()
    api.apply(config).raise_for_failures()  # the network
    calls: list[tuple[str, str]] = []

    def hook(ctx: StepContext, resource: Resource, container_id: str) -> None:
        state = docker_client.api.inspect_container(container_id)["State"]["Running"]
        calls.append((resource.name, container_id if state else "not running"))

    session = api.open_session(config)
    snapshot = api.observe(session, engine_project.name, config)
    desired = [r for r in api.desired(config, snapshot) if r.kind == "container"][0]
    ctx = StepContext(
        project=engine_project.name,
        session=session,
        snapshot=snapshot,
        config=config,
        hooks=[PostStartHook(name="test.record", kinds=("container",), run=hook)],
    )
    docker_client.api.remove_container(engine_project.ids()["a"], force=True)
    CONTAINERS.create(ctx, desired)
    created_id = engine_project.ids()["a"]
    actual = [r for r in CONTAINERS.read(api.observe(session, engine_project.name, config)) if r.name == "a"][
        0
    ]
    CONTAINERS.restart(ctx, actual)
    session.close()
    assert calls == [("a", created_id), ("a", created_id)]


def test_failing_post_start_hook_fails_the_step_naming_the_hook(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    config = engine_project.load()
    api.apply(config).raise_for_failures()

    def broken(ctx, resource, container_id) -> None:
        raise RuntimeError("no route")

    session = api.open_session(config)
    snapshot = api.observe(session, engine_project.name, config)
    desired = [r for r in api.desired(config, snapshot) if r.kind == "container"][0]
    ctx = StepContext(
        project=engine_project.name,
        session=session,
        snapshot=Snapshot(project=None),
        hooks=[PostStartHook(name="test.broken", kinds=("container",), run=broken)],
    )
    ctx.snapshot = snapshot
    engine_project.client.api.remove_container(engine_project.ids()["a"], force=True)
    with pytest.raises(Exception, match="post-start hook test.broken failed on container/a: no route"):
        CONTAINERS.create(ctx, desired)
    session.close()


@pytest.mark.slow
def test_status_reports_running_exited_missing_and_drifted(engine_project, docker_client) -> None:
    engine_project.write({"a": SLEEPER, "b": SLEEPER, "c": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    ids = engine_project.ids()
    docker_client.api.stop(ids["a"], timeout=0)
    docker_client.api.remove_container(ids["b"], force=True)
    engine_project.write({"a": SLEEPER, "b": SLEEPER, "c": {**SLEEPER, "env": {"NEW": "1"}}})
    result = engine_project.cli("status", "-o", "json", check=2)
    import json

    states = {
        item["name"]: (item["state"], item["detail"]) for item in json.loads(result.stdout)["resources"]
    }
    assert states["default"] == ("present", "")
    assert states["a"][0] == "exited" and states["a"][1].startswith("Exited (137)")
    assert states["b"] == ("missing", "not present; `gefyra apply` creates it")
    assert states["c"] == ("drifted", "env.NEW added")
    api.apply(engine_project.load()).raise_for_failures()
    text = engine_project.cli("status").stdout
    assert text.count("running") == 3 and "exited" not in text


def test_run_list_logs(engine_project) -> None:
    engine_project.write({})
    name = engine_project.cli(
        "run",
        "-i",
        "debian:bookworm-slim",
        "-N",
        "oneoff",
        "-e",
        "WHO=gefyra",
        "--",
        "bash",
        "-c",
        "echo hello $WHO; sleep infinity",
    ).stdout.strip()
    assert name == f"gefyra-{engine_project.name}-oneoff"
    listing = engine_project.cli("list", "--project", engine_project.name).stdout
    assert f"{engine_project.name}  run   oneoff  running  {name}" in listing
    wait_for("the one-off's output", lambda: "hello gefyra" in engine_project.cli("logs", "oneoff").stdout)
    assert engine_project.cli("plan").stdout.strip() == "No changes."  # one-offs are never planned
    follow = subprocess.Popen(
        [sys.executable, "-m", "gefyra", "logs", "-f", "oneoff"],
        cwd=engine_project.folder,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout.readline() == "hello gefyra\n"
        assert follow.poll() is None  # still following
    finally:
        follow.kill()
        follow.wait(timeout=10)


def test_an_unlabelled_container_with_our_name_is_never_touched(engine_project, docker_client) -> None:
    engine_project.write({"a": SLEEPER})
    squatter = docker_client.api.create_container(
        "debian:bookworm-slim", ["sleep", "infinity"], name=f"gefyra-{engine_project.name}-a"
    )["Id"]
    try:
        result = engine_project.cli("apply", "--yes", check=1)
        expected = f"container gefyra-{engine_project.name}-a exists but was not created by gefyra"
        assert expected in result.stderr
        assert docker_client.api.inspect_container(squatter)["Id"] == squatter
    finally:
        docker_client.api.remove_container(squatter, force=True)


def test_a_host_port_in_use_fails_the_plan_before_anything_is_created(engine_project) -> None:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))  # noqa: S104 - Docker publishes on every address
        holder.listen(1)
        port = holder.getsockname()[1]
        engine_project.write({"web": {**SLEEPER, "ports": [f"{port}:80"]}, "other": SLEEPER})
        result = engine_project.cli("apply", "--yes", check=1)
        assert f"container/web: host port {port}/tcp is already in use" in result.stderr
        assert f"publish={port}" in result.stderr  # the hint says how to find the holder
        assert engine_project.labelled() == []
        assert "already in use" in engine_project.cli("plan", check=1).stderr
    api.apply(engine_project.load()).raise_for_failures()  # freed: the same file applies
    assert api.plan(engine_project.load()).has_changes is False


def test_a_start_that_fails_on_a_busy_port_names_it_and_leaves_no_created_container(engine_project) -> None:
    engine_project.write({"other": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()  # the network exists
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))  # noqa: S104
        holder.listen(1)
        port = holder.getsockname()[1]
        engine_project.write({"other": SLEEPER, "web": {**SLEEPER, "ports": [f"{port}:80"]}})
        config = engine_project.load()
        session = api.open_session(config)
        try:  # the handler itself (the preflight of plan/apply would stop earlier): the port is taken
            snapshot = api.observe(session, config.project.name, config)
            web = next(r for r in api.desired(config, snapshot) if r.name == "web")
            ctx = StepContext(project=config.project.name, session=session, snapshot=snapshot, config=config)
            with pytest.raises(ProviderError, match=f"host port {port} is already in use"):
                CONTAINERS.create(ctx, web)
        finally:
            session.close()
    assert set(engine_project.containers()) == {"other"}


def test_a_container_that_exits_right_away_fails_its_step_with_exit_code_and_logs(engine_project) -> None:
    engine_project.write(
        {"bad": {"image": "debian:bookworm-slim", "args": ["sh", "-c", "echo boom >&2; exit 3"]}}
    )
    result = engine_project.cli("apply", "--yes", check=1)
    assert "container/bad exited right after start with code 3" in result.stderr
    assert "boom" in result.stderr
    engine_project.write(
        {"ok": {"image": "debian:bookworm-slim", "args": ["true"]}}
    )  # exit 0: a one-shot job
    engine_project.cli("apply", "--yes")


def test_an_exited_one_off_is_replaced_by_the_next_run_of_that_name(engine_project) -> None:
    engine_project.write({})
    run = ("run", "-i", "debian:bookworm-slim", "-N", "job", "--", "echo")
    engine_project.cli(*run, "first")
    wait_for(
        "the first run to finish", lambda: engine_project.containers()["job"]["State"]["Status"] == "exited"
    )
    engine_project.cli(*run, "second")
    wait_for("the second run's output", lambda: "second" in engine_project.cli("logs", "job").stdout)
    assert "first" not in engine_project.cli("logs", "job").stdout
    engine_project.cli("run", "-i", "debian:bookworm-slim", "-N", "long", "--", "sleep", "infinity")
    busy = engine_project.cli("run", "-i", "debian:bookworm-slim", "-N", "long", "--", "true", check=1)
    assert "exists" in busy.stderr  # a running one-off is never replaced


def test_files_a_rebuild_rule_ignores_do_not_change_the_build(engine_project) -> None:
    folder = engine_project.folder
    (folder / "img").mkdir()
    (folder / "img" / "Dockerfile").write_text('FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n')
    rule = {"path": "img", "action": "rebuild", "ignore": ["*.log", "cache/"]}
    engine_project.write({"app": {"build": "img", "watch": [rule]}})
    api.apply(engine_project.load()).raise_for_failures()
    (folder / "img" / "debug.log").write_text("noise")
    (folder / "img" / "cache").mkdir()
    (folder / "img" / "cache" / "x.bin").write_text("noise")
    assert engine_project.cli("plan").stdout.strip() == "No changes."  # the drift tick will not rebuild
    (folder / "img" / "main.txt").write_text("real change")
    assert "-/+ container/app" in engine_project.cli("plan", check=2).stdout


def test_a_host_port_held_by_a_container_names_it(engine_project, docker_client, base_image) -> None:
    port = _free_port()
    holder = f"{engine_project.name}-holder"  # ours, unlabelled: gefyra must only name it
    docker_client.api.create_container(
        base_image,
        ["sleep", "infinity"],
        name=holder,
        ports=[80],
        host_config=docker_client.api.create_host_config(port_bindings={80: port}),
    )
    try:
        docker_client.api.start(holder)
        engine_project.write({"web": {**SLEEPER, "ports": [f"{port}:80"]}})
        result = engine_project.cli("plan", check=1)
        assert f"container/web: host port {port}/tcp is already in use by container {holder}" in result.stderr
        assert f"stop {holder}" in result.stderr
        assert docker_client.api.inspect_container(holder)["State"]["Running"]  # never touched
    finally:
        docker_client.api.remove_container(holder, force=True)

"""Runner acceptance: `python -m tests.sandbox up|status|down` as a user runs it; down leaves nothing."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.fixtures import wait_for

pytest_plugins = ("tests.sandbox.fixtures",)  # echo_image
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
KUBECTL = "/usr/bin/kubectl"


def sandbox_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.sandbox", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )


def host_state(instance: str, service_cidr: str) -> dict[str, list[str]]:
    """Everything on this host that names the instance: containers, networks, iptables lines, routes."""
    label = f"label=dev.gefyra.sandbox={instance}"
    run = lambda *cmd: subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()  # noqa: E731
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return {
        "containers": run("docker", "ps", "-aq", "--filter", label),
        "networks": run("docker", "network", "ls", "-q", "--filter", label),
        "iptables": [line for line in rules.splitlines() if f"GEFYRA-SANDBOX-{instance.upper()}-" in line],
        "routes": [
            line
            for line in subprocess.run(
                ["ip", "route", "show", "type", "unreachable"], capture_output=True, text=True
            ).stdout.splitlines()
            if line.split()[1] == service_cidr
        ],
    }


def reused_by_another_sandbox(service_cidr: str, instance: str) -> bool:
    pod_cidr = service_cidr.replace("10.243.", "10.242.")
    out = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", "label=dev.gefyra.sandbox"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for network in out:
        info = json.loads(
            subprocess.run(
                ["docker", "network", "inspect", network], capture_output=True, text=True, check=True
            ).stdout
        )[0]
        subnets = [c.get("Subnet") for c in info["IPAM"]["Config"] or []]
        if pod_cidr in subnets and info["Labels"].get("dev.gefyra.sandbox") != instance:
            return True
    return False


def sandbox_owner(instance: str) -> subprocess.Popen:
    """A process that starts the sandbox, prints `up` and then lives on as its owner."""
    code = (
        "import time; from tests.sandbox.cluster import Sandbox; "
        f"Sandbox({instance!r}).start(); print('up', flush=True); time.sleep(300)"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )


def docker_ids(instance: str, *command: str) -> str:
    """What `docker <command> -q --filter label=<the instance>` lists (empty when nothing is left)."""
    label = f"label=dev.gefyra.sandbox={instance}"
    return subprocess.run(["docker", *command, "--filter", label], capture_output=True, text=True).stdout


def has_chains(instance: str) -> bool:
    return (
        f"GEFYRA-SANDBOX-{instance.upper()}-"
        in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    )


def test_up_status_down_leaves_nothing(docker_client, base_image, echo_image):
    instance = "c" + secrets.token_hex(3)[:5]
    service_cidr = "unknown"
    started = sandbox_cli("up", "--instance", instance)
    try:
        assert started.returncode == 0, started.stderr
        kubeconfig = started.stdout.strip()
        assert Path(kubeconfig).is_file()
        kubectl = [KUBECTL, "--kubeconfig", kubeconfig]
        nodes = json.loads(
            subprocess.run(
                [*kubectl, "get", "nodes", "-o", "json"], capture_output=True, text=True, check=True
            ).stdout
        )
        assert [c["status"] for c in nodes["items"][0]["status"]["conditions"] if c["type"] == "Ready"] == [
            "True"
        ]
        manifest = json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "demo"},
                "spec": {"containers": [{"name": "main", "image": echo_image}]},
            }
        )
        applied = subprocess.run(
            [*kubectl, "apply", "--validate=false", "-f", "-"], input=manifest, capture_output=True, text=True
        )
        assert applied.returncode == 0, applied.stderr
        wait_for(
            lambda: (
                subprocess.run(
                    [*kubectl, "get", "pod", "demo", "-o", "jsonpath={.status.phase}"],
                    capture_output=True,
                    text=True,
                ).stdout
                == "Running"
            ),
            what="demo Running",
        )
        settings = json.loads((Path(kubeconfig).parents[1] / "settings.json").read_text())
        service_cidr = f"10.243.{settings['slot']}.0/24"
        during = host_state(instance, service_cidr)
        assert len(during["containers"]) == 3  # dns + infra + main
        assert during["networks"] and during["iptables"] and during["routes"]
        status = sandbox_cli("status", "--instance", instance)
        assert status.returncode == 0 and "default/demo: Running" in status.stdout, status.stdout
    finally:
        stopped = sandbox_cli("down", "--instance", instance)
    assert stopped.returncode == 0, stopped.stderr
    after = host_state(instance, service_cidr)
    if after["routes"]:
        # Sandboxes of parallel test runs pick the first free slot: another one may have taken ours since.
        assert reused_by_another_sandbox(service_cidr, instance), after["routes"]
        after["routes"] = []
    assert after == {"containers": [], "networks": [], "iptables": [], "routes": []}
    assert not Path(kubeconfig).parents[1].exists()  # the state directory (kubeconfig, volumes) is gone too
    assert not Path(kubeconfig).parents[2].joinpath(f"{instance}.log").exists()  # nor the log of a clean run
    assert sandbox_cli("status", "--instance", instance).returncode == 3


def test_sandbox_of_a_killed_process_is_reaped(docker_client, base_image):
    """A test run killed mid-way leaves its sandbox; the next sandbox start removes it (owner is gone)."""
    from tests.sandbox.runner import cleanup

    instance = "k" + secrets.token_hex(3)[:5]
    child = sandbox_owner(instance)
    try:
        assert child.stdout.readline().strip() == "up"
    finally:
        child.kill()
        child.wait()
    assert docker_ids(instance, "ps", "-q")
    cleanup.reap_orphans(docker_client)  # what every Sandbox.start() does first
    assert not docker_ids(instance, "ps", "-aq")
    assert not docker_ids(instance, "network", "ls", "-q")
    assert not has_chains(instance)


def test_sandbox_of_a_zombie_owner_is_reaped(docker_client, base_image):
    """The owner died but nobody reaped it yet (a zombie: our Popen never waits before the reaping): its pid
    still answers kill(pid, 0), yet it will never stop its sandbox - so it is reaped like a dead one."""
    from tests.sandbox.runner import cleanup

    instance = "z" + secrets.token_hex(3)[:5]
    child = sandbox_owner(instance)
    try:
        assert child.stdout.readline().strip() == "up"
        os.kill(child.pid, signal.SIGKILL)  # no child.wait(): the child stays a zombie of this process
        wait_for(lambda: not cleanup.alive(child.pid), what="the owner to be a zombie")
        os.kill(child.pid, 0)  # the pid still exists (what the old check looked at)
        assert instance in cleanup.reap_orphans(docker_client)
        assert not docker_ids(instance, "ps", "-aq")
        assert not has_chains(instance)
    finally:
        child.kill()
        child.wait()
        cleanup.remove_all(docker_client, instance)


def test_down_with_a_foreign_container_on_the_network(docker_client, base_image):
    """Someone attached a container of their own to the sandbox network: `down` disconnects it (it keeps
    running), removes the network and only then the unreachable route, and says what it did."""
    from tests.sandbox.runner.settings import Settings

    instance = "f" + secrets.token_hex(3)[:5]
    started = sandbox_cli("up", "--instance", instance)
    foreign = None
    service_cidr = "unknown"
    try:
        assert started.returncode == 0, started.stderr
        settings = Settings.model_validate_json(
            (Path(started.stdout.strip()).parents[1] / "settings.json").read_text()
        )
        service_cidr = str(settings.service_cidr)
        foreign = docker_client.containers.run(
            base_image,
            ["sleep", "300"],
            detach=True,
            name=f"gefyra-sbxtest-{instance}",
            labels={"dev.gefyra.sbxtest": instance},
        )
        docker_client.networks.get(settings.network_name).connect(foreign)
    finally:
        stopped = sandbox_cli("down", "--instance", instance)
    try:
        assert stopped.returncode == 0, stopped.stderr
        assert f"gefyra-sbxtest-{instance}" in stopped.stderr  # named as disconnected
        after = host_state(instance, service_cidr)
        if after["routes"]:
            assert reused_by_another_sandbox(service_cidr, instance), after["routes"]
            after["routes"] = []
        assert after == {"containers": [], "networks": [], "iptables": [], "routes": []}
        foreign.reload()
        assert foreign.status == "running"
    finally:
        if foreign is not None:
            foreign.remove(force=True)


def sandbox_processes(instance: str) -> list[int]:
    """Live `python -m tests.sandbox serve --instance <instance>` processes on this host."""
    from tests.sandbox.runner.cleanup import alive

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            b"tests.sandbox" in args
            and b"serve" in args
            and instance.encode() in args
            and alive(int(entry.name))
        ):
            found.append(int(entry.name))
    return found


def cli_popen(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sandbox", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )


def assert_nothing_left(instance: str, service_cidr: str) -> None:
    after = host_state(instance, service_cidr)
    if after["routes"]:
        assert reused_by_another_sandbox(service_cidr, instance), after["routes"]
        after["routes"] = []
    assert after == {"containers": [], "networks": [], "iptables": [], "routes": []}
    assert sandbox_processes(instance) == []


def test_up_twice_at_once_runs_one_sandbox_and_down_twice_is_clean(docker_client, base_image):
    instance = "u" + secrets.token_hex(3)[:5]
    first, second = cli_popen("up", "--instance", instance), cli_popen("up", "--instance", instance)
    service_cidr = "unknown"
    try:
        outputs = [p.communicate(timeout=120) for p in (first, second)]
        assert first.returncode == 0 and second.returncode == 0, outputs
        assert outputs[0][0] == outputs[1][0]  # the same kubeconfig
        assert len(sandbox_processes(instance)) == 1
        settings = json.loads((Path(outputs[0][0].strip()).parents[1] / "settings.json").read_text())
        service_cidr = f"10.243.{settings['slot']}.0/24"
    finally:
        stopped = sandbox_cli("down", "--instance", instance)
        again = sandbox_cli("down", "--instance", instance)
    assert stopped.returncode == 0, stopped.stderr
    assert again.returncode == 0, again.stderr
    assert_nothing_left(instance, service_cidr)


def test_down_while_up_is_starting_stops_it(docker_client, base_image):
    from tests.sandbox.runner.settings import STATE_ROOT

    instance = "d" + secrets.token_hex(3)[:5]
    starting = cli_popen("up", "--instance", instance)
    try:
        # `up` has started its background process but that is not ready yet.
        wait_for(lambda: (STATE_ROOT / f"{instance}.pid").exists(), what="up to start its process")
        assert not (STATE_ROOT / instance / "ready.json").exists()
        stopped = sandbox_cli("down", "--instance", instance)
        assert stopped.returncode == 0, stopped.stderr
        # `up` ends (1: its sandbox was stopped under it; 0 if it saw it ready just before) and, above all,
        # nothing of the sandbox - no process, no container, rule or route - survives the `down`.
        starting.communicate(timeout=120)
    finally:
        if starting.poll() is None:
            starting.kill()
            starting.wait()
        sandbox_cli("down", "--instance", instance)
    assert_nothing_left(instance, "unknown")
    assert not (STATE_ROOT / instance).exists()


def test_down_stale_reaps_only_sandboxes_with_a_gone_owner(docker_client, base_image):
    from tests.sandbox.runner import cleanup

    instance = "s" + secrets.token_hex(3)[:5]
    child = sandbox_owner(instance)
    try:
        assert child.stdout.readline().strip() == "up"
        # A second owner of the same instance is refused while the first lives.
        refused = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from tests.sandbox.cluster import Sandbox; Sandbox({instance!r}).start()",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(REPO)),
        )
        assert refused.returncode != 0 and f"in use by process {child.pid}" in refused.stderr, refused.stderr
        assert docker_ids(instance, "ps", "-q")
        kept = sandbox_cli("down", "--stale")  # a live owner: untouched
        assert kept.returncode == 0 and instance not in kept.stderr, kept.stderr
        assert docker_ids(instance, "ps", "-q")
        child.kill()
        child.wait()
        reaped = sandbox_cli("down", "--stale")
        assert reaped.returncode == 0 and instance in reaped.stderr, reaped.stderr
        assert_nothing_left(instance, "unknown")
    finally:
        child.kill()
        child.wait()
        cleanup.remove_all(docker_client, instance)

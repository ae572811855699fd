"""The cluster cleans up after a client that vanished, with no client acting (the lease).

examples/bridge with `client_timeout: 45s` is applied through the real CLI (install: auto: the Operator runs
as a Pod of the sandbox); the client stays while Cargo lives, also past the timeout (its keepalives are a sign
of life between handshakes, which come only every 2 minutes); then Cargo is killed and nothing of gefyra runs
on the client any more. The Operator must notice the silence, give the bridged Pods their spec back exactly,
delete the peer and, as gefyra made the install and no client is left, remove gefyra from the cluster.
`gefyra down` afterwards still succeeds and leaves nothing.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from gefyra.cluster import names
from tests.e2e.kit import (
    cli_env,
    cluster_leftovers,
    copy_example,
    create_all,
    docker_leftovers,
    gefyra,
    plain_pod,
    plain_pods,
    running_pods,
    workload,
)
from tests.sandbox.fixtures import wait_for

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]
TIMEOUT = 45  # seconds; above Cargo's keepalive interval (25s) plus the Operator's reap interval (10s)
REAP_INTERVAL = 10  # the Operator's default (settings.Settings.reap_interval)


@pytest.fixture
def project(sandbox, sandbox_ns, tmp_path):
    name, file = copy_example(
        tmp_path / "bridge",
        sandbox_ns,
        (("  install: auto\n", f"  install: auto\n  client_timeout: {TIMEOUT}s\n"),),
    )
    env = cli_env(sandbox.kubeconfig, tmp_path / "config", name, file)
    yield env
    gefyra(env, "down", check=False)  # a failed test leaves nothing behind either


def _custom(kube):
    from kubernetes import client

    return client.CustomObjectsApi(kube.api_client)


def _clients(kube) -> list[dict]:
    from kubernetes.client.exceptions import ApiException

    try:
        listed = _custom(kube).list_namespaced_custom_object(
            names.GROUP, names.VERSION, names.NAMESPACE, names.CLIENT_PLURAL
        )
    except ApiException as error:
        if error.status == 404:  # the CRD or the namespace is gone
            return []
        raise
    return list(listed["items"])


def _bridged(kube, namespace: str, pods: list[str]) -> bool:
    for name in pods:
        pod = kube.core.read_namespaced_pod(name, namespace)
        if not pod.spec.containers[0].image.startswith("gefyra/carrier:"):
            return False
    return True


def _still_bridged_for(kube, namespace: str, pods: list[str], client: str, seconds: float) -> None:
    """For `seconds`, every look finds the client and its bridged Pods (a property over time, so this polls
    for the whole span)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        present = [c["metadata"]["name"] for c in _clients(kube)]
        assert present == [client], f"the client was reaped while Cargo lives: {present}"
        assert _bridged(kube, namespace, pods), "a Pod lost its bridge while Cargo lives"
        time.sleep(2)


def _cleaned(kube, namespace: str, before: dict[str, dict], client: str) -> list[str] | None:
    """What is still not as it must be after the reap; None when everything is."""
    missing = []
    now = {p.metadata.name: plain_pod(kube, p) for p in kube.core.list_namespaced_pod(namespace).items}
    for name, spec in before.items():
        if now.get(name) != spec:
            missing.append(f"pod {name} not restored")
    if [c for c in _clients(kube) if c["metadata"]["name"] == client]:
        missing.append(f"client {client}")
    missing += cluster_leftovers(kube, namespace)
    return None if not missing else missing


def test_a_vanished_client_is_cleaned_up_by_the_cluster_alone(
    project, sandbox_kube, sandbox_ns, echo_image, docker_client
):
    kube, env = sandbox_kube, project
    create_all(kube, sandbox_ns, workload("web", echo_image, 2) + workload("other", echo_image, 1))
    pods = [p.metadata.name for p in running_pods(kube, sandbox_ns, "web", 2)]
    running_pods(kube, sandbox_ns, "other", 1)
    before = plain_pods(kube, sandbox_ns, pods)

    gefyra(env, "apply", "--yes")
    (client,) = [c["metadata"]["name"] for c in _clients(kube)]
    assert client.startswith(env["GEFYRA_PROJECT_NAME"]), client
    assert _bridged(kube, sandbox_ns, pods)
    # A live client outlasts its timeout: handshakes alone (every 2 minutes) would make it look gone.
    _still_bridged_for(kube, sandbox_ns, pods, client, TIMEOUT + 2 * REAP_INTERVAL)

    cargo = docker_client.containers.get(f"gefyra-{env['GEFYRA_PROJECT_NAME']}.cargo")
    cargo.kill()  # the client vanishes: no tunnel, nothing of gefyra runs on this side any more
    assert (
        subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Running}}", cargo.id], capture_output=True, text=True
        ).stdout.strip()
        == "false"
    )

    # The timeout, a reap round, the bridges' restore, the uninstall (the namespace's deletion included).
    left = []

    def cleaned() -> bool:
        left[:] = _cleaned(kube, sandbox_ns, before, client) or []
        return not left

    try:
        wait_for(cleaned, TIMEOUT + 240, "the cluster cleaned up after the vanished client", 2)
    except AssertionError as error:
        raise AssertionError(f"{error}; still there: {left}") from None
    assert plain_pods(kube, sandbox_ns, pods) == before  # exactly, Pod by Pod (same Pods, same IPs)

    done = gefyra(env, "down")
    assert done.returncode == 0
    assert cluster_leftovers(kube, sandbox_ns) == []
    assert docker_leftovers(env["GEFYRA_PROJECT_NAME"]) == []

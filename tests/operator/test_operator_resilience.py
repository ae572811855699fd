"""The data plane outlives the Operator, a second client joins without disturbing the first, the rsync
module of a bridged Pod is the bridge's client's only, and a replaced Stowaway gets every peer back with its
keys. The install manifests as they are, the Operator and Stowaway as Pods, real WireGuard peers: Cargo
containers started from the peer config in each client's Secret, an app behind each on its own network."""

from __future__ import annotations

import base64
import json
import time

import pytest

from gefyra.cluster import names
from gefyra.errors import ProviderError
from gefyra.providers.docker.dataplane.sync import copy_from_carrier
from gefyra.providers.docker.engine import Engine
from tests.operator import podkit
from tests.operator.machines import TCP_PORT, Stream
from tests.operator.podkit import NS
from tests.sandbox.fixtures import wait_for

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]
BRIDGES = names.BRIDGE_PLURAL


@pytest.fixture(scope="module")
def setup(sandbox, sandbox_kube, docker_client):
    installed = podkit.install(sandbox, sandbox_kube, docker_client)
    yield installed
    podkit.uninstall(installed)


@pytest.fixture(scope="module")
def alice(setup):
    return setup.machine("alice")


def _scale(kube, namespace, name, replicas):
    kube.apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": replicas}})


@pytest.fixture(autouse=True)
def operator_back(setup, sandbox_kube):
    """A test that scales the Operator away and fails midway must not leave the module's next tests
    without one (they would time out waiting for a status nobody writes)."""
    yield
    _scale(sandbox_kube, NS, names.OPERATOR, 1)
    wait_for(lambda: podkit.running(sandbox_kube, "operator"), 120, "the Operator running again")


def _unbridge_restores(kube, namespace, bridge, before):
    """Delete the bridge; every Pod's spec and annotations come back exactly, Pod IPs unchanged."""
    podkit.delete(kube, BRIDGES, bridge)

    def restored():
        now = {n: podkit.plain(kube, kube.core.read_namespaced_pod(n, namespace)) for n in before}
        return now if all(now[n]["spec"] == before[n]["spec"] for n in before) else None

    after = wait_for(restored, 90, f"Pods of {bridge} restored")
    for name, pod in before.items():
        assert after[name]["metadata"].get("annotations") == pod["metadata"].get("annotations"), name
        assert after[name]["status"]["podIP"] == pod["status"]["podIP"]
    wait_for(lambda: podkit.gone(kube, BRIDGES, bridge), 30, f"bridge {bridge} gone")


def test_the_bridge_serves_without_an_operator_and_the_next_operator_takes_over(
    setup, alice, sandbox_kube, sandbox_ns, echo_image
):
    kube = sandbox_kube
    podkit.deployment(kube, sandbox_ns, "web", echo_image, replicas=2)
    before = {p.metadata.name: podkit.plain(kube, p) for p in podkit.pods(kube, sandbox_ns, "web", 2)}
    podkit.bridge(kube, "web", sandbox_ns, "web", alice)
    podkit.bridged_pods(kube, "web", 2)
    ips = [pod["status"]["podIP"] for pod in before.values()]
    for ip in ips:
        podkit.wait_answer(ip, "hello from alice")
    stream = Stream(ips[0], TCP_PORT)
    stream.wait_received(64 * 1024)

    # The Operator goes (its Deployment scaled to 0: its Pod is deleted and none replaces it).
    operator = podkit.running(kube, "operator")
    _scale(kube, NS, names.OPERATOR, 0)
    wait_for(
        lambda: not kube.core.list_namespaced_pod(NS, label_selector=names.selector("operator")).items,
        60,
        "no Operator Pod",
    )
    flowing = stream.wait_received(len(stream.received) + 128 * 1024)
    assert [podkit.answer(ip) for ip in ips] == ["hello from alice"] * 2  # new connections too
    # A scale-up while nobody can bridge: the new Pod runs its own image.
    _scale(kube, sandbox_ns, "web", 3)
    (new,) = [p for p in podkit.pods(kube, sandbox_ns, "web", 3) if p.metadata.name not in before]
    before[new.metadata.name] = podkit.plain(kube, new)
    assert new.spec.containers[0].image == echo_image
    # Running is not listening yet (no readiness probe): poll until the new Pod's own server answers.
    reply = wait_for(lambda: json.loads(podkit.answer(new.status.pod_ip)), 60, "the new Pod answering")
    assert reply["hostname"] == new.metadata.name

    # A new Operator picks everything up: the new Pod is bridged, the stream never noticed.
    _scale(kube, NS, names.OPERATOR, 1)
    successor = wait_for(lambda: podkit.running(kube, "operator"), 120, "a new Operator running")
    assert successor.metadata.uid != operator.metadata.uid
    status = podkit.bridged_pods(kube, "web", 3)
    assert {p["name"] for p in status["pods"]} == set(before)
    podkit.wait_answer(new.status.pod_ip, "hello from alice")
    stream.wait_received(flowing + 128 * 1024)
    result = stream.stop()
    assert result["errors"] == [] and result["intact"], result
    assert result["received"] == result["sent"] > 256 * 1024, result

    _unbridge_restores(kube, sandbox_ns, "web", before)


def _stowaway_container(kube):
    pod = podkit.running(kube, "stowaway")
    (status,) = pod.status.container_statuses
    return pod.metadata.uid, status.restart_count, status.state.running.started_at


def test_a_second_client_bridges_while_the_first_streams(setup, alice, sandbox_kube, sandbox_ns, echo_image):
    kube = sandbox_kube
    podkit.deployment(kube, sandbox_ns, "one", echo_image)
    podkit.deployment(kube, sandbox_ns, "two", echo_image)
    (one,) = podkit.pods(kube, sandbox_ns, "one", 1)
    (two,) = podkit.pods(kube, sandbox_ns, "two", 1)
    before = {p.metadata.name: podkit.plain(kube, p) for p in (one, two)}
    podkit.bridge(kube, "one", sandbox_ns, "one", alice)
    podkit.bridged_pods(kube, "one", 1)
    podkit.wait_answer(one.status.pod_ip, "hello from alice")
    stowaway = _stowaway_container(kube)
    stream = Stream(one.status.pod_ip, TCP_PORT)
    stream.wait_received(64 * 1024)

    bob = setup.connect("bob")  # a new GefyraClient: a new peer at Stowaway, Bob's Cargo shakes hands
    podkit.bridge(kube, "two", sandbox_ns, "two", bob)
    podkit.bridged_pods(kube, "two", 1)
    podkit.wait_answer(two.status.pod_ip, "hello from bob")
    flowing = len(stream.received)
    stream.wait_received(flowing + 128 * 1024)  # still flowing after Bob is in
    assert podkit.answer(one.status.pod_ip) == "hello from alice"
    result = stream.stop()
    assert result["errors"] == [] and result["intact"], result
    assert result["received"] == result["sent"], result
    assert _stowaway_container(kube) == stowaway  # same Pod, same container start, no restart

    _unbridge_restores(kube, sandbox_ns, "one", {one.metadata.name: before[one.metadata.name]})
    _unbridge_restores(kube, sandbox_ns, "two", {two.metadata.name: before[two.metadata.name]})


def _rsync_from_a_pod(kube, namespace, target_ip, image):
    """A Pod in the cluster (not coming through the tunnel) asks the Carrier's rsync daemon."""
    command = f"rsync rsync://{target_ip}/serviceaccount/token 2>&1; echo rc=$?"
    body = {
        "metadata": {"name": "snoop"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "snoop",
                    "image": image,
                    "command": ["sh", "-c", command],
                    "imagePullPolicy": "Never",
                }
            ],
        },
    }
    kube.core.create_namespaced_pod(namespace, body)
    wait_for(
        lambda: kube.core.read_namespaced_pod("snoop", namespace).status.phase == "Succeeded",
        60,
        "snoop done",
    )
    return kube.core.read_namespaced_pod_log("snoop", namespace)


def test_only_the_bridges_client_can_rsync_the_pods_service_account(
    setup, alice, sandbox_kube, sandbox_ns, echo_image, tmp_path
):
    from kubernetes import client

    kube = sandbox_kube
    bob = setup.machine("bob")
    podkit.deployment(kube, sandbox_ns, "sa", echo_image)
    (pod,) = podkit.pods(kube, sandbox_ns, "sa", 1)
    podkit.bridge(kube, "sa", sandbox_ns, "sa", alice)
    podkit.bridged_pods(kube, "sa", 1)
    podkit.wait_answer(pod.status.pod_ip, "hello from alice")

    # Alice (the bridge's client) copies the Pod's service-account folder through her tunnel.
    dest = tmp_path / "alice"
    copy_from_carrier(Engine.from_env(), alice.cargo.id, pod.status.pod_ip, "serviceaccount", dest)
    assert {p.name for p in dest.iterdir()} == {"token", "ca.crt", "namespace"}
    assert (dest / "namespace").read_text() == sandbox_ns
    review = client.AuthenticationV1Api(kube.api_client).create_token_review(
        {"spec": {"token": (dest / "token").read_text()}}
    )
    assert review.status.user.username == f"system:serviceaccount:{sandbox_ns}:default"  # the Pod's own

    # Bob's tunnel reaches the Pod (his traffic is masqueraded by Stowaway like Alice's), not its rsync.
    assert bob.in_app("get", f"http://{pod.status.pod_ip}:8080/")[1].strip() == "hello from alice"
    with pytest.raises(ProviderError, match="rsync from"):
        copy_from_carrier(
            Engine.from_env(), bob.cargo.id, pod.status.pod_ip, "serviceaccount", tmp_path / "bob"
        )
    assert not (tmp_path / "bob" / "token").exists()
    # Nor does a Pod in the cluster: Carrier admits Stowaway's address only.
    output = _rsync_from_a_pod(kube, sandbox_ns, pod.status.pod_ip, setup.tags["carrier"])
    assert "access denied" in output and not output.rstrip().endswith("rc=0"), output
    podkit.delete(kube, BRIDGES, "sa")
    wait_for(lambda: podkit.gone(kube, BRIDGES, "sa"), 60, "bridge sa gone")


def _peer_secret(kube, client_name):
    return kube.core.read_namespaced_secret(names.peer_secret_name(client_name), NS).data["peer.json"]


def _stowaway_api(kube):
    from gefyra_operator.stowaway import OperatorStowaway

    token = base64.b64decode(kube.core.read_namespaced_secret(names.STOWAWAY_TOKEN, NS).data["token"])
    return OperatorStowaway(f"http://{podkit.running(kube, 'stowaway').status.pod_ip}:8080", token.decode())


def test_a_replaced_stowaway_gets_every_peer_back_with_its_keys(
    setup, alice, sandbox_kube, sandbox_ns, echo_image
):
    kube = sandbox_kube
    bob = setup.machine("bob")
    podkit.deployment(kube, sandbox_ns, "keep", echo_image)
    podkit.deployment(kube, sandbox_ns, "plain", echo_image)
    (pod,) = podkit.pods(kube, sandbox_ns, "keep", 1)
    (plain,) = podkit.pods(kube, sandbox_ns, "plain", 1)
    podkit.bridge(kube, "keep", sandbox_ns, "keep", alice)
    routes = podkit.bridged_pods(kube, "keep", 1)["routes"]
    podkit.wait_answer(pod.status.pod_ip, "hello from alice")
    secrets = {c: _peer_secret(kube, c) for c in ("alice", "bob")}
    server_key = _stowaway_api(kube).server().public_key
    old = podkit.running(kube, "stowaway")
    for machine in (alice, bob):
        machine.cargo.reload()
    cargo_started = {m.client: m.cargo.attrs["State"]["StartedAt"] for m in (alice, bob)}

    started = time.monotonic()
    kube.core.delete_namespaced_pod(old.metadata.name, NS)
    new = wait_for(
        lambda: (p := podkit.running(kube, "stowaway")) and p.metadata.uid != old.metadata.uid and p,
        120,
        "a new Stowaway Pod",
    )
    assert new.status.pod_ip  # (a new Pod IP too, most likely: Carriers are told to fetch again)
    # Both tunnels come back with the configs the Cargos have: their next packets re-handshake.
    url = f"http://{plain.status.pod_ip}:8080/"
    for machine in (alice, bob):
        wait_for(lambda m=machine: m.in_app("get", url)[0] == 0, 150, f"{machine.client}'s tunnel back")
    tunnels = time.monotonic() - started
    podkit.wait_answer(pod.status.pod_ip, "hello from alice", timeout=90)  # the bridge serves again
    served = time.monotonic() - started
    print(f"Stowaway replaced: tunnels back after {tunnels:.1f}s, the bridge serving after {served:.1f}s")

    assert {c: _peer_secret(kube, c) for c in secrets} == secrets  # same keys, same addresses
    api = _stowaway_api(kube)
    assert api.server().public_key == server_key
    assert podkit.status(kube, BRIDGES, "keep")["routes"] == routes  # same proxy ports
    guard = next(g for g in api.guards() if g.destinations == [pod.status.pod_ip])
    assert guard.sources == [podkit.status(kube, names.CLIENT_PLURAL, "alice")["tunnelAddress"]]
    for machine in (alice, bob):
        machine.cargo.reload()
        assert machine.cargo.attrs["State"]["StartedAt"] == cargo_started[machine.client]  # untouched
    podkit.delete(kube, BRIDGES, "keep")
    wait_for(lambda: podkit.gone(kube, BRIDGES, "keep"), 60, "bridge keep gone")

"""The acceptance test: examples/bridge against the sandbox, through the real CLI.

`gefyra apply` installs gefyra (install: auto), connects, and bridges the Deployment `web` behind a NodePort
Service to the local container; a request to the Service (ClusterIP from another Pod, the NodePort from the
host) answers from the local container; the local container reaches another cluster Service by name; a bridge
deleted by hand is drift apply repairs; `gefyra down` restores each Pod's spec exactly and a label sweep finds
nothing, also when the Operator is gone by then.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from gefyra.cluster import names
from tests.e2e.kit import (
    cli_env,
    copy_example,
    create_all,
    gefyra,
    plain_pod,
    plain_pods,
    running_pods,
    workload,
)
from tests.sandbox.fixtures import echo_info, fetch_from_pod, http_get, wait_for

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]
LOCAL_MESSAGE = "hello from the local container"


@pytest.fixture
def project(sandbox, sandbox_ns, tmp_path):
    """examples/bridge copied with this test's values, and the CLI's environment."""
    name, file = copy_example(tmp_path / "bridge", sandbox_ns)
    env = cli_env(sandbox.kubeconfig, tmp_path / "config", name, file)
    yield env
    gefyra(env, "down", check=False)  # a failed test leaves nothing behind either


@pytest.fixture
def workloads(sandbox_kube, sandbox_ns, echo_image):
    """`web` (2 Pods, bridged) and `other` (1 Pod, reached from the local container), both behind Services."""
    create_all(sandbox_kube, sandbox_ns, workload("web", echo_image, 2) + workload("other", echo_image, 1))
    web = running_pods(sandbox_kube, sandbox_ns, "web", 2)
    running_pods(sandbox_kube, sandbox_ns, "other", 1)
    return {p.metadata.name: plain_pod(sandbox_kube, p) for p in web}


def _node_port(kube, namespace: str, service: str) -> int:
    return kube.core.read_namespaced_service(service, namespace).spec.ports[0].node_port


def _sweep(kube, env: dict[str, str], namespace: str) -> list[str]:
    """Everything the label sweep can find: gefyra's cluster objects, bridged Pods, Docker objects."""
    from kubernetes.client.exceptions import ApiException

    left = []
    for item in kube.core.list_namespace(label_selector=names.selector()).items:
        left.append(f"namespace {item.metadata.name}")
    ext = __import__("kubernetes").client.ApiextensionsV1Api(kube.api_client)
    left += [
        f"crd {c.metadata.name}"
        for c in ext.list_custom_resource_definition(label_selector=names.selector()).items
    ]
    try:
        kube.core.read_namespace(names.NAMESPACE)
        left.append("namespace gefyra")
    except ApiException as error:
        assert error.status == 404
    for pod in kube.core.list_namespaced_pod(namespace).items:
        left += [
            f"pod {pod.metadata.name} {k}"
            for k in (pod.metadata.annotations or {})
            if k.startswith("bridge.gefyra.dev/")
        ]
    project = env["GEFYRA_PROJECT_NAME"]
    docker = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=dev.gefyra.project={project}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    networks = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", f"label=dev.gefyra.project={project}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    return left + [f"container {c}" for c in docker] + [f"network {n}" for n in networks]


def _carrier_on_all(kube, namespace: str, pods: list[str]) -> bool:
    for name in pods:
        pod = kube.core.read_namespaced_pod(name, namespace)
        if not pod.spec.containers[0].image.startswith("gefyra/carrier:"):
            return False
        if "bridge.gefyra.dev/web" not in (pod.metadata.annotations or {}):
            return False
    return True


def test_apply_bridges_traffic_both_ways_and_down_restores_exactly(
    project, workloads, sandbox, sandbox_kube, sandbox_ns, docker_client
):
    kube, env = sandbox_kube, project
    before = workloads
    gefyra(env, "apply", "--yes")

    # The world first: both Pods run Carrier and carry the restore annotation.
    assert _carrier_on_all(kube, sandbox_ns, list(before))
    # ClusterIP from another Pod, the NodePort from the host: the local container answers.
    other = kube.core.list_namespaced_pod(sandbox_ns, label_selector="app=other").items[0]
    reply = wait_for(
        lambda: echo_info(fetch_from_pod(other.status.pod_ip, f"http://web.{sandbox_ns}.svc/")),
        30,
        "ClusterIP",
    )
    assert reply["message"] == LOCAL_MESSAGE
    port = _node_port(kube, sandbox_ns, "web")
    # the NodePort's rule follows the endpoints, which change while the Pods swap to Carrier: poll, not race
    node_reply = wait_for(lambda: json.loads(http_get(f"http://{sandbox.node_ip}:{port}/")), 30, "NodePort")
    assert node_reply["message"] == LOCAL_MESSAGE
    # The local container reaches another cluster Service by its short name (Cargo's DNS, search domains).
    local = docker_client.containers.get(f"gefyra-{env['GEFYRA_PROJECT_NAME']}-web")
    fetched = local.exec_run(
        [
            "python3",
            "-c",
            "import urllib.request as u; print(u.urlopen('http://other/', timeout=10).read().decode())",
        ]
    )
    assert fetched.exit_code == 0, fetched.output
    assert json.loads(fetched.output)["message"] == "cluster other"

    assert gefyra(env, "plan", check=False).returncode == 0  # nothing left to do
    status = gefyra(env, "status").stdout
    assert "handshake" in status and "Bridged" in status

    # A bridge deleted by hand is drift: the plan shows it, apply makes it again.
    from kubernetes import client

    custom = client.CustomObjectsApi(kube.api_client)
    bridge = next(
        b["metadata"]["name"]
        for b in custom.list_namespaced_custom_object(
            names.GROUP, names.VERSION, names.NAMESPACE, names.BRIDGE_PLURAL
        )["items"]
    )
    custom.delete_namespaced_custom_object(
        names.GROUP, names.VERSION, names.NAMESPACE, names.BRIDGE_PLURAL, bridge
    )
    wait_for(
        lambda: not _carrier_on_all(kube, sandbox_ns, list(before)), 60, "the Operator restored the Pods"
    )
    planned = gefyra(env, "plan", check=False)
    assert planned.returncode == 2 and "+ bridge/web" in planned.stdout, planned.stdout
    gefyra(env, "apply", "--yes")
    assert _carrier_on_all(kube, sandbox_ns, list(before))

    gefyra(env, "down")
    assert plain_pods(kube, sandbox_ns, list(before)) == before
    assert _sweep(kube, env, sandbox_ns) == []


def test_down_restores_pods_when_the_operator_is_gone(project, workloads, sandbox_kube, sandbox_ns):
    kube, env = sandbox_kube, project
    before = workloads
    gefyra(env, "apply", "--yes")
    assert _carrier_on_all(kube, sandbox_ns, list(before))
    kube.apps.delete_namespaced_deployment(names.OPERATOR, names.NAMESPACE)
    wait_for(
        lambda: (
            not kube.core.list_namespaced_pod(
                names.NAMESPACE, label_selector=names.selector("operator")
            ).items
        ),
        60,
        "the Operator gone",
    )
    done = gefyra(env, "down")
    assert "nothing left" in done.stdout
    assert plain_pods(kube, sandbox_ns, list(before)) == before
    assert _sweep(kube, env, sandbox_ns) == []


def test_a_new_peer_config_in_the_secret_replaces_the_connection_and_cargo(
    project, sandbox_kube, sandbox_ns, echo_image, docker_client
):
    """New keys, address or routes in the GefyraClient's Secret (here: one more route, TEST-NET-1, which
    nothing uses; keys kept so the tunnel still comes up) are a new peer version: the plan replaces the
    connection and Cargo, and the new Cargo has the new config."""
    import base64

    env = project
    create_all(sandbox_kube, sandbox_ns, workload("web", echo_image, 1))
    running_pods(sandbox_kube, sandbox_ns, "web", 1)
    gefyra(env, "apply", "--yes")
    (secret,) = [
        s
        for s in sandbox_kube.core.list_namespaced_secret(names.NAMESPACE).items
        if s.metadata.name.startswith(names.PEER_SECRET_PREFIX + env["GEFYRA_PROJECT_NAME"])
    ]
    peer = json.loads(base64.b64decode(secret.data["peer.json"]))
    peer["allowed_ips"] = [*peer["allowed_ips"], "192.0.2.0/24"]
    data = {"peer.json": base64.b64encode(json.dumps(peer).encode()).decode()}
    sandbox_kube.core.patch_namespaced_secret(secret.metadata.name, names.NAMESPACE, {"data": data})

    planned = gefyra(env, "plan", check=False)
    assert planned.returncode == 2, planned.stdout
    assert "-/+ connection/default" in planned.stdout and "peer_version" in planned.stdout, planned.stdout
    assert "-/+ cargo/default" in planned.stdout, planned.stdout
    gefyra(env, "apply", "--yes")
    cargo = docker_client.containers.get(f"gefyra-{env['GEFYRA_PROJECT_NAME']}.cargo")
    allowed = cargo.exec_run(["wg", "show", "wg0", "allowed-ips"]).output.decode()
    assert "192.0.2.0/24" in allowed, allowed
    assert gefyra(env, "plan", check=False).returncode == 0

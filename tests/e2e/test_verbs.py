"""The imperative verbs against the sandbox, through the CLI: `up` (install and connect only), `check`
(ready, and what is wrong with a bad endpoint or a clashing subnet), `bridge` / `unbridge` (a bridge without
editing gefyra.yaml that plan, status and down treat like a declared one)."""

from __future__ import annotations

import ipaddress
import json

import pytest

from gefyra.cluster import names
from tests.e2e.kit import cli_env, copy_example, create_all, docker0, gefyra, running_pods, workload
from tests.sandbox.fixtures import http_get, wait_for

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]
DECLARED_BRIDGE = (
    "bridges:\n  web:\n    target: deployment/web\n    container: web\n    ports: {8080: 8000}\n"
)


def _project(sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image, edits=()):
    create_all(sandbox_kube, sandbox_ns, workload("web", echo_image, 1))
    running_pods(sandbox_kube, sandbox_ns, "web", 1)
    name, file = copy_example(tmp_path / "bridge", sandbox_ns, edits)
    return cli_env(sandbox.kubeconfig, tmp_path / "config", name, file)


@pytest.fixture
def declared(sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image):
    env = _project(sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image)
    yield env
    gefyra(env, "down", check=False)


@pytest.fixture
def undeclared(sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image):
    env = _project(sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image, ((DECLARED_BRIDGE, ""),))
    yield env
    gefyra(env, "down", check=False)


def _bridges(kube) -> list[dict]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    custom = client.CustomObjectsApi(kube.api_client)
    try:
        listed = custom.list_namespaced_custom_object(
            names.GROUP, names.VERSION, names.NAMESPACE, names.BRIDGE_PLURAL
        )
    except ApiException as error:  # the CRD is gone with the install (after `down`)
        assert error.status == 404
        return []
    return listed["items"]


def _pod_spec(kube, namespace: str) -> dict:
    pod = kube.core.list_namespaced_pod(namespace, label_selector="app=web").items[0]
    data = kube.api_client.sanitize_for_serialization(pod)
    return {
        "spec": data["spec"],
        "annotations": data["metadata"].get("annotations"),
        "name": pod.metadata.name,
    }


def test_up_connects_without_containers_and_check_says_what_is_wrong(
    declared, sandbox, sandbox_kube, docker_client, tmp_path
):
    env, project = declared, declared["GEFYRA_PROJECT_NAME"]
    before = gefyra(env, "check", check=False)
    assert before.returncode == 0, before.stdout  # nothing installed yet: a warning, not a failure
    assert "warn  endpoint" in before.stdout and "Stowaway is not running yet" in before.stdout

    gefyra(env, "up", "--yes")
    assert docker_client.containers.get(f"gefyra-{project}.cargo").status == "running"
    assert not docker_client.containers.list(all=True, filters={"name": f"^/gefyra-{project}-web$"})
    assert _bridges(sandbox_kube) == []
    assert "No changes." in gefyra(env, "up", "--yes").stdout
    planned = gefyra(env, "plan", check=False)
    assert (
        planned.returncode == 2 and "+ container/web" in planned.stdout and "+ bridge/web" in planned.stdout
    )

    # the handshake reaches the GefyraClient's status with the Operator's next lease round: poll, not race it
    def shook_hands():
        done = gefyra(env, "check", check=False)
        return done if "the tunnel shook hands" in done.stdout else None

    ready = wait_for(shook_hands, 60, "check to see the tunnel's handshake")
    assert ready.returncode == 0, ready.stdout
    for name in ("docker", "cluster", "access", "endpoint", "subnets"):
        assert f"ok    {name}" in ready.stdout, ready.stdout
    report = json.loads(gefyra(env, "check", "-o", "json").stdout)
    assert report["ok"] is True and {c["name"] for c in report["checks"]} >= {"docker", "access", "subnets"}

    refused = gefyra(env, "unbridge", "web", check=False)
    assert refused.returncode == 1 and "is declared in" in refused.stderr

    # A wrong endpoint port and a project subnet inside the cluster's Pod range: two failures, each with
    # what to do.
    node = sandbox_kube.core.list_node().items[0]
    pods = ipaddress.IPv4Network(node.spec.pod_cidr)
    clash = next(pods.subnets(new_prefix=24))
    text = (tmp_path / "bridge" / "gefyra.yaml").read_text()
    port = int(text.split(f"endpoint: {docker0()}:")[1].split()[0])
    wrong = text.replace(f"{docker0()}:{port}", f"{docker0()}:{port + 1 if port < 32700 else port - 1}")
    (tmp_path / "bridge" / "wrong.yaml").write_text(wrong + f"network:\n  subnet: {clash}\n")
    failed = gefyra({**env, "GEFYRA_FILE": str(tmp_path / "bridge" / "wrong.yaml")}, "check", check=False)
    assert failed.returncode == 1, failed.stdout
    assert "FAIL  endpoint" in failed.stdout and "nothing listens there" in failed.stdout, failed.stdout
    assert f"FAIL  subnets   network.subnet {clash} overlaps the cluster range" in failed.stdout, (
        failed.stdout
    )
    assert "-> set network.subnet to a range outside" in failed.stdout


def test_bridge_and_unbridge_without_editing_gefyra_yaml(undeclared, sandbox, sandbox_kube, sandbox_ns):
    env = undeclared
    gefyra(env, "apply", "--yes")
    before = _pod_spec(sandbox_kube, sandbox_ns)
    assert _bridges(sandbox_kube) == []

    made = gefyra(env, "bridge", "web", "--target", "deployment/web/web", "--port", "8080:8000")
    assert "bridge/web: deployment/web: 1 Pod(s):" in made.stdout and "Bridged" in made.stdout, made.stdout
    port = sandbox_kube.core.read_namespaced_service("web", sandbox_ns).spec.ports[0].node_port
    reply = wait_for(lambda: json.loads(http_get(f"http://{sandbox.node_ip}:{port}/")), 30, "the NodePort")
    assert reply["message"] == "hello from the local container"
    # The engine keeps it: nothing to do, status lists it.
    assert gefyra(env, "plan", check=False).returncode == 0
    assert "bridge/web" in gefyra(env, "status").stdout

    missing = gefyra(env, "unbridge", "nope", check=False)
    assert missing.returncode == 1 and "no bridge nope" in missing.stderr
    removed = gefyra(env, "unbridge", "web")
    assert "bridge/web: removed" in removed.stdout
    assert _bridges(sandbox_kube) == []
    wait_for(lambda: _pod_spec(sandbox_kube, sandbox_ns) == before, 60, "the Pod restored exactly")
    assert gefyra(env, "plan", check=False).returncode == 0

    gefyra(env, "bridge", "web", "--target", "deployment/web", "--container", "web", "-p", "8080:8000")
    gefyra(env, "down")
    assert _bridges(sandbox_kube) == []
    assert _pod_spec(sandbox_kube, sandbox_ns) == before

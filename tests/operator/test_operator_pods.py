"""The Operator and Stowaway as Pods in the sandbox, from the install manifests and the real images: a
GefyraClient gets its peer Secret; a GefyraBridge swaps a Deployment's Pods to Carrier (which fetches its
config from the Operator, proven by its token) and deleting it restores each Pod's spec exactly."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest

from gefyra.cluster import names
from tests.operator import stand
from tests.sandbox.fixtures import wait_for

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]
NS = names.NAMESPACE


@pytest.fixture(scope="module")
def installed(sandbox, sandbox_kube, docker_client):
    tags = stand.images(docker_client)
    settings = stand.install_settings(sandbox, tags)
    stand.apply(sandbox_kube.api_client, stand.install_manifests(settings))
    yield tags
    stand.remove(sandbox_kube.api_client)


def _custom(kube):
    from kubernetes import client

    return client.CustomObjectsApi(kube.api_client)


def _running(kube, component):
    pods = kube.core.list_namespaced_pod(NS, label_selector=names.selector(component)).items
    ready = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip]
    return ready[0] if ready else None


def _plain(kube, obj):
    return kube.api_client.sanitize_for_serialization(obj)


def test_operator_and_stowaway_run_as_pods(installed, sandbox_kube):
    stowaway = wait_for(lambda: _running(sandbox_kube, "stowaway"), 120, "Stowaway running")
    operator = wait_for(lambda: _running(sandbox_kube, "operator"), 120, "Operator running")
    assert operator.spec.containers[0].image == installed["operator"]
    health = wait_for(
        lambda: urllib.request.urlopen(f"http://{operator.status.pod_ip}:8080/healthz", timeout=3).read()
    )
    assert json.loads(health) == {"status": "ok"}
    token = sandbox_kube.core.read_namespaced_secret(names.STOWAWAY_TOKEN, NS)
    assert len(base64.b64decode(token.data["token"])) >= 32
    assert stowaway.spec.containers[0].security_context.privileged is False


def test_client_gets_its_peer_secret(installed, sandbox_kube):
    custom = _custom(sandbox_kube)
    body = {
        "apiVersion": names.API_VERSION,
        "kind": names.CLIENT_KIND,
        "metadata": {"name": "alice"},
        "spec": {"project": "shop", "clientId": "laptop1", "routedSubnets": ["172.31.250.0/24"]},
    }
    custom.create_namespaced_custom_object(names.GROUP, names.VERSION, NS, names.CLIENT_PLURAL, body)

    def ready():
        found = custom.get_namespaced_custom_object(
            names.GROUP, names.VERSION, NS, names.CLIENT_PLURAL, "alice"
        )
        return found if (found.get("status") or {}).get("phase") == "Ready" else None

    status = wait_for(ready, 90, "GefyraClient alice Ready")["status"]
    assert status["peerSecret"] == "gefyra-peer-alice" and status["tunnelAddress"].startswith("100.87.0.")
    secret = sandbox_kube.core.read_namespaced_secret("gefyra-peer-alice", NS)
    peer = json.loads(base64.b64decode(secret.data["peer.json"]))
    assert peer["address"] == status["tunnelAddress"] and len(peer["private_key"]) == 44
    assert peer["routed_subnets"] == ["172.31.250.0/24"]
    assert secret.metadata.owner_references[0].name == "alice"
    role = sandbox_kube.api_client  # the client's access: its own Role, bound to its own ServiceAccount
    from kubernetes import client

    rules = client.RbacAuthorizationV1Api(role).read_namespaced_role("gefyra-client-alice", NS).rules
    assert any(r.resources == ["secrets"] and r.resource_names == ["gefyra-peer-alice"] for r in rules)


def _deployment(name, image):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 8080}]}]},
            },
        },
    }


def test_bridge_swaps_pods_to_carrier_and_restores_them_exactly(
    installed, sandbox_kube, sandbox_ns, echo_image
):
    kube, custom = sandbox_kube, _custom(sandbox_kube)
    kube.apps.create_namespaced_deployment(sandbox_ns, _deployment("web", echo_image))

    def pods():
        found = kube.core.list_namespaced_pod(sandbox_ns, label_selector="app=web").items
        return found if len(found) == 2 and all(p.status.phase == "Running" for p in found) else None

    before = {p.metadata.name: _plain(kube, p) for p in wait_for(pods, 60, "2 web Pods running")}
    wait_for(lambda: _running(kube, "operator"), 120, "Operator running")
    bridge = {
        "apiVersion": names.API_VERSION,
        "kind": names.BRIDGE_KIND,
        "metadata": {"name": "web"},
        "spec": {
            "target": "deployment/web",
            "namespace": sandbox_ns,
            "client": "alice",
            "localIp": "172.31.250.10",
            "ports": {"8080": 8000},
        },
    }
    custom.create_namespaced_custom_object(names.GROUP, names.VERSION, NS, names.BRIDGE_PLURAL, bridge)

    def active():
        found = custom.get_namespaced_custom_object(
            names.GROUP, names.VERSION, NS, names.BRIDGE_PLURAL, "web"
        )
        status = found.get("status") or {}
        return status if status.get("phase") == "Active" and len(status.get("pods", [])) == 2 else None

    status = wait_for(active, 90, "bridge Active on 2 Pods")
    assert {p["originalImage"] for p in status["pods"]} == {echo_image}
    for name in before:
        pod = kube.core.read_namespaced_pod(name, sandbox_ns)
        assert pod.spec.containers[0].image == installed["carrier"]
        record = json.loads(pod.metadata.annotations["bridge.gefyra.dev/web"])
        assert record == {"bridge": f"{NS}/web", "originalImage": echo_image}

        # Carrier fetched its config from the Operator (with its token) and runs its control endpoint.
        def carrier_up(ip=pod.status.pod_ip):
            return urllib.request.urlopen(f"http://{ip}:10001/healthz", timeout=3).read()

        wait_for(carrier_up, 90, f"Carrier of {name} serving")
    operator_ip = _running(kube, "operator").status.pod_ip
    url = f"http://{operator_ip}:8080/v1/carrier/{sandbox_ns}/{next(iter(before))}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 401  # the Pod mounts a token: no token, no config
    forged = urllib.request.Request(url, headers={"Authorization": "Bearer not-a-token"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=5)
    assert refused.value.code == 403

    custom.delete_namespaced_custom_object(names.GROUP, names.VERSION, NS, names.BRIDGE_PLURAL, "web")

    def restored():
        now = {n: _plain(kube, kube.core.read_namespaced_pod(n, sandbox_ns)) for n in before}
        return now if all(now[n]["spec"] == before[n]["spec"] for n in before) else None

    after = wait_for(restored, 60, "Pods restored")
    for name in before:
        assert after[name]["metadata"].get("annotations") == before[name]["metadata"].get("annotations")
        assert after[name]["status"]["podIP"] == before[name]["status"]["podIP"]

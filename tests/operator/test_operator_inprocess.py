"""The Operator's handlers in-process (kopf.testing.KopfRunner) against the sandbox, with the real Stowaway
and Carrier images as Pods: clear reasons instead of crash loops, Pods created later, the lease (a silent
client is reaped, its bridge undone, its peer deleted) and the uninstall when the last client is gone.

Carrier in the sandbox reaches this in-process Operator through the `gefyra-operator` Service, here without a
selector and with hand-made Endpoints pointing at the host."""

from __future__ import annotations

import os
import socket

import pytest

from gefyra.cluster import names, rbac
from tests.operator import stand
from tests.sandbox.fixtures import wait_for

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]
NS = names.NAMESPACE


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _operator_service(kube, host: str, port: int) -> None:
    meta = {"name": names.OPERATOR, "namespace": NS, "labels": names.labels("operator")}
    service = {
        "metadata": meta,
        "spec": {"ports": [{"name": "http", "port": names.OPERATOR_PORT, "targetPort": port}]},
    }
    kube.core.create_namespaced_service(NS, service)
    endpoints = {
        "metadata": meta,
        "subsets": [{"addresses": [{"ip": host}], "ports": [{"name": "http", "port": port}]}],
    }
    kube.core.create_namespaced_endpoints(NS, endpoints)


def _stowaway_ip(kube):
    pods = kube.core.list_namespaced_pod(NS, label_selector=names.selector("stowaway")).items
    ready = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip]
    return ready[0].status.pod_ip if ready else None


@pytest.fixture(scope="module")
def operator(sandbox, sandbox_kube, docker_client):
    """Stowaway from the install manifests (no Operator Pod), and the Operator running in this process."""
    from kopf.testing import KopfRunner

    from tests.operator.conftest import OPERATOR_DIR

    tags = stand.images(docker_client)
    manifests = stand.install_manifests(stand.install_settings(sandbox, tags, installed_by_gefyra=False))
    manifests = stand.without(manifests, ("Deployment", names.OPERATOR), ("Service", names.OPERATOR))
    stand.apply(sandbox_kube.api_client, manifests)
    host = sandbox.node_ip
    port = _free_port(host)
    _operator_service(sandbox_kube, host, port)
    saved = dict(os.environ)
    os.environ.update(
        {
            "KUBECONFIG": str(sandbox.kubeconfig),
            "GEFYRA_CARRIER_IMAGE": tags["carrier"],
            "GEFYRA_OPERATOR_HOST": host,
            "GEFYRA_OPERATOR_PORT": str(port),
            "GEFYRA_RECONCILE_INTERVAL": "1",
            "GEFYRA_REAP_INTERVAL": "1",
            "PYTHONPATH": f"{OPERATOR_DIR}:{os.environ.get('PYTHONPATH', '')}",
        }
    )
    try:
        from gefyra_operator import kube, stowaway

        kube.reset_client()
        stowaway.ensure_secrets(NS)  # what the Operator does at startup; Stowaway's Pod waits for them
        # The host reaches Pod IPs, not ClusterIPs: the Operator talks to the Stowaway Pod directly.
        os.environ["GEFYRA_STOWAWAY_URL"] = f"http://{wait_for(lambda: _stowaway_ip(sandbox_kube), 120)}:8080"
        args = ["run", "--standalone", "--namespace", NS, "-m", "gefyra_operator.handlers"]
        with KopfRunner(args, timeout=60) as runner:
            yield tags
        assert runner.exception is None, runner.output[-3000:]
    finally:
        os.environ.clear()
        os.environ.update(saved)
        stand.remove(sandbox_kube.api_client)


def _custom(kube):
    from kubernetes import client

    return client.CustomObjectsApi(kube.api_client)


def _create(kube, plural, name, spec):
    kind = names.CLIENT_KIND if plural == names.CLIENT_PLURAL else names.BRIDGE_KIND
    body = {"apiVersion": names.API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}
    _custom(kube).create_namespaced_custom_object(names.GROUP, names.VERSION, NS, plural, body)


def _get(kube, plural, name):
    return _custom(kube).get_namespaced_custom_object(names.GROUP, names.VERSION, NS, plural, name)


def _gone(kube, plural, name):
    from kubernetes.client.exceptions import ApiException

    try:
        _get(kube, plural, name)
    except ApiException as error:
        return error.status == 404
    return False


def _status_of(kube, plural, name, **wanted):
    def probe():
        status = _get(kube, plural, name).get("status") or {}
        return status if all(status.get(k) == v for k, v in wanted.items()) else None

    return probe


def _ready_reason(status):
    return next(c for c in status["conditions"] if c["type"] == "Ready")


def _client(kube, name, subnet, timeout=600):
    spec = {"project": "shop", "clientId": name, "routedSubnets": [subnet], "clientTimeoutSeconds": timeout}
    _create(kube, names.CLIENT_PLURAL, name, spec)
    wait_for(_status_of(kube, names.CLIENT_PLURAL, name, phase="Ready"), 60, f"client {name} Ready")


def _deployment(kube, namespace, name, image, replicas=1, **container):
    spec = {"name": "web", "image": image, "ports": [{"containerPort": 8080}], **container}
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [spec]}},
        },
    }
    kube.apps.create_namespaced_deployment(namespace, body)


def _pods(kube, namespace, app, count):
    def probe():
        found = kube.core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
        live = [p for p in found if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
        return live if len(live) == count else None

    return wait_for(probe, 60, f"{count} Pods of {app} running")


def _bridge(namespace, target, client="bob", local_ip="172.31.251.7", **extra):
    return {"target": target, "namespace": namespace, "client": client, "localIp": local_ip, **extra}


def test_problems_are_reasons_in_status_not_crashes(operator, sandbox_kube, sandbox_ns, echo_image):
    kube = sandbox_kube
    _client(kube, "bob", "172.31.251.0/24")
    _deployment(kube, sandbox_ns, "cmd", echo_image, command=["python3", "/srv/echo.py"])
    _deployment(kube, sandbox_ns, "web", echo_image)
    _pods(kube, sandbox_ns, "web", 1)
    cases = {
        "missing": (_bridge(sandbox_ns, "deployment/nothing"), "Pending", "TargetMissing"),
        "command": (_bridge(sandbox_ns, "deployment/cmd"), "Failed", "CommandNotSupported"),
        "port": (_bridge(sandbox_ns, "deployment/web", ports={"9090": 9090}), "Failed", "PortMissing"),
        "outside": (_bridge(sandbox_ns, "deployment/web", local_ip="10.9.9.9"), "Failed", "LocalIpNotRouted"),
    }
    for name, (spec, _, _) in cases.items():
        _create(kube, names.BRIDGE_PLURAL, name, spec)
    for name, (_, phase, reason) in cases.items():
        status = wait_for(_status_of(kube, names.BRIDGE_PLURAL, name, phase=phase), 30, f"{name}: {phase}")
        assert _ready_reason(status)["reason"] == reason, status
    port_message = _ready_reason(_get(kube, names.BRIDGE_PLURAL, "port")["status"])["message"]
    assert port_message == "container web of deployment/web has no TCP port 9090 (has 8080)"
    # Nothing of the failed bridges touched a Pod.
    (pod,) = _pods(kube, sandbox_ns, "web", 1)
    assert pod.spec.containers[0].image == echo_image and not (pod.metadata.annotations or {})

    # A bridge naming no existing client is an orphan: the janitor removes it.
    _create(kube, names.BRIDGE_PLURAL, "noclient", _bridge(sandbox_ns, "deployment/web", client="nobody"))
    wait_for(lambda: _gone(kube, names.BRIDGE_PLURAL, "noclient"), 30, "orphan bridge removed")

    # A second bridge on the same container: the first keeps it, the second says why.
    _create(kube, names.BRIDGE_PLURAL, "first", _bridge(sandbox_ns, "deployment/web"))
    wait_for(_status_of(kube, names.BRIDGE_PLURAL, "first", phase="Active"), 30, "first Active")
    _create(kube, names.BRIDGE_PLURAL, "second", _bridge(sandbox_ns, "deployment/web"))
    status = wait_for(_status_of(kube, names.BRIDGE_PLURAL, "second", phase="Failed"), 30, "second Failed")
    assert (
        _ready_reason(status)["reason"] == "AlreadyBridged"
        and "gefyra/first" in _ready_reason(status)["message"]
    )
    (pod,) = _pods(kube, sandbox_ns, "web", 1)
    assert pod.spec.containers[0].image == operator["carrier"]
    for name in [*cases, "first", "second"]:
        _custom(kube).delete_namespaced_custom_object(
            names.GROUP, names.VERSION, NS, names.BRIDGE_PLURAL, name
        )
    wait_for(
        lambda: _pods(kube, sandbox_ns, "web", 1)[0].spec.containers[0].image == echo_image, 30, "restored"
    )


def test_pods_created_later_are_bridged_too(operator, sandbox_kube, sandbox_ns, echo_image):
    kube = sandbox_kube
    _deployment(kube, sandbox_ns, "grow", echo_image, replicas=1)
    _pods(kube, sandbox_ns, "grow", 1)
    _create(kube, names.BRIDGE_PLURAL, "grow", _bridge(sandbox_ns, "deployment/grow"))
    wait_for(_status_of(kube, names.BRIDGE_PLURAL, "grow", phase="Active"), 30, "grow Active")
    kube.apps.patch_namespaced_deployment_scale("grow", sandbox_ns, {"spec": {"replicas": 3}})

    def all_carrier():
        pods = _pods(kube, sandbox_ns, "grow", 3)
        return all(p.spec.containers[0].image == operator["carrier"] for p in pods)

    wait_for(all_carrier, 60, "3 Pods on Carrier")
    status = wait_for(
        lambda: (
            len(_get(kube, names.BRIDGE_PLURAL, "grow")["status"]["pods"]) == 3
            and _get(kube, names.BRIDGE_PLURAL, "grow")["status"]
        ),
        30,
    )
    assert {p["state"] for p in status["pods"]} == {"Bridged"}
    _custom(kube).delete_namespaced_custom_object(names.GROUP, names.VERSION, NS, names.BRIDGE_PLURAL, "grow")

    def all_restored():
        pods = _pods(kube, sandbox_ns, "grow", 3)
        return all(
            p.spec.containers[0].image == echo_image and not (p.metadata.annotations or {}) for p in pods
        )

    wait_for(all_restored, 60, "3 Pods restored")


def test_a_silent_client_is_reaped_with_its_bridges_and_peer(operator, sandbox_kube, sandbox_ns, echo_image):
    from gefyra_operator import stowaway
    from gefyra_operator.settings import from_env

    kube = sandbox_kube
    _client(kube, "carol", "172.31.252.0/24", timeout=10)  # never handshakes: silent from creation
    _deployment(kube, sandbox_ns, "lease", echo_image)
    _pods(kube, sandbox_ns, "lease", 1)
    _create(
        kube,
        names.BRIDGE_PLURAL,
        "lease",
        _bridge(sandbox_ns, "deployment/lease", client="carol", local_ip="172.31.252.9"),
    )
    wait_for(_status_of(kube, names.BRIDGE_PLURAL, "lease", phase="Active"), 30, "lease bridge Active")
    api = stowaway.client(from_env())
    assert "carol" in {p.name for p in api.peers()}

    wait_for(lambda: _gone(kube, names.CLIENT_PLURAL, "carol"), 40, "client carol reaped")
    assert _gone(kube, names.BRIDGE_PLURAL, "lease")
    (pod,) = _pods(kube, sandbox_ns, "lease", 1)
    assert pod.spec.containers[0].image == echo_image and not (pod.metadata.annotations or {})
    assert "carol" not in {p.name for p in api.peers()}
    assert not [r for r in api.routes() if r.target_host == "172.31.252.9"]


def test_no_client_left_in_a_gefyra_install_removes_everything(operator, sandbox_kube):
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    kube = sandbox_kube
    kube.core.patch_namespace(NS, {"metadata": {"annotations": {names.INSTALLED_BY: "gefyra"}}})
    for item in _custom(kube).list_namespaced_custom_object(
        names.GROUP, names.VERSION, NS, names.CLIENT_PLURAL
    )["items"]:
        _custom(kube).delete_namespaced_custom_object(
            names.GROUP, names.VERSION, NS, names.CLIENT_PLURAL, item["metadata"]["name"]
        )
    ext = client.ApiextensionsV1Api(kube.api_client)

    def removed():
        try:
            kube.core.read_namespace(NS)
            return False
        except ApiException as error:
            return error.status == 404

    wait_for(removed, 60, "namespace gefyra removed")
    left = [
        c.metadata.name
        for c in ext.list_custom_resource_definition().items
        if c.metadata.name in rbac.crd_names()
    ]
    assert left == []
    assert (
        not client.RbacAuthorizationV1Api(kube.api_client)
        .list_cluster_role(label_selector=names.selector())
        .items
    )

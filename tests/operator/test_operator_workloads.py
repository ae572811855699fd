"""Workloads under a bridge, with the Operator as a Pod and a real peer: probes are forwarded through the
tunnel (the Pod stays Ready and is never restarted), what Carrier cannot honour is a reason, a rollout's new
Pods are bridged too and unbridge restores all. Last: without an Operator, the finalizers it left are
released by the patches `gefyra.cluster.teardown` lists, so the namespace can go."""

from __future__ import annotations

import json

import pytest

from gefyra.cluster import names
from gefyra.cluster.teardown import release_patches
from tests.operator import podkit
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


def _probe(path, **extra):
    return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": 1, "timeoutSeconds": 2, **extra}


def _web(kube, namespace, name):
    pod = kube.core.read_namespaced_pod(name, namespace)
    (status,) = pod.status.container_statuses
    ready = {c.type: c.status for c in pod.status.conditions or []}.get("Ready")
    return status.restart_count, status.image, ready == "True"


def test_probes_are_forwarded_and_keep_passing_while_bridged(
    setup, alice, sandbox_kube, sandbox_ns, echo_image
):
    kube = sandbox_kube
    liveness = _probe("/livez", failureThreshold=3, initialDelaySeconds=3)
    podkit.deployment(
        kube, sandbox_ns, "probed", echo_image, readinessProbe=_probe("/readyz"), livenessProbe=liveness
    )
    (pod,) = podkit.pods(kube, sandbox_ns, "probed", 1)
    name = pod.metadata.name
    podkit.bridge(kube, "probed", sandbox_ns, "probed", alice)
    podkit.bridged_pods(kube, "probed", 1)
    podkit.wait_answer(pod.status.pod_ip, "hello from alice")
    carrier = setup.tags["carrier"]
    restarts, _, _ = wait_for(
        lambda: (s := _web(kube, sandbox_ns, name))[1] == carrier and s[2] and s, 60, "bridged Pod Ready"
    )
    seen = alice.counts()

    def probed_enough():
        # Sampled all along: Ready, on Carrier, never restarted since the swap.
        assert _web(kube, sandbox_ns, name) == (restarts, carrier, True)
        counts = alice.counts()
        return all(counts.get(p, 0) >= seen.get(p, 0) + 8 for p in ("/livez", "/readyz")) and counts

    counts = wait_for(probed_enough, 90, "8 liveness and 8 readiness probes answered through the tunnel")
    assert counts["/livez"] >= 8 and counts["/readyz"] >= 8
    assert _web(kube, sandbox_ns, name) == (restarts, carrier, True)

    podkit.delete(kube, BRIDGES, "probed")
    wait_for(lambda: _web(kube, sandbox_ns, name)[1:] == (echo_image, True), 60, "restored and Ready")


def test_what_carrier_cannot_honour_is_a_reason(setup, alice, sandbox_kube, sandbox_ns, echo_image):
    kube = sandbox_kube
    podkit.deployment(kube, sandbox_ns, "cmd", echo_image, command=["python3", "/srv/echo.py"])
    exec_probe = {"exec": {"command": ["python3", "-c", "pass"]}, "periodSeconds": 5}
    podkit.deployment(kube, sandbox_ns, "exec", echo_image, livenessProbe=exec_probe)
    podkit.pods(kube, sandbox_ns, "cmd", 1)
    (untouched,) = podkit.pods(kube, sandbox_ns, "exec", 1)
    podkit.bridge(kube, "cmd", sandbox_ns, "cmd", alice)
    podkit.bridge(kube, "exec", sandbox_ns, "exec", alice)
    expected = {
        "cmd": (
            "CommandNotSupported",
            'container web of deployment/cmd sets command ["python3", "/srv/echo.py"]: it would replace '
            "Carrier's entry point (bridge a container that uses its image's entry point)",
        ),
        "exec": (
            "ProbeNotSupported",
            "container web of deployment/exec has an exec livenessProbe: it would run in Carrier's image (an "
            "httpGet or tcpSocket probe on a bridged port is forwarded to the local container)",
        ),
    }
    for bridge, (reason, message) in expected.items():
        found = wait_for(
            lambda b=bridge: (s := podkit.status(kube, BRIDGES, b)).get("phase") == "Failed" and s, 60
        )
        ready = next(c for c in found["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == ("False", reason, message)
        podkit.delete(kube, BRIDGES, bridge)
    pod = kube.core.read_namespaced_pod(untouched.metadata.name, sandbox_ns)
    assert pod.spec.containers[0].image == echo_image and not (pod.metadata.annotations or {})


def test_a_rollouts_new_pods_are_bridged_and_unbridge_restores_all(
    setup, alice, sandbox_kube, sandbox_ns, echo_image
):
    kube = sandbox_kube
    carrier = setup.tags["carrier"]
    podkit.deployment(kube, sandbox_ns, "roll", echo_image, replicas=2)
    old = {p.metadata.name for p in podkit.pods(kube, sandbox_ns, "roll", 2)}
    podkit.bridge(kube, "roll", sandbox_ns, "roll", alice)
    podkit.bridged_pods(kube, "roll", 2)

    # A rollout (as `kubectl rollout restart` does it): a new ReplicaSet replaces both Pods.
    template = {"metadata": {"annotations": {"example.com/restartedAt": "now"}}}
    kube.apps.patch_namespaced_deployment("roll", sandbox_ns, {"spec": {"template": template}})

    def replaced():
        status = podkit.status(kube, BRIDGES, "roll")
        names_ = {p["name"] for p in status.get("pods") or [] if p["state"] == "Bridged"}
        live = {p.metadata.name for p in podkit.pods(kube, sandbox_ns, "roll", 2)}
        return live if names_ == live and not live & old else None

    new = wait_for(replaced, 120, "the rollout's Pods bridged")
    bridged = {}
    for name in new:
        pod = kube.core.read_namespaced_pod(name, sandbox_ns)
        assert pod.spec.containers[0].image == carrier
        assert pod.metadata.annotations["example.com/restartedAt"] == "now"
        record = json.loads(pod.metadata.annotations["bridge.gefyra.dev/web"])
        assert record == {"bridge": f"{NS}/roll", "originalImage": echo_image}
        podkit.wait_answer(pod.status.pod_ip, "hello from alice")
        bridged[name] = podkit.plain(kube, pod)

    podkit.delete(kube, BRIDGES, "roll")

    def restored():
        now = {n: podkit.plain(kube, kube.core.read_namespaced_pod(n, sandbox_ns)) for n in new}
        return now if all(p["spec"]["containers"][0]["image"] == echo_image for p in now.values()) else None

    after = wait_for(restored, 90, "the rollout's Pods restored")
    for name, pod in after.items():
        expected = json.loads(json.dumps(bridged[name]["spec"]))
        expected["containers"][0]["image"] = echo_image
        assert pod["spec"] == expected  # only the image differed
        annotations = dict(bridged[name]["metadata"]["annotations"])
        del annotations["bridge.gefyra.dev/web"]
        assert pod["metadata"]["annotations"] == annotations
    wait_for(lambda: podkit.gone(kube, BRIDGES, "roll"), 60, "bridge roll gone")


def _apply(api_client, patch):
    """One PATCH of a release plan through the official client."""
    method, url, headers, body, post = api_client.param_serialize(
        "PATCH",
        patch.path,
        header_params={"Content-Type": patch.content_type, "Accept": "application/json"},
        body=patch.body,
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(method, url, header_params=headers, body=body, post_params=post)
    response.read()
    assert 200 <= response.status < 300, (patch.why, response.status, response.data)


def _custom_objects(kube):
    items = []
    for plural in (names.CLIENT_PLURAL, BRIDGES):
        found = podkit.custom(kube).list_namespaced_custom_object(names.GROUP, names.VERSION, NS, plural)
        items += found["items"]
    return items


def test_without_an_operator_the_release_patches_let_the_namespace_go(
    setup, alice, sandbox_kube, sandbox_ns, echo_image
):
    """Last in this module: it removes the install."""
    from kubernetes.client.exceptions import ApiException

    kube = sandbox_kube
    podkit.deployment(kube, sandbox_ns, "fin", echo_image)
    (pod,) = podkit.pods(kube, sandbox_ns, "fin", 1)
    podkit.bridge(kube, "fin", sandbox_ns, "fin", alice)
    podkit.bridged_pods(kube, "fin", 1)
    kube.apps.delete_namespaced_deployment(names.OPERATOR, NS)
    wait_for(
        lambda: not kube.core.list_namespaced_pod(NS, label_selector=names.selector("operator")).items,
        60,
        "the Operator gone",
    )

    kube.core.delete_namespace(NS)

    def stuck():
        left = _custom_objects(kube)
        pods = kube.core.list_namespaced_pod(NS).items
        held = all(o["metadata"].get("deletionTimestamp") for o in left)
        return left if left and held and not pods else None

    # Everything else is gone, but the namespace stays: its custom resources wait for the Operator.
    held = wait_for(stuck, 90, "the namespace emptied but for the custom resources")
    assert {o["kind"] for o in held} == {names.CLIENT_KIND, names.BRIDGE_KIND}
    assert all(names.FINALIZER in o["metadata"]["finalizers"] for o in held)
    assert kube.core.read_namespace(NS).status.phase == "Terminating"

    pods = [podkit.plain(kube, p) for p in kube.core.list_pod_for_all_namespaces().items]
    patches = release_patches(NS, held, pods)
    first = f"Pod {sandbox_ns}/{pod.metadata.name}: container web back to {echo_image}"
    assert [p.why for p in patches][0] == first
    for patch in patches:
        _apply(kube.api_client, patch)

    def namespace_gone():
        try:
            kube.core.read_namespace(NS)
        except ApiException as error:
            return error.status == 404
        return False

    wait_for(namespace_gone, 60, "namespace gefyra gone")
    restored = kube.core.read_namespaced_pod(pod.metadata.name, sandbox_ns)
    assert restored.spec.containers[0].image == echo_image and not (restored.metadata.annotations or {})

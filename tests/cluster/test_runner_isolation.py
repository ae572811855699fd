"""Runner network isolation: sandboxes side by side keep their own NodePorts."""

from __future__ import annotations

import random

import pytest

from tests.sandbox.fixtures import Kube, echo_info, http_get, wait_for

pytest_plugins = ("tests.sandbox.fixtures",)  # sandbox, sandbox_kube, sandbox_ns, echo_image
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]


def serve_node_port(kube: Kube, namespace: str, image: str, message: str, node_port: int) -> None:
    kube.core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "echo",
                        "image": image,
                        "env": [{"name": "MESSAGE", "value": message}],
                        "ports": [{"name": "http", "containerPort": 8080}],
                    }
                ]
            },
        },
    )
    kube.core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "web"},
            "spec": {
                "type": "NodePort",
                "selector": {"app": "web"},
                "ports": [{"port": 80, "targetPort": "http", "nodePort": node_port}],
            },
        },
    )
    kube.wait_running(namespace, "web")


def test_same_node_port_on_two_sandboxes_stays_with_each_node_ip(
    sandbox, sandbox_kube, sandbox_ns, echo_image, docker_client
):
    """The newer sandbox's chains come first in PREROUTING/OUTPUT; they must not catch the older sandbox's
    Node IP just because it is a local address."""
    from kubernetes import client

    from tests.sandbox.cluster import Sandbox, random_instance

    node_port = random.randint(30000, 32767)
    serve_node_port(sandbox_kube, sandbox_ns, echo_image, f"from-{sandbox.instance}", node_port)
    other = Sandbox(instance=random_instance()).start()
    try:
        api = other.api_client()
        other_kube = Kube(api, client.CoreV1Api(api), client.AppsV1Api(api))
        serve_node_port(other_kube, "default", echo_image, f"from-{other.instance}", node_port)
        for box in (other, sandbox):
            answer = echo_info(
                wait_for(
                    lambda b=box: http_get(f"http://{b.node_ip}:{node_port}/"),
                    what=f"{box.instance} NodePort",
                )
            )
            assert answer["message"] == f"from-{box.instance}", box.node_ip
        api.close()
    finally:
        left = other.stop()
    assert left == []

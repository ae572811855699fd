"""Stowaway's endpoint inside a range the tunnel routes: the sandbox's node address lies in its Pod range, as
can happen on real clusters. Cargo keeps the endpoint on its uplink (a host route), so the tunnel's own
packets do not enter the tunnel, and the tunnel shakes hands."""

from __future__ import annotations

import ipaddress

import pytest

from tests.e2e.kit import cli_env, copy_example, create_all, docker0, gefyra, running_pods, workload
from tests.sandbox.fixtures import wait_for

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]


def _node_address(kube) -> tuple[str, ipaddress.IPv4Network]:
    node = kube.core.list_node().items[0]
    address = next(a.address for a in node.status.addresses if a.type == "InternalIP")
    return address, ipaddress.IPv4Network(node.spec.pod_cidr)


def test_an_endpoint_inside_the_pod_range_still_shakes_hands(
    sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image
):
    address, pods = _node_address(sandbox_kube)
    assert (
        ipaddress.IPv4Address(address) in pods
    )  # the case under test: the endpoint is routed into the tunnel
    create_all(sandbox_kube, sandbox_ns, workload("web", echo_image, 1))
    running_pods(sandbox_kube, sandbox_ns, "web", 1)
    name, file = copy_example(
        tmp_path / "bridge", sandbox_ns, ((f"endpoint: {docker0()}:", f"endpoint: {address}:"),)
    )
    env = cli_env(sandbox.kubeconfig, tmp_path / "config", name, file)
    try:
        gefyra(env, "up", "--yes")

        def shook_hands():
            done = gefyra(env, "check", check=False)
            return done if "the tunnel shook hands" in done.stdout else None

        ready = wait_for(shook_hands, 90, "the tunnel to shake hands with an endpoint in the Pod range")
        assert ready.returncode == 0, ready.stdout
    finally:
        gefyra(env, "down", check=False)

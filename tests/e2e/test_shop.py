"""examples/shop end to end, with the demo's own steps (scripts/demo_run.py) on a copy of the example.

The three services deployed in a fresh namespace of the test sandbox; `gefyra apply` of the example's
gefyra.yaml bridges the backend to the local container built from its folder; the frontend's NodePort is
answered by the local code, which reaches the `prices` Service by name with the Pod's environment (ConfigMap
value, Secret); an edit of the mounted source under `gefyra watch` changes the answer; `gefyra down` leaves
every Pod of the namespace as it was and a label sweep finds nothing.
"""

from __future__ import annotations

import random
import secrets
import shutil
import socket

import pytest

from scripts import demo_shop as shop
from scripts.demo_main import prove_restored
from scripts.demo_run import Proof, Shop, deploy_shop, docker0, prove_bridge, prove_watch

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def run(sandbox, sandbox_ns, tmp_path):
    """A copy of examples/shop with a project name of its own, in the test's namespace, with a Stowaway
    NodePort and a local port no other test uses."""
    example = tmp_path / "shop"
    shutil.copytree(shop.EXAMPLE, example, ignore=shutil.ignore_patterns("__pycache__"))
    project = f"shop-{secrets.token_hex(3)}"
    file = example / "gefyra.yaml"
    text = file.read_text()
    assert "  name: shop\n" in text
    file.write_text(text.replace("  name: shop\n", f"  name: {project}\n"))
    endpoint = f"{docker0()}:{random.randint(31000, 32700)}"
    shop_run = Shop(
        example,
        sandbox_ns,
        project,
        sandbox.kubeconfig,
        sandbox.node_ip,
        endpoint,
        _free_port(),
        tmp_path / "cfg",
    )
    yield shop_run
    shop_run.gefyra("down", echo=False)  # a failed test leaves nothing behind either


def test_the_shop_backend_runs_locally_behind_the_cluster_frontend_and_down_restores_the_cluster(
    run, docker_client, tmp_path
):
    pods = deploy_shop(run, docker_client)
    before = shop.plain_pods(run.kube, run.namespace)
    pod_env = shop.wait(
        lambda: shop.get_json(f"http://{pods['backend'].status.pod_ip}:8080/env"), 30, "backend /env", ""
    )
    answer = shop.wait(lambda: shop.get_json(shop.frontend_url(run.node_ip)), 30, "frontend", "")
    assert answer["backend"]["served_by"] == "cluster"
    assert answer["backend"]["prices"]["service"] == "prices"  # the cluster's own path works first

    run.gefyra("apply", "--yes", echo=False)
    proof = Proof()
    prove_bridge(run, pod_env, proof)  # raises DemoError unless local code answers, reaches prices, same env
    local = shop.get_json(f"http://127.0.0.1:{run.local_port}/")
    assert local["served_by"] == "local container" and local["greeting"] == "hello from the shop's ConfigMap"
    status = run.gefyra("status", echo=False)
    assert "bridge/backend" in status and "Bridged" in status, status

    seconds = prove_watch(run, proof, tmp_path / "watch.log")
    assert 0 < seconds < 60
    assert shop.version_of(run.example / "backend" / "app.py") == "v1"  # the edit was undone

    run.gefyra("down", echo=False)
    prove_restored(run, before, docker_client, proof)  # raises DemoError on any difference or leftover
    assert shop.plain_pods(run.kube, run.namespace) == before
    assert shop.sweep(run.kube, run.namespace, run.project, docker_client) == []
    assert len(proof.lines) == 5, proof.lines

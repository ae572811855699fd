"""`gefyra images push REGISTRY [NAME...]`: the registry names and the printed `cluster.images:` block, the
tag through the engine, and an unreachable registry (a closed loopback port: nothing leaves the machine),
which is a clear error with exit 1 that leaves no registry name behind."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys

import pytest

from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.engine import Engine
from gefyra.providers.kube.images import operator_tag
from tests.e2e.kit import REPO


def _gefyra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gefyra", *args],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": "/root"},
        capture_output=True,
        text=True,
        timeout=540,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_print_names_each_image_and_the_block_to_paste():
    done = _gefyra("images", "push", "registry.test:5000/team/", "--print")
    assert done.returncode == 0, done.stderr
    tag = image_tag("stowaway").rpartition(":")[2]
    assert (
        f"stowaway\t{image_tag('stowaway')}\tregistry.test:5000/team/gefyra-stowaway:{tag}\n" in done.stdout
    )
    operator = f"registry.test:5000/team/gefyra-operator:{operator_tag().rpartition(':')[2]}"
    assert done.stdout.endswith(
        "\n# gefyra.yaml: the cluster pulls these\n"
        "cluster:\n"
        "  images:\n"
        f"    operator: {operator}\n"
        f"    stowaway: registry.test:5000/team/gefyra-stowaway:{tag}\n"
        f"    carrier: registry.test:5000/team/gefyra-carrier:{image_tag('carrier').rpartition(':')[2]}\n"
    )
    only_cargo = _gefyra("images", "push", "registry.test:5000", "cargo", "--print")
    assert only_cargo.stdout.count("\n") == 1 and "cluster:" not in only_cargo.stdout  # Cargo runs here


def test_bad_registry_and_unknown_image_are_usage_errors():
    scheme = _gefyra("images", "push", "https://registry.test", "--print")
    assert scheme.returncode == 1 and "expected host[:port][/path]" in scheme.stderr, scheme.stderr
    unknown = _gefyra("images", "push", "registry.test", "cargoo", "--print")
    assert unknown.returncode == 1 and "unknown image 'cargoo'" in unknown.stderr, unknown.stderr


@pytest.mark.docker
def test_tag_gives_an_image_a_second_name(docker_client, base_image):
    engine = Engine.from_env()
    repository = f"gefyra-push-test/tagged-{secrets.token_hex(3)}"
    try:
        engine.tag_image(base_image, repository, "t1")
        assert engine.inspect_image(f"{repository}:t1").id == engine.inspect_image(base_image).id
    finally:
        engine.remove_image(f"{repository}:t1", force=False)
        engine.close()


@pytest.mark.docker
def test_an_unreachable_registry_is_a_clear_error_and_leaves_no_name_behind(docker_client):
    registry = f"127.0.0.1:{_closed_port()}"
    done = _gefyra("images", "push", registry, "cargo")
    assert done.returncode == 1, done.stdout + done.stderr
    remote = f"{registry}/gefyra-cargo:{image_tag('cargo').rpartition(':')[2]}"
    assert f"cargo: pushing {remote} ..." in done.stderr
    assert f"error: pushing {remote}: " in done.stderr and "connection refused" in done.stderr, done.stderr
    assert f"hint: is the registry {registry} running and reachable from the Docker engine" in done.stderr
    assert docker_client.images.list(name=f"{registry}/gefyra-cargo") == []
    assert done.stdout == ""  # no block to paste after a failed push

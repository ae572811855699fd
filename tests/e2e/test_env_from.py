"""env_from end to end: examples/bridge with `env_from: deployment/web/web` in the sandbox, via the CLI.

The bridged Deployment's container takes values from a ConfigMap (a key and a whole ConfigMap with a prefix),
a Secret and the downward API; after `gefyra apply` the local container has each of them (gefyra.yaml's env
wins over the cluster's), and the Secret's value appears nowhere but in the container's config: not in the
plan (text or JSON), apply's or status' output, nor in any Docker label or cluster object gefyra made.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess

import pytest

from gefyra.cluster import names
from tests.e2e.kit import cli_env, copy_example, create_all, gefyra, running_pods, workload

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]
SECRET = f"pw-{secrets.token_hex(8)}"  # unique: found nowhere unless gefyra put it there


def _cluster_objects(image: str) -> list[dict]:
    settings = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
    shared = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}}
    db = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}}
    settings["data"] = {"greeting": "hello from a ConfigMap"}
    shared["data"] = {"LEVEL": "debug", "REGION": "eu"}
    db["data"] = {"password": base64.b64encode(SECRET.encode()).decode()}
    container = {
        "envFrom": [{"configMapRef": {"name": "shared"}, "prefix": "SHARED_"}],
        "env": [
            {"name": "MESSAGE", "value": "cluster web"},
            {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "greeting"}}},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "DSN", "value": "postgres://app:$(DB_PASSWORD)@db/$(POD_NAMESPACE)"},
        ],
    }
    return [settings, shared, db, *workload("web", image, 1, container)]


@pytest.fixture
def project(sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image):
    create_all(sandbox_kube, sandbox_ns, _cluster_objects(echo_image))
    running_pods(sandbox_kube, sandbox_ns, "web", 1)
    name, file = copy_example(
        tmp_path / "bridge",
        sandbox_ns,
        (("    build: .\n", "    build: .\n    env_from: deployment/web/web\n"),),
    )
    env = cli_env(sandbox.kubeconfig, tmp_path / "config", name, file)
    yield env
    gefyra(env, "down", check=False)


def _docker_labels(project: str) -> str:
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=dev.gefyra.project={project}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ids
    inspected = json.loads(subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True).stdout)
    return json.dumps([item["Config"]["Labels"] for item in inspected])


def test_the_local_container_gets_the_cluster_containers_environment_and_the_secret_stays_out_of_sight(
    project, sandbox_kube, sandbox_ns, docker_client
):
    env = project
    planned = gefyra(env, "plan", check=False)
    planned_json = gefyra(env, "plan", "-o", "json", check=False)
    applied = gefyra(env, "apply", "--yes")

    local = docker_client.containers.get(f"gefyra-{env['GEFYRA_PROJECT_NAME']}-web")
    container_env = dict(item.split("=", 1) for item in local.attrs["Config"]["Env"])
    assert container_env["GREETING"] == "hello from a ConfigMap"
    assert container_env["DB_PASSWORD"] == SECRET
    assert container_env["SHARED_LEVEL"] == "debug" and container_env["SHARED_REGION"] == "eu"
    assert container_env["POD_NAMESPACE"] == sandbox_ns
    assert container_env["DSN"] == f"postgres://app:{SECRET}@db/{sandbox_ns}"
    assert container_env["WEB_SERVICE_HOST"]  # service links, as the Pod has them
    assert container_env["MESSAGE"] == "hello from the local container"  # gefyra.yaml's env wins
    assert container_env["PORT"] == "8000"

    status = gefyra(env, "status", check=False)
    again = gefyra(env, "plan", check=False)
    assert again.returncode == 0, again.stdout  # the values are no part of the spec: nothing to do
    from kubernetes import client

    custom = client.CustomObjectsApi(sandbox_kube.api_client)
    gefyra_objects = json.dumps(
        [
            custom.list_namespaced_custom_object(names.GROUP, names.VERSION, names.NAMESPACE, plural)
            for plural in (names.CLIENT_PLURAL, names.BRIDGE_PLURAL)
        ]
    )
    seen = {
        "plan": planned.stdout + planned.stderr,
        "plan -o json": planned_json.stdout + planned_json.stderr,
        "apply": applied.stdout + applied.stderr,
        "status": status.stdout + status.stderr,
        "docker labels": _docker_labels(env["GEFYRA_PROJECT_NAME"]),
        "custom resources": gefyra_objects,
    }
    assert "env_from" in seen["docker labels"]  # the reference is part of the spec ...
    assert [where for where, text in seen.items() if SECRET in text] == []  # ... never the value


def test_a_missing_key_is_a_clear_error_naming_the_container_and_the_bridge(
    project, sandbox_kube, sandbox_ns
):
    env = project
    sandbox_kube.core.patch_namespaced_config_map("settings", sandbox_ns, {"data": {"greeting": None}})
    failed = gefyra(env, "apply", "--yes", check=False)
    assert failed.returncode == 1
    assert (
        "containers.web.env_from[0] (deployment/web/web in namespace "
        f"{sandbox_ns}; local container of bridges.web): variable GREETING: ConfigMap {sandbox_ns}/settings "
        "has no key 'greeting'"
    ) in failed.stderr, failed.stderr
    assert SECRET not in failed.stdout + failed.stderr

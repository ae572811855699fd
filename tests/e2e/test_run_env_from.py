"""`gefyra run --env-from TARGET` against the sandbox: the one-off starts with the environment of a cluster
container (read from its live Pod), `--env-file` and `--env` on top; the Secret's value stays out of the
labels. A missing workload or container, and a gefyra.yaml without `cluster:`, are clear errors (exit 1)."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys

import pytest

from tests.e2e.kit import REPO, cli_env, copy_example, create_all, gefyra, running_pods, workload

pytest_plugins = ("tests.sandbox.fixtures",)
SECRET = f"pw-{secrets.token_hex(8)}"  # unique: found nowhere unless gefyra put it there
IMAGE = "debian:bookworm-slim"


def _cluster_objects(image: str) -> list[dict]:
    settings = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
    settings["data"] = {"greeting": "hello from a ConfigMap"}
    db = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}}
    db["data"] = {"password": base64.b64encode(SECRET.encode()).decode()}
    container = {
        "env": [
            {"name": "MESSAGE", "value": "cluster web"},
            {"name": "LEVEL", "value": "cluster"},
            {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "greeting"}}},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        ],
    }
    return [settings, db, *workload("web", image, 1, container)]


@pytest.fixture
def project(sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image):
    create_all(sandbox_kube, sandbox_ns, _cluster_objects(echo_image))
    running_pods(sandbox_kube, sandbox_ns, "web", 1)
    name, file = copy_example(tmp_path / "bridge", sandbox_ns)
    env = cli_env(sandbox.kubeconfig, tmp_path / "config", name, file)
    yield env
    gefyra(env, "down", check=False)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`gefyra run -f FILE ARGS -- true` (-f before `--`: after it everything is the container's)."""
    return gefyra(
        env, "run", "-f", env["GEFYRA_FILE"], "-i", IMAGE, *args, "--", "true", check=False, file=False
    )


@pytest.mark.docker
@pytest.mark.cluster
@pytest.mark.slow
def test_the_one_off_gets_the_cluster_containers_environment_with_env_file_and_env_on_top(
    project, sandbox_ns, docker_client, tmp_path
):
    env = project
    env_file = tmp_path / "local.env"
    env_file.write_text("LEVEL=file\nMESSAGE=from the file\nONLY_FILE=yes\n")
    done = _run(
        env,
        "-N",
        "probe",
        "--env-from",
        "deployment/web/web",
        "--env-file",
        str(env_file),
        "-e",
        "MESSAGE=cli",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    docker_name = done.stdout.strip()
    container = docker_client.containers.get(docker_name)
    values = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert values["GREETING"] == "hello from a ConfigMap"
    assert values["DB_PASSWORD"] == SECRET
    assert values["POD_NAMESPACE"] == sandbox_ns
    assert values["WEB_SERVICE_HOST"]  # service links, as the Pod has them
    assert values["LEVEL"] == "file" and values["ONLY_FILE"] == "yes"  # --env-file over the cluster's
    assert values["MESSAGE"] == "cli"  # --env over both
    labels = json.dumps(container.attrs["Config"]["Labels"])
    assert "env_from" in labels and SECRET not in labels  # the reference is recorded, never a value
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.docker
@pytest.mark.cluster
@pytest.mark.slow
def test_a_missing_workload_or_container_is_a_clear_error(project, sandbox_ns, docker_client):
    env = project
    absent = _run(env, "--env-from", "deployment/absent")
    assert absent.returncode == 1
    assert f"deployment/absent does not exist in namespace {sandbox_ns}" in absent.stderr, absent.stderr
    assert "--env-from (deployment/absent in namespace" in absent.stderr
    wrong = _run(env, "--env-from", "deployment/web/nope")
    assert wrong.returncode == 1
    assert "has no container 'nope' (it has: web)" in wrong.stderr, wrong.stderr
    bad = _run(env, "--env-from", "cronjob/x")
    assert bad.returncode == 1 and "unknown kind 'cronjob'" in bad.stderr, bad.stderr
    left = docker_client.containers.list(
        all=True, filters={"label": f"dev.gefyra.project={env['GEFYRA_PROJECT_NAME']}"}
    )
    assert [c.name for c in left if "run-" in c.name] == []  # nothing half-made


def test_without_a_cluster_section_it_is_a_clear_error(tmp_path):
    (tmp_path / "gefyra.yaml").write_text("version: 1\nproject: {name: no-cluster}\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gefyra",
            "run",
            "-f",
            str(tmp_path / "gefyra.yaml"),
            "-i",
            IMAGE,
            "--env-from",
            "deployment/web",
            "--",
            "true",
        ],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "XDG_CONFIG_HOME": str(tmp_path / "config")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert (
        f"--env-from deployment/web: needs a `cluster:` section in {tmp_path / 'gefyra.yaml'}" in done.stderr
    ), done.stderr

"""What the e2e tests share: a copy of examples/bridge with a test's own values, the CLI as a subprocess, the
sandbox workloads, and reads of the world (Pods as plain data, a bridged Pod's container in the sandbox)."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from tests.sandbox.fixtures import wait_for

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "bridge"


def docker0() -> str:
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True).stdout
    return out.split()[3].split("/")[0]


def copy_example(folder: Path, namespace: str, edits: tuple[tuple[str, str], ...] = ()) -> tuple[str, Path]:
    """examples/bridge in `folder` with a project name of its own, the test namespace and a NodePort no other
    test uses (the sandbox's node address lies in its Pod range, routed into the tunnel: reach the NodePort
    on the host's docker0 address instead); `edits` are more (old, new) text replacements. Returns (project,
    gefyra.yaml)."""
    shutil.copytree(EXAMPLE, folder)
    name = f"e2e-{secrets.token_hex(3)}"
    endpoint = f"{docker0()}:{random.randint(31000, 32700)}"
    text = (folder / "gefyra.yaml").read_text()
    for old, new in (
        ("name: bridge-demo", f"name: {name}"),
        ("namespace: default", f"namespace: {namespace}"),
        ("endpoint: auto", f"endpoint: {endpoint}"),
        *edits,
    ):
        assert old in text, old
        text = text.replace(old, new)
    (folder / "gefyra.yaml").write_text(text)
    return name, folder / "gefyra.yaml"


def cli_env(kubeconfig: Path, config_home: Path, project: str, file: Path) -> dict[str, str]:
    """The CLI's environment: the sandbox's kubeconfig, a private config home, no Stowaway escape hatch."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "KUBECONFIG": str(kubeconfig),
        "XDG_CONFIG_HOME": str(config_home),
        "GEFYRA_PROJECT_NAME": project,
        "GEFYRA_FILE": str(file),
    }
    for variable in ("GEFYRA_STOWAWAY_URL", "GEFYRA_STOWAWAY_TOKEN_FILE"):
        env.pop(variable, None)
    return env


def gefyra(
    env: dict[str, str], *args: str, check: bool = True, file: bool = True
) -> subprocess.CompletedProcess[str]:
    """`python -m gefyra <args> -f <the test's gefyra.yaml>`; an AssertionError with its output on failure."""
    done = subprocess.run(
        [sys.executable, "-m", "gefyra", *args, *(["-f", env["GEFYRA_FILE"]] if file else [])],
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"gefyra {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def create_all(kube, namespace: str, manifests: list[dict]) -> None:
    """Create ConfigMaps, Secrets, Deployments and Services with the official client."""
    for manifest in manifests:
        kind = manifest["kind"]
        if kind == "Deployment":
            kube.apps.create_namespaced_deployment(namespace, manifest)
        elif kind == "Service":
            kube.core.create_namespaced_service(namespace, manifest)
        elif kind == "ConfigMap":
            kube.core.create_namespaced_config_map(namespace, manifest)
        elif kind == "Secret":
            kube.core.create_namespaced_secret(namespace, manifest)
        else:
            raise AssertionError(f"no create for {kind}")


def running_pods(kube, namespace: str, app: str, count: int, timeout: float = 90) -> list:
    def running():
        pods = kube.core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
        ready = [p for p in pods if p.status.phase == "Running" and p.status.pod_ip]
        return ready if len(ready) == count == len(pods) else None

    return wait_for(running, timeout, f"{count} {app} Pod(s) running")


def workload(name: str, image: str, replicas: int, container: dict | None = None) -> list[dict]:
    """A Deployment (container `web` on port 8080, MESSAGE set) behind a NodePort Service."""
    labels = {"app": name}
    spec = {
        "name": "web",
        "image": image,
        "env": [{"name": "MESSAGE", "value": f"cluster {name}"}],
        "ports": [{"containerPort": 8080}],
        **(container or {}),
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [spec]}},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": "NodePort", "selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    return [deployment, service]


def pod_container(docker_client, namespace: str, pod: str, container: str):
    """The Docker container that runs `container` of a sandbox Pod now (the newest start)."""
    from tests.sandbox.runner.settings import LABEL_CONTAINER, LABEL_POD, LABEL_RESTARTS, LABEL_ROLE

    found = docker_client.containers.list(
        filters={"label": [f"{LABEL_POD}={namespace}/{pod}", f"{LABEL_CONTAINER}={container}"]}
    )
    found = [c for c in found if c.labels.get(LABEL_ROLE) == "container"]
    assert found, f"no running container {container} of Pod {namespace}/{pod}"
    return max(found, key=lambda c: int(c.labels.get(LABEL_RESTARTS, "0")))

"""What the e2e tests share: a copy of examples/bridge with a test's own values, the CLI as a subprocess, the
sandbox workloads, and reads of the world (Pods as plain data, a bridged Pod's container in the sandbox)."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

from gefyra.providers.docker.context_hash import context_hash
from tests.sandbox.fixtures import wait_for

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "bridge"


def docker0() -> str:
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True).stdout
    return out.split()[3].split("/")[0]


@cache
def web_image() -> str:
    """examples/bridge's image, built once per content under one stable tag (`gefyra-e2e-web:<hash>`): every
    test shares it, so no run leaves an image of its own behind (a `build:` per project would: its tag
    carries the project name)."""
    tag = f"gefyra-e2e-web:{context_hash(EXAMPLE).removeprefix('sha256:')[:16]}"
    found = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, text=True)
    if found.returncode != 0:
        built = subprocess.run(
            ["docker", "build", "-q", "-t", tag, str(EXAMPLE)], capture_output=True, text=True, timeout=540
        )
        if built.returncode != 0:
            raise AssertionError(f"docker build of {EXAMPLE} failed:\n{built.stderr}")
    return tag


def copy_example(folder: Path, namespace: str, edits: tuple[tuple[str, str], ...] = ()) -> tuple[str, Path]:
    """examples/bridge in `folder` with a project name of its own, the test namespace and a NodePort no other
    test uses, on the host's docker0 address (test_endpoint_in_routed_range.py covers the node's own address);
    `edits` are more (old, new) text replacements; the container `web` runs the shared `web_image()` instead
    of building its own. Returns (project, gefyra.yaml)."""
    shutil.copytree(EXAMPLE, folder)
    name = f"e2e-{secrets.token_hex(3)}"
    endpoint = f"{docker0()}:{random.randint(31000, 32700)}"
    text = (folder / "gefyra.yaml").read_text()
    for old, new in (
        ("name: bridge-demo", f"name: {name}"),
        ("namespace: default", f"namespace: {namespace}"),
        ("endpoint: auto", f"endpoint: {endpoint}"),
        *edits,
        ("    build: .\n", f"    image: {web_image()}\n"),
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


def plain_pod(kube, pod) -> dict:
    """A Pod without status and bookkeeping fields: what must come back exactly when a bridge is undone."""
    data = kube.api_client.sanitize_for_serialization(pod)
    meta = data["metadata"]
    return {
        "spec": data["spec"],
        "labels": meta.get("labels"),
        "annotations": meta.get("annotations"),
        "ip": data["status"].get("podIP"),
    }


def plain_pods(kube, namespace: str, names_: list[str]) -> dict[str, dict]:
    return {name: plain_pod(kube, kube.core.read_namespaced_pod(name, namespace)) for name in names_}


def cluster_leftovers(kube, namespace: str) -> list[str]:
    """gefyra's cluster objects the label sweep finds: labelled namespaces and CRDs, the `gefyra` namespace,
    bridge annotations on the Pods of `namespace`."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from gefyra.cluster import names

    left = [
        f"namespace {n.metadata.name}"
        for n in kube.core.list_namespace(label_selector=names.selector()).items
    ]
    ext = client.ApiextensionsV1Api(kube.api_client)
    crds = ext.list_custom_resource_definition(label_selector=names.selector()).items
    left += [f"crd {c.metadata.name}" for c in crds]
    try:
        kube.core.read_namespace(names.NAMESPACE)
        left.append(f"namespace {names.NAMESPACE}")
    except ApiException as error:
        if error.status != 404:
            raise
    for pod in kube.core.list_namespaced_pod(namespace).items:
        annotations = pod.metadata.annotations or {}
        left += [f"pod {pod.metadata.name} {k}" for k in annotations if k.startswith("bridge.gefyra.dev/")]
    return left


def docker_leftovers(project: str) -> list[str]:
    """Containers and networks of `project` (by gefyra's project label)."""
    label = f"label=dev.gefyra.project={project}"
    found = []
    for kind, command in (("container", ["ps", "-aq"]), ("network", ["network", "ls", "-q"])):
        out = subprocess.run(["docker", *command, "--filter", label], capture_output=True, text=True).stdout
        found += [f"{kind} {item}" for item in out.split()]
    return found

"""examples/shop against a cluster: its images, its manifests, and the reads the demo's proofs are made of.

Used by `scripts/demo.py` (the one-command demo) and `tests/e2e/test_shop.py` (the same steps as a test).
Everything takes the example folder, the namespace and the clients as arguments, so a test runs a copy of
the example in a namespace of its own. Talks to Docker with the docker SDK and to the cluster with the
official `kubernetes` client only.
"""

from __future__ import annotations

import hashlib
import json
import string
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "shop"
SERVICES = ("frontend", "backend", "prices")
FRONTEND_NODE_PORT = 30080
# Variables a process has that no Pod spec sets (the runtime's, the image's): not compared.
PROCESS_VARIABLES = frozenset({"HOSTNAME", "HOME", "PATH", "PWD", "SHLVL", "TERM", "_"})
T = TypeVar("T")


class DemoError(Exception):
    """A failure the user can act on: what went wrong, and what to do."""

    def __init__(self, what: str, todo: str) -> None:
        super().__init__(what)
        self.what = what
        self.todo = todo


def wait(probe: Callable[[], T | None], timeout: float, what: str, todo: str, interval: float = 0.1) -> T:
    """Poll `probe` until it returns something truthy; DemoError naming the last answer after `timeout`."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = probe()
            if value:
                return value
            last = value
        except Exception as error:  # noqa: BLE001 - keep polling; the last error goes into the message
            last = error
        if time.monotonic() > deadline:
            raise DemoError(f"{what}: not after {timeout:.0f}s (last: {last!s:.200})", todo)
        time.sleep(interval)


# --- images -----------------------------------------------------------------------------------------------
def image_tag(folder: Path) -> str:
    """`gefyra-shop-<folder>:<sha256 of its files' paths and bytes, 12 hex digits>`: built on a change."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"gefyra-shop-{folder.name}:{digest.hexdigest()[:12]}"


def build_images(docker_client: Any, example: Path) -> dict[str, str]:
    """Build each service's image when its tag is missing; {"FRONTEND_IMAGE": tag, ...}."""
    import docker.errors

    images = {}
    for service in SERVICES:
        tag = image_tag(example / service)
        try:
            docker_client.images.get(tag)
        except docker.errors.ImageNotFound:
            try:
                docker_client.images.build(path=str(example / service), tag=tag, rm=True, forcerm=True)
            except docker.errors.BuildError as error:
                lines = [str(step.get("stream", step.get("error", ""))).strip() for step in error.build_log]
                tail = " | ".join(line for line in lines if line)[-300:]
                raise DemoError(
                    f"building {tag} failed: {error.msg} ({tail})",
                    "check that apt can reach the Debian mirror (the Dockerfile installs python3)",
                ) from None
        images[f"{service.upper()}_IMAGE"] = tag
    return images


# --- the cluster ------------------------------------------------------------------------------------------
def manifests(example: Path, images: dict[str, str]) -> list[dict[str, Any]]:
    """cluster.yaml with the image references filled in."""
    from ruamel.yaml import YAML

    text = string.Template((example / "cluster.yaml").read_text()).substitute(images)
    return [doc for doc in YAML(typ="safe").load_all(text) if doc]


@dataclass
class Kube:
    """The official typed clients of one cluster."""

    @staticmethod
    def from_file(kubeconfig: Path) -> Kube:
        from kubernetes import config

        load: Any = config.new_client_from_config  # untyped in the client's stubs
        return Kube(load(config_file=str(kubeconfig)))

    api_client: Any
    core: Any = field(init=False)
    apps: Any = field(init=False)

    def __post_init__(self) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)


def deploy(kube: Kube, namespace: str, objects: list[dict[str, Any]]) -> None:
    """Create the namespace and every object, or update what exists (idempotent)."""
    from kubernetes.client.exceptions import ApiException

    try:
        kube.core.create_namespace({"metadata": {"name": namespace}})
    except ApiException as error:
        if error.status != 409:
            raise
    calls = {
        "ConfigMap": ("namespaced_config_map", kube.core),
        "Secret": ("namespaced_secret", kube.core),
        "Service": ("namespaced_service", kube.core),
        "Deployment": ("namespaced_deployment", kube.apps),
    }
    for obj in objects:
        suffix, api = calls[obj["kind"]]
        try:
            getattr(api, f"create_{suffix}")(namespace, obj)
        except ApiException as error:
            if error.status != 409:
                raise
            # A Deployment is replaced whole: a merge patch would keep fields the file no longer has.
            verb = "replace" if obj["kind"] == "Deployment" else "patch"
            getattr(api, f"{verb}_{suffix}")(obj["metadata"]["name"], namespace, obj)


def shop_pods(kube: Kube, namespace: str, images: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    """{service: its one Pod}, once each runs its current image and is Ready."""

    def ready() -> dict[str, Any] | None:
        found = {}
        for service in SERVICES:
            pods = kube.core.list_namespaced_pod(namespace, label_selector=f"app={service}").items
            live = [p for p in pods if p.metadata.deletion_timestamp is None]
            if len(live) != 1 or live[0].spec.containers[0].image != images[f"{service.upper()}_IMAGE"]:
                return None
            conditions = {c.type: c.status for c in live[0].status.conditions or []}
            if conditions.get("Ready") != "True" or not live[0].status.pod_ip:
                return None
            found[service] = live[0]
        return found

    return wait(
        ready,
        timeout,
        f"the shop's Pods in namespace {namespace}",
        "look at them: kubectl get pods -n " + namespace,
    )


def plain_pods(kube: Kube, namespace: str) -> dict[str, dict[str, Any]]:
    """Every Pod of the namespace without status and bookkeeping: what `gefyra down` must restore exactly."""
    pods = {}
    for pod in kube.core.list_namespaced_pod(namespace).items:
        data = kube.api_client.sanitize_for_serialization(pod)
        meta = data["metadata"]
        pods[meta["name"]] = {
            "spec": data["spec"],
            "labels": meta.get("labels"),
            "annotations": meta.get("annotations"),
            "ip": data["status"].get("podIP"),
        }
    return pods


def sweep(kube: Kube, namespace: str, project: str, docker_client: Any) -> list[str]:
    """What a label sweep finds of gefyra: its namespace, CRDs, bridge annotations on Pods, Docker objects."""
    from kubernetes import client

    from gefyra.cluster import names

    left = [
        f"namespace {n.metadata.name}"
        for n in kube.core.list_namespace().items
        if n.metadata.name == "gefyra"
    ]
    extensions: Any = client.ApiextensionsV1Api(kube.api_client)
    crds = extensions.list_custom_resource_definition(label_selector=names.selector()).items
    left += [f"crd {c.metadata.name}" for c in crds]
    for pod in kube.core.list_namespaced_pod(namespace).items:
        left += [f"pod {pod.metadata.name}: {k}" for k in pod.metadata.annotations or {} if "gefyra" in k]
    label = {"label": f"dev.gefyra.project={project}"}
    left += [f"container {c.name}" for c in docker_client.containers.list(all=True, filters=label)]
    left += [f"network {n.name}" for n in docker_client.networks.list(filters=label)]
    return left


# --- answers ----------------------------------------------------------------------------------------------
def get_json(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def frontend_url(node_ip: str, path: str = "/") -> str:
    return f"http://{node_ip}:{FRONTEND_NODE_PORT}{path}"


def served_locally(answer: Any, version: str | None = None) -> bool:
    """The frontend's answer came from the local backend (and, when given, from that version of its code)."""
    backend = answer.get("backend", {}) if isinstance(answer, dict) else {}
    local = backend.get("served_by") == "local container"
    return local and (version is None or backend.get("version") == version)


@dataclass(frozen=True)
class EnvComparison:
    equal: list[str]
    differ: list[str]
    only_pod: list[str]
    only_local: list[str]


def compare_env(pod: dict[str, str], local: dict[str, str]) -> EnvComparison:
    """Two `/env` answers (name -> digest of the value), without the process' own variables."""
    names = (set(pod) | set(local)) - PROCESS_VARIABLES
    return EnvComparison(
        equal=sorted(n for n in names if n in pod and pod.get(n) == local.get(n)),
        differ=sorted(n for n in names if n in pod and n in local and pod[n] != local[n]),
        only_pod=sorted(n for n in names if n not in local),
        only_local=sorted(n for n in names if n not in pod),
    )


# --- the source edit --------------------------------------------------------------------------------------
VERSION_LINE = 'VERSION = "{}"'


def set_version(app: Path, version: str) -> None:
    """Rewrite the backend's VERSION line (atomically: the watcher never sees half a file)."""
    lines = app.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("VERSION = "))
    comment = lines[index].split("#", 1)[1] if "#" in lines[index] else "\n"
    lines[index] = VERSION_LINE.format(version) + ("  #" + comment if "#" in lines[index] else comment)
    tmp = app.with_name(".app.py.demo-tmp")
    tmp.write_text("".join(lines))
    tmp.replace(app)


def version_of(app: Path) -> str:
    line = next(line for line in app.read_text().splitlines() if line.startswith("VERSION = "))
    return line.split('"')[1]

"""Helpers for the Operator's cluster tests: images built locally (the sandbox never pulls), gefyra installed
into the sandbox from the install manifests, and removed again afterwards."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from gefyra.cluster import names, rbac
from gefyra.cluster.install import InstallSettings, install_manifests
from gefyra.providers.docker.engine import Engine
from gefyra.providers.kube.images import build_local, image_refs

REPO = Path(__file__).resolve().parents[2]
OPERATOR_CONTEXT = REPO / "images" / "operator"


def images(docker_client: Any) -> dict[str, str]:
    """This checkout's Operator, Stowaway and Carrier images, built by the product's builder when missing."""
    refs = image_refs()
    build_local(Engine.from_env(), refs)
    return {"operator": refs.operator, "stowaway": refs.stowaway, "carrier": refs.carrier}


def install_settings(sandbox: Any, tags: dict[str, str], **extra: Any) -> InstallSettings:
    s = sandbox.settings
    node_port = extra.pop("node_port", names.DEFAULT_NODE_PORT)
    return InstallSettings(
        operator_image=tags["operator"],
        stowaway_image=tags["stowaway"],
        carrier_image=tags["carrier"],
        image_pull_policy="Never",
        cluster_routes=[str(s.pod_cidr), str(s.service_cidr)],
        cluster_dns=[s.dns_service_ip],
        node_port=node_port,
        endpoint=f"{sandbox.node_ip}:{node_port}",
        **extra,
    )


def random_node_port() -> int:
    """A NodePort for Stowaway unlikely to be another sandbox's on this shared host: NodePorts on shared
    addresses (Docker gateways, where our Cargo containers reach them) go to the newest sandbox using them."""
    return random.randrange(30200, 32700)


def apply(api_client: Any, manifests: list[dict[str, Any]]) -> None:
    """Create the manifests, once an earlier install's removal (another test module's `gefyra down`, say) has
    finished: objects created in a namespace that is still terminating are deleted again by its cascade."""
    from kubernetes import utils

    wait_removed(api_client)
    for manifest in manifests:
        utils.create_from_dict(api_client, manifest)


def wait_removed(api_client: Any, timeout: float = 120) -> None:
    """Wait until neither namespace `gefyra` nor gefyra's CRDs are terminating (absent or alive is fine)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core, ext = client.CoreV1Api(api_client), client.ApiextensionsV1Api(api_client)
    reads = [(core.read_namespace, names.NAMESPACE)] + [
        (ext.read_custom_resource_definition, crd) for crd in rbac.crd_names()
    ]

    def terminating() -> list[str]:
        found = []
        for read, name in reads:
            try:
                if read(name).metadata.deletion_timestamp is not None:
                    found.append(name)
            except ApiException as error:
                if error.status != 404:
                    raise
        return found

    deadline = time.monotonic() + timeout
    while pending := terminating():
        if time.monotonic() > deadline:
            raise AssertionError(f"still terminating after {timeout}s: {', '.join(pending)}")
        time.sleep(0.2)


def remove(api_client: Any, namespace: str = names.NAMESPACE, timeout: float = 60) -> None:
    """Delete what an install made (namespace last waits until it is gone)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core, ext, auth = (
        client.CoreV1Api(api_client),
        client.ApiextensionsV1Api(api_client),
        client.RbacAuthorizationV1Api(api_client),
    )
    calls = [
        *[(ext.delete_custom_resource_definition, (crd,)) for crd in rbac.crd_names()],
        (auth.delete_cluster_role_binding, (names.OPERATOR,)),
        (auth.delete_cluster_role, (names.OPERATOR,)),
        (core.delete_namespace, (namespace,)),
    ]
    for call, args in calls:
        try:
            call(*args)
        except ApiException as error:
            if error.status != 404:
                raise
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            core.read_namespace(namespace)
        except ApiException as error:
            if error.status == 404:
                return
            raise
        time.sleep(0.2)
    raise AssertionError(f"namespace {namespace} still there after {timeout}s")


def without(manifests: list[dict[str, Any]], *kinds_names: tuple[str, str]) -> list[dict[str, Any]]:
    return [m for m in manifests if (m["kind"], m["metadata"]["name"]) not in kinds_names]


__all__ = ["apply", "images", "install_manifests", "install_settings", "remove", "without"]

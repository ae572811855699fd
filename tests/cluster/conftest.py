"""Cluster fixtures: one sandbox API server per session, reached over HTTPS through the official client.

KUBECONFIG is pinned here, at import time, because `kubernetes` (and kopf) read it when they are imported; the
session fixture then writes the file at exactly that path. Tests never see a real cluster's kubeconfig.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

STATE_DIR = Path(tempfile.mkdtemp(prefix="gefyra-sandbox-api-"))
os.environ["KUBECONFIG"] = str(STATE_DIR / "kubeconfig")
KUBECTL = "/usr/bin/kubectl"


@pytest.fixture(scope="session")
def sandbox_api():
    """A running sandbox API server (TLS, bearer token) for the whole session."""
    from tests.sandbox.apiserver.serve import start

    api = start(state_dir=STATE_DIR, bookmark_interval=0.5)
    yield api
    api.stop()
    shutil.rmtree(STATE_DIR, ignore_errors=True)  # kubeconfig, CA and key: nothing to keep


@pytest.fixture
def private_api(tmp_path):
    """A server of this test's own (plain HTTP, tiny watch history) for exact counter and history checks."""
    from tests.sandbox.apiserver.serve import start

    api = start(state_dir=tmp_path, tls=False, history_size=20, bookmark_interval=0.2)
    yield api
    api.stop()


@pytest.fixture(scope="session")
def kubeconfig(sandbox_api) -> Path:
    assert sandbox_api.kubeconfig == Path(os.environ["KUBECONFIG"])
    return sandbox_api.kubeconfig


@pytest.fixture(scope="session")
def api_client(kubeconfig):
    """An official `kubernetes.client.ApiClient` configured from the sandbox kubeconfig."""
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(kubeconfig))
    yield client
    client.close()


@pytest.fixture(scope="session")
def core(api_client):
    from kubernetes import client

    return client.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def apps(api_client):
    from kubernetes import client

    return client.AppsV1Api(api_client)


@pytest.fixture(scope="session")
def custom(api_client):
    from kubernetes import client

    return client.CustomObjectsApi(api_client)


@pytest.fixture
def namespace(core) -> Iterator[str]:
    """A fresh namespace per test, deleted (cascading) afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except Exception as error:  # noqa: BLE001 - a test may have deleted it itself
        if getattr(error, "status", None) != 404:
            raise


@pytest.fixture(scope="session")
def kubectl(kubeconfig):
    """Run kubectl against the sandbox; returns the CompletedProcess (check=True unless told otherwise)."""

    def run(*args: str, input: str | None = None, check: bool = True, timeout: float = 30):
        result = subprocess.run(
            [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
            input=input,
            text=True,
            capture_output=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    return run


def _crd_manifest(
    group: str, plural: str = "widgets", kind: str = "Widget", scope: str = "Namespaced"
) -> dict:
    """A CRD with a v1 storage version (status + scale subresources) and a served v1beta1."""
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    scale = {
        "specReplicasPath": ".spec.size",
        "statusReplicasPath": ".status.size",
        "labelSelectorPath": ".status.selector",
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "shortNames": ["wd"]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": schema,
                    "subresources": {"status": {}, "scale": scale},
                    "additionalPrinterColumns": [
                        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}
                    ],
                },
                {"name": "v1beta1", "served": True, "storage": False, "schema": schema},
            ],
        },
    }


@pytest.fixture(scope="session")
def crd_manifest():
    """Build a CustomResourceDefinition manifest: crd_manifest(group, plural, kind, scope)."""
    return _crd_manifest

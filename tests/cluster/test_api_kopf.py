"""kopf runs unchanged against the sandbox: a tiny operator handles create, update, delete of a CR."""

from __future__ import annotations

import time
import uuid

import pytest

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

HANDLERS = """
import kopf
import kubernetes


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.posting.level = 0
    settings.watching.server_timeout = 10
    settings.persistence.finalizer = "sandbox.test/kopf-finalizer"


def _core():
    kubernetes.config.load_kube_config()
    return kubernetes.client.CoreV1Api()


@kopf.on.create("GROUP", "v1", "widgets")
def created(name, namespace, spec, patch, **_):
    _core().create_namespaced_config_map(namespace, {"metadata": {"name": f"{name}-child"},
                                                     "data": {"size": str(spec.get("size"))}})
    patch.status["phase"] = "Created"


@kopf.on.update("GROUP", "v1", "widgets", field="spec.size")
def resized(name, namespace, new, patch, **_):
    _core().patch_namespaced_config_map(f"{name}-child", namespace, {"data": {"size": str(new)}})
    patch.status["phase"] = "Resized"


@kopf.on.delete("GROUP", "v1", "widgets")
def deleted(name, namespace, **_):
    _core().create_namespaced_config_map(namespace, {"metadata": {"name": f"{name}-deleted"}})
"""


def wait_for(read, timeout: float = 15.0, message: str = "condition"):
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = read()
            if last:
                return last
        except Exception as error:  # noqa: BLE001 - 404 while kopf has not acted yet
            last = error
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}; last: {last!r}")


def test_kopf_operator_lifecycle(api_client, core, custom, namespace, crd_manifest, tmp_path):
    from kopf.testing import KopfRunner
    from kubernetes import client

    group = f"kopf{uuid.uuid4().hex[:6]}.example.com"
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(crd_manifest(group))
    handlers = tmp_path / "widget_handlers.py"
    handlers.write_text(HANDLERS.replace("GROUP", group))
    args = ["run", "--standalone", "--namespace", namespace, "--verbose", str(handlers)]
    try:
        with KopfRunner(args, timeout=30) as runner:
            custom.create_namespaced_custom_object(
                group,
                "v1",
                namespace,
                "widgets",
                {
                    "apiVersion": f"{group}/v1",
                    "kind": "Widget",
                    "metadata": {"name": "w"},
                    "spec": {"size": 1},
                },
            )
            child = wait_for(lambda: core.read_namespaced_config_map("w-child", namespace), message="child")
            assert child.data == {"size": "1"}
            widget = wait_for(
                lambda: (
                    (o := custom.get_namespaced_custom_object(group, "v1", namespace, "widgets", "w"))
                    .get("status", {})
                    .get("phase")
                    == "Created"
                    and o
                ),
                message="handler status",
            )
            assert "sandbox.test/kopf-finalizer" in widget["metadata"]["finalizers"]

            custom.patch_namespaced_custom_object(
                group, "v1", namespace, "widgets", "w", {"spec": {"size": 3}}
            )
            wait_for(
                lambda: core.read_namespaced_config_map("w-child", namespace).data == {"size": "3"},
                message="child resized",
            )

            custom.delete_namespaced_custom_object(group, "v1", namespace, "widgets", "w")
            wait_for(
                lambda: core.read_namespaced_config_map("w-deleted", namespace), message="delete handler"
            )
            wait_for(
                lambda: not custom.list_namespaced_custom_object(group, "v1", namespace, "widgets")["items"],
                message="finalizer released",
            )
        assert runner.exit_code == 0, runner.output
        assert runner.exception is None
        assert "Handler 'created' succeeded" in runner.output
        assert "Handler 'resized/spec.size' succeeded" in runner.output
        assert "Handler 'deleted' succeeded" in runner.output
        assert "Traceback" not in runner.output, runner.output
    finally:
        ext.delete_custom_resource_definition(f"widgets.{group}")

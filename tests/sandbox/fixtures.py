"""pytest fixtures for tests that need the whole sandbox (API server + runner on Docker).

Use them from a test module with `pytest_plugins = ("tests.sandbox.fixtures",)`: pytest then registers this
module once as a plugin, so one sandbox serves the whole session however many modules ask for it (it is also
cached on the pytest config and stopped once, at the very end, with a check that nothing is left behind).
Helpers (wait_for, http_get, ...) are plain functions the tests import; hence PYTEST_DONT_REWRITE (no assert
rewriting is needed here, and it avoids pytest's "already imported" warning).
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T], timeout: float = 20.0, what: str = "condition", interval: float = 0.05
) -> T:
    """Poll `probe` until it returns something truthy; fail with the last value or error after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
            if last:
                return last
        except Exception as error:  # noqa: BLE001 - keep polling; report the last error at the deadline
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def fetch_from_pod(pod_ip: str, url: str) -> bytes:
    """Let the echo server in a Pod fetch `url` from inside the Pod's network namespace."""
    return http_get(f"http://{pod_ip}:8080/fetch?url={urllib.parse.quote(url, safe='')}", timeout=10)


def echo_info(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)


@dataclass
class Kube:
    """The official typed clients for the sandbox."""

    api_client: Any
    core: Any
    apps: Any

    def pod(self, namespace: str, name: str) -> Any:
        return self.core.read_namespaced_pod(name, namespace)

    def wait_running(self, namespace: str, name: str, timeout: float = 20.0) -> Any:
        def ready() -> Any:
            pod = self.pod(namespace, name)
            conditions = {c.type: c.status for c in pod.status.conditions or []}
            return pod if pod.status.phase == "Running" and conditions.get("Ready") == "True" else None

        return wait_for(ready, timeout, f"pod {namespace}/{name} Running and Ready")


@pytest.fixture(scope="session")
def echo_image(docker_client, base_image) -> str:
    """The HTTP echo test image (tests/sandbox/images/echo), built once and cached by content hash."""
    from .images import ensure_image

    return ensure_image(docker_client, "echo")


@pytest.fixture(scope="session")
def sandbox(request, docker_client, base_image, echo_image):
    """A running sandbox (own instance name, own ranges) shared by the whole session."""
    from .cluster import Sandbox, random_instance

    box = getattr(request.config, "_gefyra_sandbox", None)
    if box is None:
        box = Sandbox(instance=random_instance()).start()
        request.config._gefyra_sandbox = box

        def stop() -> None:
            left = box.stop()
            assert not left, f"the sandbox left things behind: {left}"

        request.config.add_cleanup(stop)
    return box


@pytest.fixture(scope="session")
def sandbox_kube(sandbox) -> Iterator[Kube]:
    from kubernetes import client

    api_client = sandbox.api_client()
    yield Kube(api_client, client.CoreV1Api(api_client), client.AppsV1Api(api_client))
    api_client.close()


@pytest.fixture
def sandbox_ns(sandbox_kube) -> Iterator[str]:
    """A fresh namespace; deleted (with everything in it) after the test."""
    name = f"rt-{secrets.token_hex(3)}"
    sandbox_kube.core.create_namespace({"metadata": {"name": name}})
    yield name
    sandbox_kube.core.delete_namespace(name)

"""A docker SDK client look-alike whose read-only list calls speak the Engine API over the unix socket with
http.client, so `gefyra plan` need not import the docker SDK (requests, urllib3: ~0.1 s of start-up).

Anything else (create, start, inspect, build, ...) goes to a real `docker.from_env()` client, created on first
use, so error types and behaviour there are the SDK's. Only for unix-socket engines; tcp/TLS DOCKER_HOST uses
the SDK for everything.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

DEFAULT_SOCKET = "/var/run/docker.sock"


def socket_path() -> str | None:
    """The engine's unix socket from DOCKER_HOST (default socket when unset); None for tcp/ssh engines."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    return host.removeprefix("unix://") if host.startswith("unix://") else None


class EngineHTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status_code, self.explanation = status, message


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class _FastApi:
    """`client.api`: the list calls observe needs; every other attribute is the SDK's APIClient."""

    base_url = "http+docker://localhost"  # like the SDK's for a unix socket

    def __init__(self, path: str, timeout: float, sdk: Callable[[], Any]) -> None:
        self._path, self._timeout, self._sdk = path, timeout, sdk

    def _raw(self, url: str, **params: Any) -> tuple[bytes, Any]:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        connection = _UnixConnection(self._path, self._timeout)
        try:
            connection.request("GET", url + (f"?{query}" if query else ""))
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status >= 400:
            try:
                message = json.loads(body).get("message", "")
            except ValueError:
                message = body.decode(errors="replace")
            raise EngineHTTPError(response.status, message)
        return body, response.headers

    def _get(self, url: str, **params: Any) -> Any:
        body, _ = self._raw(url, **params)
        return json.loads(body) if body.strip() and body.strip() != b"OK" else body.decode()

    @staticmethod
    def _filters(filters: dict | None) -> str | None:
        """JSON like the SDK sends: every value a list of strings (`{"name": "x"}` -> `{"name": ["x"]}`)."""
        if not filters:
            return None
        converted = {}
        for key, value in filters.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            items = value if isinstance(value, list) else [value]
            converted[key] = [str(item) for item in items]
        return json.dumps(converted)

    def ping(self) -> bool:
        return self._get("/_ping") == "OK"

    def containers(self, all: bool = False, filters: dict | None = None, **other: Any) -> list[dict]:  # noqa: A002
        if other:
            return self._sdk().api.containers(all=all, filters=filters, **other)
        return self._get("/containers/json", all=int(all) or None, filters=self._filters(filters))

    def networks(self, filters: dict | None = None, **other: Any) -> list[dict]:
        if other:
            return self._sdk().api.networks(filters=filters, **other)
        return self._get("/networks", filters=self._filters(filters))

    def volumes(self, filters: dict | None = None, **other: Any) -> dict:
        if other:
            return self._sdk().api.volumes(filters=filters, **other)
        return self._get("/volumes", filters=self._filters(filters))

    def images(self, **other: Any) -> list[dict]:
        if other:
            return self._sdk().api.images(**other)
        return self._get("/images/json")

    def get_archive(self, container: str, path: str, **other: Any) -> tuple[Any, dict]:
        """Like the SDK's: (chunks of a tar, stat of `path`)."""
        if other:
            return self._sdk().api.get_archive(container, path, **other)
        body, headers = self._raw(f"/containers/{container}/archive", path=path)
        stat = headers.get("X-Docker-Container-Path-Stat")
        return iter([body]), json.loads(base64.b64decode(stat)) if stat else {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sdk().api, name)


class FastClient:
    """`docker.DockerClient` stand-in: `api` lists fast; everything else is the SDK's client."""

    def __init__(self, path: str, sdk_factory: Callable[[], Any], timeout: float = 120) -> None:
        self._factory = sdk_factory
        self._sdk: Any = None
        self._lock = threading.Lock()
        self.api = _FastApi(path, timeout, self.sdk)
        self.socket = path

    def sdk(self) -> Any:
        with self._lock:
            if self._sdk is None:
                self._sdk = self._factory()
            return self._sdk

    def ping(self) -> bool:
        return self.api.ping()

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sdk(), name)

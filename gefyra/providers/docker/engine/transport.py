"""HTTP GETs to the engine: over its unix socket with http.client (no docker SDK import: `gefyra plan` and
`status` start fast), or through the SDK's session for tcp/TLS/ssh engines. Failures to connect become
gefyra errors here; HTTP error answers are the reader's business."""

from __future__ import annotations

import errno
import http.client
import os
import socket
from collections.abc import Callable, Mapping
from typing import Protocol

from gefyra.providers.errors import EngineError, EnginePermission, EngineUnavailable

DEFAULT_HOST = "unix:///var/run/docker.sock"
HINT_DOWN = "start it (bash scripts/engine.sh) or set DOCKER_HOST"
HINT_PERMISSION = "run as a user allowed to use the engine (e.g. in the `docker` group) or set DOCKER_HOST"


class Answer(Protocol):
    status: int
    body: bytes
    headers: Mapping[str, str]


class _Answer:
    def __init__(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.status, self.body, self.headers = status, body, headers


class Transport(Protocol):
    """Where the engine is and how to GET from it."""

    host: str
    local: bool  # the engine runs on this machine: its host ports are ours to probe

    def get(self, path: str, query: str) -> Answer: ...


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "") or DEFAULT_HOST


def os_error(error: OSError, host: str) -> EngineError:
    """A connection problem with the engine at `host`, as one line (never read as "missing")."""
    if isinstance(error, PermissionError) or error.errno in (errno.EACCES, errno.EPERM):
        return EnginePermission(f"permission denied on the Docker engine at {host}", hint=HINT_PERMISSION)
    if isinstance(error, FileNotFoundError):
        return EngineUnavailable(f"Docker engine not reachable: no socket at {host}", hint=HINT_DOWN)
    if isinstance(error, ConnectionRefusedError):
        return EngineUnavailable(f"Docker engine not reachable: connection refused at {host}", hint=HINT_DOWN)
    if isinstance(error, TimeoutError | socket.timeout):
        return EngineUnavailable(f"Docker engine at {host} did not answer in time", hint=HINT_DOWN)
    why = error.strerror or str(error) or type(error).__name__
    return EngineUnavailable(f"Docker engine not reachable at {host}: {why}", hint=HINT_DOWN)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class UnixTransport:
    """One short HTTP/1.1 connection per GET over the engine's unix socket."""

    local = True

    def __init__(self, path: str, timeout: float = 120) -> None:
        self.path, self.timeout = path, timeout
        self.host = f"unix://{path}"

    def get(self, path: str, query: str) -> Answer:
        connection = _UnixConnection(self.path, self.timeout)
        try:
            connection.request("GET", path + (f"?{query}" if query else ""))
            response = connection.getresponse()
            body = response.read()
        except OSError as error:
            raise os_error(error, self.host) from None
        except http.client.HTTPException as error:
            raise EngineUnavailable(f"Docker engine at {self.host} sent a broken answer: {error!r}") from None
        finally:
            connection.close()
        return _Answer(response.status, body, dict(response.headers))


class SdkResponse(Protocol):
    status_code: int
    content: bytes
    headers: Mapping[str, str]


class SdkSession(Protocol):
    """The parts of the docker SDK's APIClient (a requests session) a GET needs."""

    base_url: str
    api_version: str

    def get(self, url: str) -> SdkResponse: ...


class SessionTransport:
    """GETs through the docker SDK's HTTP session (tcp, TLS, ssh engines)."""

    def __init__(self, host: str, session: Callable[[], SdkSession]) -> None:
        self.host = host
        self.local = any(part in host for part in ("://localhost", "://127.0.0.1", "://[::1]"))
        self._session = session

    def get(self, path: str, query: str) -> Answer:
        import requests

        api = self._session()
        base = f"{api.base_url}/v{api.api_version}"
        try:
            response = api.get(base + path + (f"?{query}" if query else ""))
        except requests.exceptions.ConnectionError as error:
            raise EngineUnavailable(
                f"Docker engine not reachable at {self.host}: {error}", hint=HINT_DOWN
            ) from None
        except requests.exceptions.Timeout:
            raise EngineUnavailable(
                f"Docker engine at {self.host} did not answer in time", hint=HINT_DOWN
            ) from None
        return _Answer(response.status_code, response.content, dict(response.headers))

"""`gefyra list` for a local engine without the engine package: one `GET /containers/json` over the unix
socket, read with the standard library only. Importing the engine package (pydantic models, the SDK
boundary) costs more than the whole listing; `list` reads labels and names, nothing it has to validate.

Any other engine (DOCKER_HOST tcp://, ssh://) returns None from `local_listing`: the caller takes the
typed path (gefyra.providers.docker.oneoff.listing).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from gefyra.model import labels
from gefyra.providers.errors import EngineError, EnginePermission, EngineUnavailable

TIMEOUT_S = 30.0
_HINT_DOWN = "start it (bash scripts/engine.sh) or set DOCKER_HOST"
_HINT_PERMISSION = "run as a user allowed to use the engine (e.g. in the `docker` group) or set DOCKER_HOST"

Row = dict[str, str]


def rows(items: Sequence[Mapping[str, object]]) -> list[Row]:
    """Rows of `gefyra list` from `GET /containers/json` items, sorted by project, kind and name (pure)."""
    found = []
    for item in items:
        item_labels = item.get("Labels")
        tags = item_labels if isinstance(item_labels, dict) else {}
        names = item.get("Names")
        first = names[0] if isinstance(names, list) and names else "/?"
        found.append(
            {
                "project": str(tags.get(labels.PROJECT, "")),
                "kind": str(tags.get(labels.KIND, "")),
                "name": str(tags.get(labels.NAME, "")),
                "docker_name": str(first).lstrip("/"),
                "state": str(item.get("State") or "unknown"),
                "status": str(item.get("Status") or ""),
                "image": str(item.get("Image") or ""),
            }
        )
    return sorted(found, key=lambda row: (row["project"], row["kind"], row["name"]))


def local_listing(project: str | None) -> list[Row] | None:
    """The listing of a local engine (unix socket), None for any other engine."""
    host = os.environ.get("DOCKER_HOST", "") or "unix:///var/run/docker.sock"
    if not host.startswith("unix://"):
        return None
    path = host.removeprefix("unix://")
    filters = json.dumps({"label": [labels.project_filter(project)]})
    body = _get(path, f"/containers/json?all=1&filters={quote(filters)}", host)
    items = json.loads(body)
    if not isinstance(items, list):
        raise EngineError(f"Docker engine at {host} sent no container list")
    return rows(items)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT_S)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _get(path: str, target: str, host: str) -> bytes:
    connection = _UnixConnection(path)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
    except PermissionError:
        raise EnginePermission(
            f"permission denied on the Docker engine at {host}", hint=_HINT_PERMISSION
        ) from None
    except FileNotFoundError:
        raise EngineUnavailable(
            f"Docker engine not reachable: no socket at {host}", hint=_HINT_DOWN
        ) from None
    except (OSError, http.client.HTTPException) as error:
        why = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise EngineUnavailable(f"Docker engine not reachable at {host}: {why}", hint=_HINT_DOWN) from None
    finally:
        connection.close()
    if response.status != 200:
        raise EngineError(
            f"listing containers at {host}: {response.status} {body.decode(errors='replace')[:200]}"
        )
    return body

"""This machine's client identity and which cluster each project uses, kept under $XDG_CONFIG_HOME/gefyra.

- `client-id`: a stable random id of this machine (6 hex digits), made once. A GefyraClient is named
  `<project>-<client id>`, so two developers with the same gefyra.yaml never collide.
- `clusters/<project>.json`: the kubeconfig and context the project last used, so `gefyra down <project>`
  without gefyra.yaml still finds its cluster objects. Removed once `down` verified nothing is left.

No Kubernetes here (and no import of it): a project without `cluster:` only stats a file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

from gefyra.errors import ProviderError
from gefyra.providers.kube.boundary import ClusterRef

CLIENT_ID_ENV = "GEFYRA_CLIENT_ID"  # overrides the file (tests, CI machines that share a home)
_ID = re.compile(r"^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$")


def config_home() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".config") / "gefyra"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _write(path: Path, text: str) -> None:
    """Write atomically (a fresh file renamed over the old one), mode 600."""
    _private_dir(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temp, path)


def client_id() -> str:
    """The machine's stable client id (made on first use)."""
    override = os.environ.get(CLIENT_ID_ENV, "").strip()
    if override:
        if not _ID.match(override):
            raise ProviderError(f"{CLIENT_ID_ENV}={override!r} is not a DNS label of at most 16 characters")
        return override
    path = config_home() / "client-id"
    try:
        found = path.read_text().strip()
    except FileNotFoundError:
        found = ""
    if _ID.match(found):
        return found
    if found:
        raise ProviderError(f"{path} does not hold a client id ({found[:20]!r})", hint=f"remove {path}")
    made = secrets.token_hex(3)
    _write(path, made + "\n")
    return made


def _record_path(project: str) -> Path:
    return config_home() / "clusters" / f"{project}.json"


def remember(project: str, ref: ClusterRef) -> None:
    """Note the cluster `project` uses (before anything is made there)."""
    if recorded(project) != ref:
        _write(_record_path(project), json.dumps({"kubeconfig": ref.kubeconfig, "context": ref.context}))


def recorded(project: str) -> ClusterRef | None:
    try:
        data = json.loads(_record_path(project).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("kubeconfig"), str):
        return None
    context = data.get("context")
    return ClusterRef(data["kubeconfig"], context if isinstance(context, str) else None)


def recorded_projects() -> list[str]:
    folder = config_home() / "clusters"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def forget(project: str) -> None:
    _record_path(project).unlink(missing_ok=True)

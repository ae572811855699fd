"""Pod volumes as host directories bind-mounted into the containers (what a kubelet's volume manager does).

emptyDir: a directory kept for the Pod's lifetime (tmpfs for medium Memory); hostPath: the host path itself;
configMap / secret / downwardAPI / projected (with serviceAccountToken): files rewritten on every sync, so
updates reach running containers; persistentVolumeClaim: a directory per claim that outlives the Pod.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .podenv import ConfigError, Lookup, field_value, required

Obj = dict[str, Any]
TokenSource = Callable[[Obj, Obj], str]  # (pod, serviceAccountToken projection) -> token


def _select(data: dict[str, bytes], source: Obj, mode: int, what: str) -> dict[str, tuple[bytes, int]]:
    """The files of a ConfigMap or Secret volume: every key, or only the source's `items`."""
    items, optional = source.get("items"), bool(source.get("optional"))
    mode = source.get("defaultMode", mode)
    if not items:
        return {k: (v, mode) for k, v in data.items()}
    files = {}
    for item in items:
        if item["key"] not in data:
            if optional:
                continue
            raise ConfigError(f'key "{item["key"]}" not found in {what}')
        files[item["path"]] = (data[item["key"]], item.get("mode", mode))
    return files


def _configmap_files(
    source: Obj, namespace: str, configmap: Lookup, mode: int
) -> dict[str, tuple[bytes, int]]:
    found = required(configmap, namespace, source["name"], source.get("optional"), "configmap")
    if found is None:
        return {}
    data = {k: v.encode() for k, v in (found.get("data") or {}).items()}
    data.update({k: base64.b64decode(v) for k, v in (found.get("binaryData") or {}).items()})
    return _select(data, source, mode, f'configmap "{source["name"]}"')


def _secret_files(source: Obj, namespace: str, secret: Lookup, mode: int) -> dict[str, tuple[bytes, int]]:
    name = source.get("secretName") or source.get("name")
    found = required(secret, namespace, name, source.get("optional"), "secret")
    if found is None:
        return {}
    data = {k: base64.b64decode(v) for k, v in (found.get("data") or {}).items()}
    return _select(data, source, mode, f'secret "{name}"')


def _downward_files(
    source: Obj, pod: Obj, pod_ip: str, host_ip: str, mode: int
) -> dict[str, tuple[bytes, int]]:
    files = {}
    for item in source.get("items") or []:
        if "fieldRef" in item:
            value = field_value(pod, item["fieldRef"]["fieldPath"], pod_ip, host_ip)
        else:
            value = "0"
        files[item["path"]] = (value.encode(), item.get("mode", mode))
    return files


def volume_files(
    volume: Obj, pod: Obj, pod_ip: str, host_ip: str, configmap: Lookup, secret: Lookup, token: TokenSource
) -> dict[str, tuple[bytes, int]]:
    """The files of a generated volume (configMap, secret, downwardAPI, projected)."""
    namespace = pod["metadata"].get("namespace", "default")
    if "configMap" in volume:
        return _configmap_files(volume["configMap"], namespace, configmap, 0o644)
    if "secret" in volume:
        return _secret_files(volume["secret"], namespace, secret, 0o644)
    if "downwardAPI" in volume:
        return _downward_files(volume["downwardAPI"], pod, pod_ip, host_ip, 0o644)
    projected = volume["projected"]
    mode = projected.get("defaultMode", 0o644)
    files: dict[str, tuple[bytes, int]] = {}
    for source in projected.get("sources") or []:
        if "configMap" in source:
            files.update(_configmap_files(source["configMap"], namespace, configmap, mode))
        elif "secret" in source:
            files.update(_secret_files(source["secret"], namespace, secret, mode))
        elif "downwardAPI" in source:
            files.update(_downward_files(source["downwardAPI"], pod, pod_ip, host_ip, mode))
        elif "serviceAccountToken" in source:
            projection = source["serviceAccountToken"]
            files[projection["path"]] = (token(pod, projection).encode(), mode)
    return files


def sync_files(directory: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """Make `directory` hold exactly `files`; unchanged files are left alone (no needless inotify churn)."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for relative, (content, mode) in files.items():
        path = directory / relative
        wanted.add(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != content:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(content)
            os.chmod(tmp, mode)
            os.replace(tmp, path)  # atomic for readers inside the container
        elif (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
    for path in sorted(directory.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def is_generated(volume: Obj) -> bool:
    return any(k in volume for k in ("configMap", "secret", "downwardAPI", "projected"))


def host_source(volume: Obj, pod_dir: Path, claims_dir: Path) -> Path | None:
    """Host directory of a volume (None for a memory-backed emptyDir, which is a tmpfs mount)."""
    if "hostPath" in volume:
        path = Path(volume["hostPath"]["path"])
        kind = volume["hostPath"].get("type", "")
        if kind in ("DirectoryOrCreate",) and not path.exists():
            path.mkdir(parents=True, exist_ok=True)
        return path
    if "persistentVolumeClaim" in volume:
        path = claims_dir / volume["persistentVolumeClaim"]["claimName"]
        path.mkdir(parents=True, exist_ok=True)
        return path
    if "emptyDir" in volume and (volume["emptyDir"] or {}).get("medium") == "Memory":
        return None
    path = pod_dir / "volumes" / volume["name"]
    path.mkdir(parents=True, exist_ok=True)
    if "emptyDir" in volume:
        os.chmod(path, 0o777)  # any container user may write, as on a real node
    return path


def remove_pod_dir(pod_dir: Path) -> None:
    shutil.rmtree(pod_dir, ignore_errors=True)

"""Put files into a container before it starts, as root-owned mode-600 files.

Secrets (WireGuard configs, tokens) travel this way: never in environment variables, labels, command lines or
host bind mounts that other users could read. The file lives in the container's writable layer and survives
restarts of that container; it goes away with the container. The parent directory must exist in the image
(the data-plane images create theirs with mode 700).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from gefyra.dataplane.archive import tar_of
from gefyra.providers.docker.engine import Engine


def put_files(engine: Engine, container: str, files: Mapping[str, str | bytes], mode: int = 0o600) -> None:
    """Copy absolute path -> content into a created (not yet started) or running container."""
    by_dir: dict[str, dict[str, str | bytes]] = {}
    for path, content in files.items():
        if not posixpath.isabs(path):
            raise ValueError(f"container path must be absolute: {path}")
        directory, name = posixpath.split(path)
        by_dir.setdefault(directory, {})[name] = content
    for directory, group in sorted(by_dir.items()):
        engine.put_archive(container, directory, tar_of(group, mode))

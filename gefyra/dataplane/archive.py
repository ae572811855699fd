"""Tar archives of small files, built in memory (what `docker cp` into a container takes). Pure."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Mapping


def tar_of(files: Mapping[str, str | bytes], mode: int = 0o600) -> bytes:
    """An uncompressed tar of plain files (name -> content), root-owned with `mode`; no directory entries,
    so extracting never changes the permissions of an existing directory."""
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in sorted(files):
            if "/" in name or name in ("", ".", ".."):
                raise ValueError(f"file name must be a plain name: {name!r}")
            content = files[name]
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.uid, info.gid = len(data), mode, now, 0, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()

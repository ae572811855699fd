"""The one content hash of a build context (app containers' `build:` and the data-plane images), honouring
.dockerignore (simple globs) and the `ignore` globs of the container's `watch` rebuild rules, so an unchanged
context is not rebuilt and a file watch ignores does not rebuild through the drift tick either.

File digests are cached by (path, size, mtime): re-planning in watch mode only reads files that changed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

_cache: dict[tuple[str, int, int], str] = {}
_ALWAYS_IGNORED = {".git", "__pycache__"}  # never sources: a compiled cache must not force a rebuild


def _ignore_patterns(context: Path) -> list[str]:
    try:
        lines = (context / ".dockerignore").read_text().splitlines()
    except OSError:
        return []
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def _ignored(relative: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:  # later patterns win; "!" re-includes, like Docker
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        if fnmatch.fnmatch(relative, body) or fnmatch.fnmatch(relative, body + "/*"):
            ignored = not negate
    return ignored


WatchIgnore = tuple[Path, Sequence[str]]  # a rebuild rule's root and its ignore globs


def _watch_ignored(path: Path, rules: Iterable[WatchIgnore]) -> bool:
    """True when rules cover `path` and each covering rule ignores it (the same test as watch's own)."""
    covering = [(root, globs) for root, globs in rules if path == root or root in path.parents]
    return bool(covering) and all(_matches(path, root, globs) for root, globs in covering)


def _matches(path: Path, root: Path, globs: Sequence[str]) -> bool:
    relative = path.relative_to(root).as_posix() if path != root else path.name
    return any(
        fnmatch.fnmatch(relative, glob)
        or fnmatch.fnmatch(path.name, glob)
        or fnmatch.fnmatch(relative, glob.rstrip("/") + "/*")
        for glob in globs
    )


def _file_digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    digest = _cache.get(key)
    if digest is None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        _cache[key] = digest
    return digest


def context_hash(context: Path, watch_ignores: Sequence[WatchIgnore] = ()) -> str:
    """sha256 over (relative path, executable bit, content digest) of every file docker would send, minus
    the files `watch_ignores` (rebuild rules' roots and ignore globs) ignore."""
    patterns = _ignore_patterns(context)
    rules = [(Path(root), tuple(globs)) for root, globs in watch_ignores if globs]
    total = hashlib.sha256()
    for root, dirs, files in os.walk(context):
        rel_root = os.path.relpath(root, context)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _ALWAYS_IGNORED
            and not _ignored(os.path.normpath(os.path.join(rel_root, d)), patterns)
        )
        for name in sorted(files):
            relative = os.path.normpath(os.path.join(rel_root, name))
            if _ignored(relative, patterns):
                continue
            path = Path(root, name)
            if not path.is_file() or (rules and _watch_ignored(path, rules)):
                continue
            executable = os.access(path, os.X_OK)
            total.update(f"{relative}\0{int(executable)}\0{_file_digest(path)}\n".encode())
    return "sha256:" + total.hexdigest()

"""Local files gefyra.yaml names must exist: env files, build contexts and Dockerfiles, mount sources.

Checked at load time from the plain YAML data (not the validated Config), so a missing file is reported at
its line even when other parts of the file are invalid, and `validate` never calls a file valid that `apply`
would fail on. Watched paths are not checked: a watched file may appear later.
Entries whose text holds a placeholder for a missing variable (`doc.tainted`) are skipped: that variable is
the problem, already reported.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from gefyra.config import forms
from gefyra.config.document import Document
from gefyra.config.envfile import MAX_SIZE, EnvFileError, read_env_file
from gefyra.config.problems import did_you_mean

Located = tuple[tuple[int, int], str]
MAX_ENV_BYTES = 4 * MAX_SIZE  # all env files together, each read once however often it is named
MAX_HINTS = 20  # "did you mean" for the first missing files only: each one lists a folder


class _Budget:
    """What the checks of one file may spend: env file bytes (cached by path) and folder listings."""

    def __init__(self) -> None:
        self.env_files: dict[Path, dict[str, str] | EnvFileError] = {}
        self.env_bytes = 0
        self.hints = 0

    def read_env_file(self, path: Path) -> dict[str, str]:
        if path not in self.env_files:
            try:
                size = path.stat().st_size
            except (OSError, ValueError):
                size = 0
            if self.env_bytes + size > MAX_ENV_BYTES:
                raise EnvFileError(
                    f"env file {path}: the env files of this project are larger than "
                    f"{MAX_ENV_BYTES // MAX_SIZE} MiB together"
                )
            self.env_bytes += size
            try:
                self.env_files[path] = read_env_file(path)
            except EnvFileError as error:
                self.env_files[path] = error
        found = self.env_files[path]
        if isinstance(found, EnvFileError):
            raise found
        return found

    def near_miss(self, path: Path, *, folders_only: bool) -> str:
        self.hints += 1
        return _near_miss(path, folders_only=folders_only) if self.hints <= MAX_HINTS else ""


def check_files(doc: Document, base_dir: Path) -> tuple[list[Located], dict[str, dict[str, str]]]:
    """Problems with local files, and the values of each container's env files (by container name)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    containers = data.get("containers")
    problems: list[Located] = []
    env_values: dict[str, dict[str, str]] = {}
    if not isinstance(containers, dict):
        return problems, env_values
    budget = _Budget()
    for name, container in containers.items():
        if not isinstance(container, dict):
            continue
        checker = _Checker(doc, base_dir, name, problems, budget)
        env_values[str(name)] = checker.env_files(container.get("env_file"))
        checker.build(container.get("build"))
        checker.mounts(container.get("mounts"))
    return problems, env_values


class _Checker:
    """The checks of one container; problems are appended to the shared list."""

    def __init__(
        self, doc: Document, base_dir: Path, name: Any, problems: list[Located], budget: _Budget
    ) -> None:
        self.doc, self.base_dir, self.name, self.problems = doc, base_dir, name, problems
        self.budget = budget

    def env_files(self, value: Any) -> dict[str, str]:
        """Read every env file now, so that a missing or malformed one is reported at the line naming it.

        Later files win; a file named twice counts where it is named last (so its values are merged once).
        """
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        read: dict[Path, dict[str, str]] = {}
        for index, file in enumerate(items):
            path = self._path("env_file", index) if isinstance(value, list) else self._path("env_file")
            if not isinstance(file, str) or self._tainted(path):
                continue
            resolved = Path(forms.resolve_text(self.base_dir, file))
            try:
                read[resolved] = self.budget.read_env_file(resolved)
            except EnvFileError as error:
                where = f"{resolved}:{error.line}: " if error.line else ""
                self._report(path, f"env_file: {where}{error}")
            except (OSError, ValueError) as error:  # a name too long or with a NUL byte
                self._report(path, f"env_file: cannot read env file {file!r}: {error}")
            else:
                read[resolved] = read.pop(resolved)  # to the end: the last naming decides the order
        values: dict[str, str] = {}
        for found in read.values():
            values.update(found)
        return values

    def build(self, value: Any) -> None:
        """The context must be a folder and hold the Dockerfile (docker would fail far from this line)."""
        build = forms.build_short(value)
        if not isinstance(build, dict) or not isinstance(build.get("context"), str):
            return
        long_form = isinstance(value, dict)
        context_path = self._path("build", "context") if long_form else self._path("build")
        context = build["context"]
        if self._tainted(context_path):
            return
        folder = forms.resolve_path(self.base_dir, context)
        kind = _kind(folder)
        if kind != "folder":
            if kind is None:
                hint = self._relative(context) + self.budget.near_miss(folder, folders_only=True)
                self._report(context_path, f"build.context: build context {context} does not exist{hint}")
            else:
                self._report(context_path, f"build.context: build context {context} is not a folder")
            return
        dockerfile = build.get("dockerfile", "Dockerfile")
        dockerfile_path = self._path("build", "dockerfile") if "dockerfile" in build else context_path
        if not isinstance(dockerfile, str) or self._tainted(dockerfile_path):
            return
        file = Path(os.path.normpath(folder / dockerfile))
        shown = dockerfile if os.path.isabs(dockerfile) else os.path.join(context, dockerfile)
        kind = _kind(file)
        if kind is None:
            hint = self.budget.near_miss(file, folders_only=False)
            if not hint and "dockerfile" not in build:
                hint = " (set build.dockerfile to use another file)"
            self._report(dockerfile_path, f"build.dockerfile: Dockerfile {shown} not found{hint}")
        elif kind != "file":
            self._report(dockerfile_path, f"build.dockerfile: Dockerfile {shown} is not a file")

    def mounts(self, value: Any) -> None:
        """Docker would create a missing bind source as an empty root-owned folder, or refuse to start."""
        if not isinstance(value, list):
            return
        for index, item in enumerate(value):
            try:
                mount = forms.parse_mount(item)
            except ValueError:
                continue  # the model reports the malformed short form
            if not isinstance(mount, dict) or not isinstance(mount.get("source"), str):
                continue
            path = (
                self._path("mounts", index, "source")
                if isinstance(item, dict)
                else self._path("mounts", index)
            )
            if self._tainted(self._path("mounts", index)) or self._tainted(path):
                continue
            source = mount["source"]
            resolved = forms.resolve_text(self.base_dir, source)
            if _kind(resolved) is None:
                hint = self.budget.near_miss(Path(resolved), folders_only=False)
                message = f"mount source {source} does not exist{self._relative(source)}{hint}"
                self._report(path, f"mounts[{index}]: {message}")

    def _path(self, *parts: Any) -> tuple[Any, ...]:
        return ("containers", self.name, *parts)

    def _tainted(self, path: tuple[Any, ...]) -> bool:
        return path in self.doc.tainted

    def _relative(self, text: str) -> str:
        if os.path.isabs(os.path.expanduser(text)):
            return ""
        return f" (relative to {self.base_dir})"

    def _report(self, path: tuple[Any, ...], message: str) -> None:
        self.problems.append((self.doc.position(path), f"containers.{self.name}.{message}"))


def _kind(path: Path | str) -> str | None:
    """'folder', 'file', 'other' or None when nothing is there (or the name cannot exist)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


def _near_miss(path: Path, *, folders_only: bool) -> str:
    """' (did you mean 'x'?)' for a name in `path`'s folder close to its own, or ''."""
    try:
        with os.scandir(path.parent) as entries:
            names = [e.name for e in entries if not folders_only or e.is_dir()]
    except (OSError, ValueError):
        return ""
    return did_you_mean(path.name, names[:1000])

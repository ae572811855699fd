"""Mounts that give a container more of this machine than the project: allowed, but said plainly.

`mount_warnings(config)` lists, once per mount and in file order, each mount whose source is the host's root,
a system folder, the Docker socket, the home folder (or a folder of credentials in it) or anything outside
the project folder, with the reasons. `plan` and `apply` print them before anything starts.
It changes nothing; it reads the file system only to resolve symlinks (`./link -> /` is the root too).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

from gefyra.config.model import Config

DOCKER_SOCKETS = (Path("/var/run/docker.sock"), Path("/run/docker.sock"))
SYSTEM_FOLDERS = tuple(
    Path(p) for p in ("/etc", "/root", "/boot", "/proc", "/sys", "/dev", "/usr", "/bin", "/sbin", "/lib")
) + (Path("/var/lib/docker"),)
CREDENTIALS = (".ssh", ".aws", ".azure", ".kube", ".docker", ".gnupg", ".config/gcloud", ".password-store")


class MountRisk(StrEnum):
    ROOT = "root"
    SYSTEM = "system"
    DOCKER_SOCKET = "docker-socket"
    HOME = "home"
    CREDENTIALS = "credentials"
    OUTSIDE_PROJECT = "outside-project"


class MountWarning(BaseModel):
    """One mount worth a warning; prints as `file:line:col: containers.web.mounts[0]: ...`."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int
    container: str
    index: int
    source: Path
    target: str
    read_only: bool
    risks: tuple[MountRisk, ...]
    reasons: tuple[str, ...]  # one sentence per risk, in the same order

    def __str__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return (
            f"{self.file}:{self.line}:{self.column}: containers.{self.container}.mounts[{self.index}]: "
            f"{self.source} is mounted {mode} at {self.target}: {'; '.join(self.reasons)}"
        )


def mount_warnings(
    config: Config, *, home: Path | None = None, docker_sockets: Sequence[Path] = DOCKER_SOCKETS
) -> list[MountWarning]:
    """Every mount of `config` that reaches beyond the project, once each, in file order.

    `home` defaults to the user's home folder; `docker_sockets` to the usual socket paths (pass the one of
    DOCKER_HOST too when it is a unix socket).
    """
    home = Path(os.path.normpath(home or Path.home()))
    project = Path(os.path.realpath(config.base_dir)) if config._source is not None else None
    found: list[MountWarning] = []
    for name, container in config.containers.items():
        for index, mount in enumerate(container.mounts):
            risks = _risks(mount.source, project, home, docker_sockets)
            if not risks:
                continue
            line, column = config._mount_positions.get((name, index), (1, 1))
            found.append(
                MountWarning(
                    file=config._display or str(config._source or "gefyra.yaml"),
                    line=line,
                    column=column,
                    container=name,
                    index=index,
                    source=mount.source,
                    target=mount.target,
                    read_only=mount.read_only,
                    risks=tuple(risk for risk, _ in risks),
                    reasons=tuple(reason for _, reason in risks),
                )
            )
    return sorted(found, key=lambda w: (w.line, w.column))


def _risks(
    source: Path, project: Path | None, home: Path, sockets: Sequence[Path]
) -> list[tuple[MountRisk, str]]:
    real = Path(os.path.realpath(source))
    seen = (source, real) if real != source else (source,)
    risks: list[tuple[MountRisk, str]] = []
    if any(path == Path("/") for path in seen):
        risks.append((MountRisk.ROOT, "it is the host's root folder (every file of this machine)"))
    else:
        socket = _touching(seen, sockets)
        if socket is not None:
            reason = f"it reaches the Docker socket {socket} (control of Docker is root on this machine)"
            risks.append((MountRisk.DOCKER_SOCKET, reason))
        system = _touching(seen, SYSTEM_FOLDERS)
        if system is not None:
            risks.append((MountRisk.SYSTEM, f"it reaches the system folder {system}"))
        if any(_within(home, path) for path in seen):
            reason = f"it is or holds the home folder {home} (keys, tokens, shell history)"
            risks.append((MountRisk.HOME, reason))
        else:
            secret = _touching(seen, [home / name for name in CREDENTIALS])
            if secret is not None:
                risks.append((MountRisk.CREDENTIALS, f"it reaches the credentials folder {secret}"))
    if project is not None and not _within(real, project):
        link = f" (it is a link to {real})" if real != source else ""
        risks.append((MountRisk.OUTSIDE_PROJECT, f"it is outside the project folder {project}{link}"))
    return risks


def _touching(paths: Sequence[Path], sensitive: Sequence[Path]) -> Path | None:
    """The first sensitive path that one of `paths` is, is inside, or holds."""
    for candidate in sensitive:
        if any(_within(path, candidate) or _within(candidate, path) for path in paths):
            return candidate
    return None


def _within(path: Path, folder: Path) -> bool:
    """`path` is `folder` or below it (by name: both are absolute and normalised)."""
    return PurePosixPath(path).is_relative_to(PurePosixPath(folder))

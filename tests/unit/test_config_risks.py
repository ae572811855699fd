"""mount_warnings: mounts reaching beyond the project are listed once each, at their line, with reasons."""

from __future__ import annotations

from pathlib import Path

from gefyra.config import load
from gefyra.config.risks import MountRisk, MountWarning, mount_warnings
from tests.unit.config_helpers import write


def _project(tmp_path: Path, mounts: list[str]) -> tuple[Path, Path]:
    home = tmp_path / "home"
    project = home / "src" / "shop"
    (project / "src").mkdir(parents=True)
    (home / ".ssh").mkdir()
    (tmp_path / "socket-dir").mkdir()
    (tmp_path / "socket-dir" / "docker.sock").write_text("")  # stands for the socket: only its path matters
    (project / "escape").symlink_to(tmp_path / "socket-dir")
    lines = "".join(f"      - {m}\n" for m in mounts)
    write(project, f"version: 1\ncontainers:\n  web:\n    image: nginx\n    mounts:\n{lines}")
    return home, project


def _warnings(tmp_path: Path, mounts: list[str]) -> list[MountWarning]:
    home, project = _project(tmp_path, mounts)
    config = load(cwd=project, environ={})
    return mount_warnings(config, home=home, docker_sockets=[tmp_path / "socket-dir" / "docker.sock"])


def test_mounts_inside_the_project_give_no_warning(tmp_path):
    assert _warnings(tmp_path, ["./src:/app", ".:/all:ro", "{source: src, target: /long}"]) == []


def test_each_risky_mount_is_named_once_at_its_line_with_every_reason(tmp_path):
    socket = tmp_path / "socket-dir" / "docker.sock"
    found = _warnings(
        tmp_path,
        [
            "./src:/app",
            "/:/host:ro",
            "/etc:/etc-host",
            f"{tmp_path / 'home'}:/h",
            f"{tmp_path / 'home' / '.ssh'}:/root/.ssh:ro",
            f"{{source: {socket}, target: /var/run/docker.sock}}",
            "./escape:/e",
        ],
    )
    assert [(w.line, w.column, w.index) for w in found] == [
        (7, 9, 1),
        (8, 9, 2),
        (9, 9, 3),
        (10, 9, 4),
        (11, 18, 5),
        (12, 9, 6),
    ]
    assert [w.risks for w in found] == [
        (MountRisk.ROOT, MountRisk.OUTSIDE_PROJECT),
        (MountRisk.SYSTEM, MountRisk.OUTSIDE_PROJECT),
        (MountRisk.HOME, MountRisk.OUTSIDE_PROJECT),
        (MountRisk.CREDENTIALS, MountRisk.OUTSIDE_PROJECT),
        (MountRisk.DOCKER_SOCKET, MountRisk.OUTSIDE_PROJECT),
        (MountRisk.DOCKER_SOCKET, MountRisk.OUTSIDE_PROJECT),  # through a symlink inside the project
    ]
    project = tmp_path / "home" / "src" / "shop"
    assert str(found[0]) == (
        "gefyra.yaml:7:9: containers.web.mounts[1]: / is mounted read-only at /host: it is the host's root "
        f"folder (every file of this machine); it is outside the project folder {project}"
    )
    assert str(found[5]) == (
        f"gefyra.yaml:12:9: containers.web.mounts[6]: {project / 'escape'} is mounted read-write at /e: it "
        f"reaches the Docker socket {socket} (control of Docker is root on this machine); it is outside the "
        f"project folder {project} (it is a link to {tmp_path / 'socket-dir'})"
    )


def test_a_folder_holding_a_sensitive_path_is_risky_too(tmp_path):
    found = _warnings(tmp_path, [f"{tmp_path}:/everything"])
    assert found[0].risks == (MountRisk.DOCKER_SOCKET, MountRisk.HOME, MountRisk.OUTSIDE_PROJECT)


def test_a_file_outside_the_project_is_flagged_as_such(tmp_path):
    other = tmp_path / "shared.txt"
    other.write_text("x")
    found = _warnings(tmp_path, [f"{other}:/shared.txt:ro"])
    assert [w.risks for w in found] == [(MountRisk.OUTSIDE_PROJECT,)]
    assert found[0].model_dump()["read_only"] is True

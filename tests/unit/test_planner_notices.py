"""Notices: each mount that reaches beyond the project folder becomes one notice, in file order (pure)."""

from __future__ import annotations

from pathlib import Path

from gefyra.config import Config
from gefyra.config.risks import mount_warnings
from gefyra.planning.notices import RISKY_MOUNT, mount_notices


def _config(base: Path, mounts: list[str]) -> Config:
    data = {
        "version": 1,
        "project": {"name": "t-eng-notices"},
        "containers": {"a": {"image": "img", "mounts": mounts}},
    }
    return Config.model_validate(data, context={"base_dir": base})


def test_mounts_inside_the_project_give_no_notice(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    assert mount_notices(mount_warnings(_config(tmp_path, ["./src:/app"]), home=tmp_path / "home")) == ()


def test_each_risky_mount_is_one_notice_naming_the_mount_and_why(tmp_path: Path) -> None:
    config = _config(tmp_path, ["/etc:/host-etc:ro", "/var/run/docker.sock:/var/run/docker.sock"])
    notices = mount_notices(mount_warnings(config, home=tmp_path / "home"))
    assert [n.code for n in notices] == [RISKY_MOUNT, RISKY_MOUNT]
    assert "/etc" in notices[0].message and "docker.sock" in notices[1].message

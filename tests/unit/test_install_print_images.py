"""`gefyra install --print` takes its images from gefyra.yaml's `cluster.images` when there is one."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from gefyra.cli.app import app
from gefyra.providers.kube.images import operator_tag

NO_OVERRIDES = {"GEFYRA_OPERATOR_IMAGE": "", "GEFYRA_STOWAWAY_IMAGE": "", "GEFYRA_CARRIER_IMAGE": ""}
CONFIG = """version: 1
cluster:
  images:
    operator: registry.test:5000/gefyra-operator:1
    stowaway: registry.test:5000/gefyra-stowaway:1
    carrier: registry.test:5000/gefyra-carrier:1
"""


def _print(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, ["install", "--print", *args], env={**NO_OVERRIDES, **(env or {})})
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.stdout


def _images(yaml_text: str) -> set[str]:
    return {line.split("image:", 1)[1].strip() for line in yaml_text.splitlines() if "image:" in line}


def test_the_images_of_gefyra_yaml_are_used(tmp_path):
    (tmp_path / "gefyra.yaml").write_text(CONFIG)
    (tmp_path / "sub").mkdir()
    printed = _print(tmp_path / "sub")  # found upward, like every command finds it
    assert "registry.test:5000/gefyra-operator:1" in _images(printed)
    assert (
        "registry.test:5000/gefyra-stowaway:1" in printed and "registry.test:5000/gefyra-carrier:1" in printed
    )
    assert operator_tag() not in printed


def test_file_option_and_the_defaults_without_a_file(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "gefyra.yaml").write_text(CONFIG)
    (tmp_path / "elsewhere").mkdir()
    given = _print(tmp_path / "elsewhere", "--file", str(tmp_path / "project" / "gefyra.yaml"))
    assert "registry.test:5000/gefyra-operator:1" in _images(given)
    assert operator_tag() in _images(_print(tmp_path / "elsewhere"))  # no gefyra.yaml: the local tags


def test_environment_overrides_and_a_file_without_images(tmp_path):
    (tmp_path / "gefyra.yaml").write_text(CONFIG)
    env = {name: f"env.test/{name.lower()}:2" for name in NO_OVERRIDES}
    assert "env.test/gefyra_operator_image:2" in _images(_print(tmp_path, env=env))
    (tmp_path / "gefyra.yaml").write_text("version: 1\ncluster: {}\n")
    assert operator_tag() in _images(_print(tmp_path))

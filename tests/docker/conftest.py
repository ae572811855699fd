"""Fixtures of the engine Docker tests: a throw-away project (unique `t-eng-` name), always downed."""

from __future__ import annotations

import pytest

from tests.docker.engine_helpers import EngineProject


@pytest.fixture
def engine_project(tmp_path, docker_client, base_image, monkeypatch) -> EngineProject:
    monkeypatch.setenv("GEFYRA_LOCK_DIR", str(tmp_path / "locks"))
    project = EngineProject(tmp_path, docker_client)
    yield project
    from gefyra import api

    api.down(project.name, images=True)

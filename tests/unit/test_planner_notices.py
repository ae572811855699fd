"""Notices (pure): a `cluster:` or `bridges:` section nothing acts on is named; once acted on, it is not."""

from __future__ import annotations

from pathlib import Path

from gefyra.config import Config
from gefyra.model.resources import Resource
from gefyra.planning.notices import BRIDGES_IGNORED, CLUSTER_IGNORED, cluster_notices

BASE = Path("/nonexistent-gefyra-notices")


def _config(**sections) -> Config:
    data = {"version": 1, "project": {"name": "t-eng-notices"}, "containers": {"a": {"image": "img"}}}
    return Config.model_validate({**data, **sections}, context={"base_dir": BASE})


APP = Resource(kind="container", name="a", spec={})
CONNECTION = Resource(kind="connection", name="default", spec={})


def test_no_cluster_section_no_notice() -> None:
    assert cluster_notices(_config(), [APP]) == ()


def test_a_cluster_section_without_cluster_resources_is_ignored_and_says_why() -> None:
    (notice,) = cluster_notices(_config(cluster={}), [APP])
    assert notice.code == CLUSTER_IGNORED
    assert "GEFYRA_STOWAWAY_URL" in notice.message and "Operator" in notice.message


def test_a_cluster_section_with_a_connection_is_acted_on() -> None:
    assert cluster_notices(_config(cluster={}), [APP, CONNECTION]) == ()


def test_bridges_are_named_until_a_bridge_kind_exists() -> None:
    config = _config(cluster={}, bridges={"a": {"target": "deployment/a"}})
    notices = cluster_notices(config, [APP, CONNECTION])
    assert [n.code for n in notices] == [BRIDGES_IGNORED] and "(a)" in notices[0].message
    bridge = Resource(kind="bridge", name="a", spec={})
    assert cluster_notices(config, [APP, CONNECTION, bridge]) == ()

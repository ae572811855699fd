"""CLI contracts over the real engine: plan -o json, apply --dry-run, refusing to apply unconfirmed, and
`gefyra watch -o json` leaving the environment up on Ctrl-C."""

from __future__ import annotations

import json
import signal

import pytest

from tests.docker.engine_helpers import SLEEPER

pytestmark = pytest.mark.docker


def test_plan_json_and_dry_run_change_nothing(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    data = json.loads(engine_project.cli("plan", "-o", "json", check=2).stdout)
    assert data["summary"] == {"add": 2, "update": 0, "replace": 0, "destroy": 0, "unchanged": 0}
    assert [c["address"] for c in data["changes"]] == ["network/default", "container/a"]
    dry = engine_project.cli("apply", "--dry-run")
    assert "Plan: 2 to add, 0 to replace, 0 to destroy." in dry.stdout
    assert engine_project.labelled() == []


def test_apply_without_yes_is_refused_when_not_interactive(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    result = engine_project.cli("apply", check=1)
    assert "error: refusing to apply without confirmation" in result.stderr and "--yes" in result.stderr
    assert engine_project.labelled() == []


def test_watch_json_streams_events_and_ctrl_c_leaves_the_environment_up(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    proc = engine_project.popen("watch", "-o", "json")
    try:
        events = []
        for line in proc.stdout:
            events.append(json.loads(line))
            if events[-1]["event"] == "apply_finished":
                break
        assert events[0]["event"] == "watch_started" and events[0]["format_version"] == 1
        assert {e["event"] for e in events} >= {"plan", "step_started", "step_succeeded"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert "the environment keeps running" in proc.stderr.read()
    finally:
        proc.kill()
    assert engine_project.containers()["a"]["State"]["Running"]


NO_PEER_SOURCE = {"GEFYRA_STOWAWAY_URL": "", "GEFYRA_STOWAWAY_TOKEN_FILE": ""}
CLUSTER_NOTICE = "notice: the `cluster:` section is ignored"


def test_a_cluster_section_nothing_acts_on_is_named_once_and_fails_nothing(engine_project) -> None:
    engine_project.write({"a": SLEEPER}, cluster={"endpoint": "127.0.0.1:31820"})
    text = engine_project.cli("plan", check=2, env=NO_PEER_SOURCE)
    assert text.stderr.count(CLUSTER_NOTICE) == 1, text.stderr
    assert "GEFYRA_STOWAWAY_URL" in text.stderr and CLUSTER_NOTICE not in text.stdout
    assert text.stdout.strip().endswith("Plan: 2 to add, 0 to replace, 0 to destroy.")
    data = json.loads(engine_project.cli("plan", "-o", "json", check=2, env=NO_PEER_SOURCE).stdout)
    assert [n["code"] for n in data["notices"]] == ["cluster-ignored"]
    applied = engine_project.cli("apply", "--yes", env=NO_PEER_SOURCE)
    assert applied.stderr.count(CLUSTER_NOTICE) == 1, applied.stderr
    assert engine_project.containers()["a"]["State"]["Running"]
    events = [
        json.loads(line)
        for line in engine_project.cli("apply", "--yes", "-o", "json", env=NO_PEER_SOURCE).stdout.splitlines()
    ]
    assert [n["code"] for n in events[0]["data"]["notices"]] == ["cluster-ignored"]


def test_a_project_without_cluster_has_no_notice(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    assert "notice:" not in engine_project.cli("plan", check=2, env=NO_PEER_SOURCE).stderr

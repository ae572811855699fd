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
            if events[-1]["event"] == "watch_ready":
                break
        assert events[0]["event"] == "watch_started" and events[0]["format_version"] == 1
        seen = {e["event"] for e in events}
        assert seen >= {"plan", "step_started", "step_succeeded", "apply_finished"}, events
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert "the environment keeps running" in proc.stderr.read()
    finally:
        proc.kill()
    assert engine_project.containers()["a"]["State"]["Running"]


MOUNT_NOTICE = "notice: "


def test_a_mount_outside_the_project_is_named_once_before_anything_starts(engine_project) -> None:
    engine_project.write({"a": {**SLEEPER, "mounts": ["/etc:/host-etc:ro"]}})
    text = engine_project.cli("plan", check=2)
    notes = [line for line in text.stderr.splitlines() if line.startswith(MOUNT_NOTICE)]
    assert len(notes) == 1 and "/etc" in notes[0] and "gefyra.yaml:" in notes[0], text.stderr
    assert MOUNT_NOTICE not in text.stdout
    data = json.loads(engine_project.cli("plan", "-o", "json", check=2).stdout)
    assert [n["code"] for n in data["notices"]] == ["risky-mount"]
    applied = engine_project.cli("apply", "--yes")
    assert sum(line.startswith(MOUNT_NOTICE) for line in applied.stderr.splitlines()) == 1, applied.stderr
    assert engine_project.containers()["a"]["State"]["Running"]  # a notice never fails the command


def test_a_project_mounting_nothing_outside_has_no_notice(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    assert "notice:" not in engine_project.cli("plan", check=2).stderr

"""down leaves nothing labelled; watch reacts to gefyra.yaml edits, watched paths, invalid edits and drift."""

from __future__ import annotations

import pytest

from gefyra import api
from gefyra.model import labels
from tests.docker.engine_helpers import SLEEPER, Watching, wait_for

pytestmark = pytest.mark.docker


def test_down_removes_every_labelled_object_and_lists_them(engine_project, docker_client) -> None:
    engine_project.write({"a": SLEEPER, "b": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    engine_project.cli("run", "-i", "debian:bookworm-slim", "-N", "extra", "--", "sleep", "infinity")
    docker_client.api.create_volume(
        f"gefyra-{engine_project.name}-vol", labels={labels.PROJECT: engine_project.name}
    )
    result = engine_project.cli("down")
    assert engine_project.labelled() == []
    assert f"Project {engine_project.name}: removed 5 object(s), nothing left." in result.stdout
    for item in (
        f"container/a (gefyra-{engine_project.name}-a)",
        f"network/default (gefyra-{engine_project.name})",
        f"container gefyra-{engine_project.name}-extra",
        f"volume gefyra-{engine_project.name}-vol",
    ):
        assert f"  - {item}" in result.stdout
    assert (
        engine_project.cli("down").stdout.strip()
        == f"Project {engine_project.name}: removed 0 object(s), nothing left."
    )


def test_down_all_path_finds_projects_without_a_file(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    engine_project.file.unlink()
    assert engine_project.name in api.projects()
    reports = api.down_all(only=lambda name: name == engine_project.name)  # never other engineers' projects
    assert [r.project for r in reports] == [engine_project.name]
    assert engine_project.labelled() == []


@pytest.mark.slow
def test_watch_replaces_a_container_on_an_env_edit_and_survives_a_bad_edit(engine_project) -> None:
    engine_project.write({"a": {**SLEEPER, "env": {"GREETING": "hi"}}, "b": SLEEPER})
    watching = Watching(engine_project)
    try:
        ids = wait_for("the first apply", lambda: len(engine_project.ids()) == 2 and engine_project.ids())
        wait_for(
            "both running", lambda: all(d["State"]["Running"] for d in engine_project.containers().values())
        )
        engine_project.file.write_text(engine_project.file.read_text().replace('"image"', '"imagee"', 1))
        error = wait_for(
            "the error of the bad edit", lambda: [e for e in watching.events if e.event == "watch_error"]
        )[0]
        lines = engine_project.file.read_text().splitlines()
        line = next(number for number, text in enumerate(lines, start=1) if '"imagee"' in text)
        assert f"gefyra.yaml:{line}:" in error.error and "unknown key 'imagee'" in error.error
        assert engine_project.ids() == ids  # the last good state keeps running
        engine_project.write({"a": {**SLEEPER, "env": {"GREETING": "hello"}}, "b": SLEEPER})
        wait_for(
            "the new env",
            lambda: (
                engine_project.env_of("a").get("GREETING") == "hello"
                and engine_project.containers()["a"]["State"]["Running"]
            ),
        )
        assert engine_project.ids()["b"] == ids["b"]
    finally:
        watching.close()


def test_watch_recreates_a_container_removed_by_hand(engine_project, docker_client) -> None:
    engine_project.write({"a": SLEEPER})
    watching = Watching(engine_project)
    try:
        first = wait_for("the first apply", lambda: engine_project.ids().get("a"))
        docker_client.api.remove_container(first, force=True)
        wait_for(
            "the drift repair",
            lambda: (
                engine_project.ids().get("a") not in (None, first)
                and engine_project.containers()["a"]["State"]["Running"]
            ),
        )
    finally:
        watching.close()


@pytest.mark.slow
def test_watch_paths_restart_or_rebuild_their_container(engine_project) -> None:
    folder = engine_project.folder
    (folder / "src").mkdir()
    (folder / "src" / "app.txt").write_text("v1")
    (folder / "img").mkdir()
    (folder / "img" / "Dockerfile").write_text('FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n')
    engine_project.write(
        {
            "restarted": {**SLEEPER, "watch": [{"path": "src", "action": "restart", "ignore": ["*.log"]}]},
            "rebuilt": {"build": "img", "watch": [{"path": "src", "action": "rebuild"}]},
        }
    )
    watching = Watching(engine_project)
    try:
        ids = wait_for("the first apply", lambda: len(engine_project.ids()) == 2 and engine_project.ids())
        started = engine_project.containers()["restarted"]["State"]["StartedAt"]
        (folder / "src" / "app.txt").write_text("v2")
        wait_for(
            "the restart", lambda: engine_project.containers()["restarted"]["State"]["StartedAt"] != started
        )
        wait_for("the rebuild", lambda: engine_project.ids()["rebuilt"] != ids["rebuilt"])
        assert engine_project.ids()["restarted"] == ids["restarted"]  # restarted in place, not replaced
        triggered = [e for e in watching.events if e.event == "watch_triggered"]
        assert "src/app.txt changed (rebuild rebuilt)" in triggered[0].data["reasons"]
    finally:
        watching.close()


def test_rebuild_prunes_the_old_image_and_down_images_removes_built_ones(
    engine_project, docker_client
) -> None:
    (engine_project.folder / "img").mkdir()
    dockerfile = engine_project.folder / "img" / "Dockerfile"
    dockerfile.write_text('FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n')
    engine_project.write({"web": {"build": "img"}})
    api.apply(engine_project.load()).raise_for_failures()
    repository = f"gefyra-{engine_project.name}-web"
    first = [tag for image in docker_client.api.images(name=repository) for tag in image["RepoTags"]]
    dockerfile.write_text('FROM debian:bookworm-slim\nENV V=2\nCMD ["sleep", "infinity"]\n')
    api.apply(engine_project.load()).raise_for_failures()
    second = [tag for image in docker_client.api.images(name=repository) for tag in image["RepoTags"]]
    assert len(first) == 1 and len(second) == 1 and first != second
    result = engine_project.cli("down", "--images")
    assert f"  - image {second[0]}" in result.stdout
    assert docker_client.api.images(name=repository) == []


def test_down_while_watch_runs_ends_the_watch_instead_of_being_undone(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    watch = engine_project.popen("watch", "--drift-interval", "0.3")
    try:
        wait_for(
            "the first apply",
            lambda: engine_project.containers().get("a", {}).get("State", {}).get("Running"),
        )
        engine_project.cli("down")
        _, stderr = watch.communicate(timeout=30)  # the watch ends by itself
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    assert watch.returncode == 0, stderr
    assert "project taken down by `gefyra down`; watch ends" in stderr
    assert engine_project.labelled() == []


@pytest.mark.slow
def test_watch_backs_off_repairing_a_container_that_keeps_exiting_and_shows_its_logs(engine_project) -> None:
    engine_project.write({"flaky": {**SLEEPER, "args": ["sh", "-c", "sleep 1; echo dying; exit 4"]}})
    watching = Watching(engine_project)
    created = lambda: [  # noqa: E731
        e.time for e in watching.events if e.event == "step_succeeded" and e.step == "create:container/flaky"
    ]
    try:
        wait_for("three creations", lambda: len(created()) >= 3, timeout=40)
    finally:
        watching.close()
    from datetime import datetime

    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in created()]
    gap = (times[2] - times[1]).total_seconds()
    assert gap >= 4.5, times  # the second repair waited for the backoff (without: about every 1.5 s)
    logs = [e.message for e in watching.events if e.event == "log" and e.address == "container/flaky"]
    assert any("dying" in (m or "") for m in logs), logs  # the last log lines of the exited container


def test_watch_replaces_a_container_when_its_env_file_changes(engine_project) -> None:
    env_file = engine_project.folder / "conf" / "app.env"  # another folder than gefyra.yaml's
    env_file.parent.mkdir()
    env_file.write_text("GREETING=hi\n")
    engine_project.write({"a": {**SLEEPER, "env_file": "conf/app.env"}})
    watching = Watching(engine_project)
    try:
        wait_for("the first apply", lambda: engine_project.env_of("a").get("GREETING") == "hi")
        env_file.write_text("GREETING=hello\n")
        wait_for(
            "the env_file's new value",
            lambda: (
                engine_project.env_of("a").get("GREETING") == "hello"
                and engine_project.containers()["a"]["State"]["Running"]
            ),
        )
    finally:
        watching.close()

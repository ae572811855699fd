"""Watch reacts to the engine's events (not only to its drift tick), and a replace overlaps the removal of
the old container with the start of the new one without leaving anything behind."""

from __future__ import annotations

import socket
import time

from gefyra import api
from gefyra.model import labels
from tests.docker.engine_helpers import SLEEPER, Watching, wait_for

NO_TICK_S = 600.0  # the drift tick never comes during these tests: only an engine event can trigger


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _names(client, project: str) -> list[str]:
    found = client.api.containers(all=True, filters={"label": [f"{labels.PROJECT}={project}"]})
    return sorted(c["Names"][0].lstrip("/") for c in found)


def test_watch_recreates_a_removed_container_on_the_engine_event(engine_project, docker_client) -> None:
    engine_project.write({"a": SLEEPER})
    watching = Watching(engine_project, drift_interval=NO_TICK_S)
    try:
        first = wait_for("the first apply", lambda: engine_project.ids().get("a"), timeout=60)
        wait_for("the first apply to finish", lambda: watching.finished_applies() >= 1, timeout=60)
        removed_at = time.monotonic()
        docker_client.api.remove_container(first, force=True)
        wait_for(
            "the repair after the destroy event",
            lambda: (
                engine_project.ids().get("a") not in (None, first)
                and engine_project.containers()["a"]["State"]["Running"]
            ),
            timeout=60,
        )
        assert time.monotonic() - removed_at < NO_TICK_S  # no tick came: the event did it
    finally:
        watching.close()


def test_replace_on_an_env_edit_leaves_one_container_with_the_new_env(engine_project, docker_client) -> None:
    """The old container is removed in the background (retire.py): once the apply finished, exactly the new
    containers exist under their fixed names, no retired leftover."""
    engine_project.write({"a": {**SLEEPER, "env": {"V": "1"}}, "b": {**SLEEPER, "env": {"V": "1"}}})
    watching = Watching(engine_project, drift_interval=NO_TICK_S)
    try:
        wait_for("the first apply", lambda: watching.finished_applies() >= 1, timeout=60)
        before = engine_project.ids()
        engine_project.write({"a": {**SLEEPER, "env": {"V": "2"}}, "b": {**SLEEPER, "env": {"V": "1"}}})
        wait_for("the new env", lambda: engine_project.env_of("a").get("V") == "2", timeout=60)
        wait_for("the replace to finish", lambda: watching.finished_applies() >= 2, timeout=60)
        assert engine_project.containers()["a"]["State"]["Running"]
        assert engine_project.ids()["b"] == before["b"]
        wanted = sorted([f"gefyra-{engine_project.name}-a", f"gefyra-{engine_project.name}-b"])
        assert _names(docker_client, engine_project.name) == wanted
        assert before["a"] not in engine_project.ids().values()
    finally:
        watching.close()


def test_a_writable_mount_is_never_written_by_two_containers(engine_project, docker_client) -> None:
    """retire.py `after_kill`: the old container died before its successor started (engine events say when);
    a host port: removed before (sync path). Both end with the new env and no leftover."""
    (engine_project.folder / "data").mkdir()
    mount = {"mounts": [f"{engine_project.folder / 'data'}:/data"]}
    port = {"ports": [f"127.0.0.1:{_free_port()}:8080"]}
    engine_project.write(
        {"m": {**SLEEPER, **mount, "env": {"V": "1"}}, "p": {**SLEEPER, **port, "env": {"V": "1"}}}
    )
    api.apply(engine_project.load()).raise_for_failures()
    before = engine_project.ids()
    since = int(time.time()) - 1
    engine_project.write(
        {"m": {**SLEEPER, **mount, "env": {"V": "2"}}, "p": {**SLEEPER, **port, "env": {"V": "2"}}}
    )
    api.apply(engine_project.load()).raise_for_failures()
    after = engine_project.ids()
    assert engine_project.env_of("m")["V"] == "2" and engine_project.env_of("p")["V"] == "2"
    wanted = sorted(f"gefyra-{engine_project.name}-{name}" for name in ("m", "p"))
    assert _names(docker_client, engine_project.name) == wanted
    events = docker_client.api.events(since=since, until=int(time.time()) + 1, decode=True)
    times = {(e["Action"], e["id"]): e["timeNano"] for e in events if e.get("Type") == "container"}
    for name in ("m", "p"):
        assert times[("die", before[name])] < times[("start", after[name])], name

"""apply / plan against the real engine: idempotence, precise replaces, deletes, drift, Ctrl-C, lock."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gefyra import api
from gefyra.apply.lock import project_lock
from tests.docker.engine_helpers import SLEEPER

pytestmark = pytest.mark.docker


class RecordingProxy:
    """A pass-through proxy in front of the Docker socket that records each request line (not a mock: the
    real engine answers every call)."""

    def __init__(self, path: Path, upstream: str = "/var/run/docker.sock") -> None:
        self.path, self.upstream, self.requests = path, upstream, []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, record: bool) -> None:
        try:
            while data := source.recv(65536):
                if record:
                    self.requests += re.findall(rb"(?:^|\r\n)([A-Z]+) (\S+) HTTP/1\.[01]\r\n", data)
                target.sendall(data)
        except OSError:
            pass
        finally:
            target.close()

    def close(self) -> None:
        self.server.close()


def test_second_apply_prints_no_changes_and_makes_no_write_call(engine_project, tmp_path) -> None:
    engine_project.write({"a": SLEEPER, "b": SLEEPER})
    engine_project.cli("apply", "--yes")
    ids = engine_project.ids()
    proxy = RecordingProxy(tmp_path / "docker.sock")
    try:
        second = engine_project.cli("apply", "--yes", env={"DOCKER_HOST": f"unix://{proxy.path}"})
    finally:
        proxy.close()
    assert engine_project.ids() == ids
    assert second.stdout.strip() == "No changes."
    methods = {method.decode() for method, _ in proxy.requests}
    assert proxy.requests and methods <= {"GET", "HEAD"}, proxy.requests


def test_env_change_replaces_exactly_that_container(engine_project) -> None:
    engine_project.write({"a": {**SLEEPER, "env": {"X": "1"}}, "b": SLEEPER, "c": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    before = engine_project.ids()
    engine_project.write({"a": {**SLEEPER, "env": {"X": "2"}}, "b": SLEEPER, "c": SLEEPER})
    plan = engine_project.cli("plan", check=2).stdout
    assert "-/+ container/a  env.X changed" in plan and "Plan: 0 to add, 1 to replace, 0 to destroy." in plan
    api.apply(engine_project.load()).raise_for_failures()
    after = engine_project.ids()
    assert after["a"] != before["a"]
    assert (after["b"], after["c"]) == (before["b"], before["c"])
    assert engine_project.env_of("a")["X"] == "2"


def test_removed_container_is_deleted_and_rename_is_delete_plus_create(engine_project) -> None:
    engine_project.write({"a": SLEEPER, "b": SLEEPER, "c": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    before = engine_project.ids()
    engine_project.write({"a": SLEEPER, "renamed": SLEEPER})  # b removed, c renamed
    outcome = api.apply(engine_project.load())
    outcome.raise_for_failures()
    actions = {str(c.key): c.action.value for c in outcome.plan.changes}
    assert actions == {
        "network/default": "unchanged",
        "container/a": "unchanged",
        "container/b": "delete",
        "container/c": "delete",
        "container/renamed": "create",
    }
    after = engine_project.ids()
    assert set(after) == {"a", "renamed"} and after["a"] == before["a"]


@pytest.mark.slow
def test_container_removed_by_hand_shows_in_plan_and_apply_recreates_it(
    engine_project, docker_client
) -> None:
    engine_project.write({"a": SLEEPER, "b": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    docker_client.api.remove_container(engine_project.ids()["a"], force=True)
    plan = engine_project.cli("plan", check=2).stdout
    assert "  + container/a  not present" in plan
    docker_client.api.stop(engine_project.ids()["b"], timeout=0)
    assert "-/+ container/b  container is exited: Exited (137)" in engine_project.cli("plan", check=2).stdout
    engine_project.cli("apply", "--yes")
    states = {name: data["State"]["Status"] for name, data in engine_project.containers().items()}
    assert states == {"a": "running", "b": "running"}
    assert engine_project.cli("plan").stdout.strip() == "No changes."


@pytest.mark.slow
def test_sigint_during_apply_then_next_apply_converges_without_orphans(engine_project, docker_client) -> None:
    names = [f"c{i}" for i in range(10)]
    engine_project.write({name: SLEEPER for name in names})
    proc = subprocess.Popen(
        [sys.executable, "-m", "gefyra", "apply", "--yes", "-o", "json", "--parallelism", "1"],
        cwd=engine_project.folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "step_succeeded" and event["address"].startswith("container/"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 130, proc.stderr.read()
    events = [json.loads(line) for line in rest.splitlines()]
    assert any(e["event"] == "step_cancelled" for e in events)
    made = engine_project.containers()
    assert 1 <= len(made) < len(names)
    api.apply(engine_project.load()).raise_for_failures()
    assert sorted(engine_project.containers()) == names
    prefix = f"/gefyra-{engine_project.name}-"
    same_prefix = [c for c in docker_client.api.containers(all=True) if c["Names"][0].startswith(prefix)]
    assert len(same_prefix) == len(names)  # every container with the project's names is labelled and wanted
    assert engine_project.cli("plan").stdout.strip() == "No changes."


def test_second_apply_waits_for_the_lock_then_fails_clearly(engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    with project_lock(engine_project.name, timeout=1):
        result = engine_project.cli("apply", "--yes", check=1, env={"GEFYRA_LOCK_TIMEOUT": "0.5"})
    assert re.search(
        rf"error: project '{engine_project.name}' is locked by pid \d+ \(waited 0.5s\)", result.stderr
    )
    assert engine_project.containers() == {}


def test_untagged_and_fully_qualified_image_references_converge(
    engine_project, docker_client, base_image
) -> None:
    repository = f"{engine_project.name}-img"  # our own tag, no `:latest` in gefyra.yaml
    docker_client.api.tag(base_image, repository)
    try:
        engine_project.write(
            {
                "plain": {"image": repository, "args": ["sleep", "infinity"]},
                "qualified": {"image": f"docker.io/library/{base_image}", "args": ["sleep", "infinity"]},
            }
        )
        engine_project.cli("apply", "--yes")
        ids = engine_project.ids()
        assert engine_project.cli("plan").stdout.strip() == "No changes."
        assert engine_project.cli("apply", "--yes").stdout.strip() == "No changes."
        assert engine_project.ids() == ids
    finally:
        api.down(engine_project.name)
        docker_client.api.remove_image(f"{repository}:latest")

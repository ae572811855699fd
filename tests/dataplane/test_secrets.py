"""Keys and tokens are files of mode 600 and never appear in env, labels, command lines or logs."""

from __future__ import annotations

import io
import json
import secrets
import tarfile
import threading
import time

import pytest

from gefyra import api
from gefyra.dataplane.cargo_layout import CARGO_CONFIG_PATH
from gefyra.model import labels
from gefyra.providers.docker.dataplane.images import image_tag
from tests.dataplane.testbed import TESTKIT, project_containers, stowaway_settings

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _secrets(bed, peer: str = "dev1") -> dict[str, str]:
    stowaway = bed.containers["stowaway"]
    server_key = stowaway.exec_run(["cat", "/var/lib/stowaway/server.key"]).output.decode().strip()
    return {
        "token": bed.token,
        "peer private key": bed.api.get_peer(peer).private_key.get_secret_value(),
        "server private key": server_key,
    }


def _visible(container, *, running: bool = True) -> dict[str, str]:
    """Everything `docker inspect`, `docker logs` and (for a running container) `ps` / /proc show of it."""
    container.reload()
    config = container.attrs["Config"]
    shown = {
        "env": "\n".join(config.get("Env") or []),
        "labels": repr(config.get("Labels")),
        "command line": repr([config.get("Cmd"), config.get("Entrypoint"), container.attrs["Args"]]),
        "logs": container.logs().decode(errors="replace"),
    }
    if running:

        def run(*cmd: str) -> str:
            return container.exec_run(list(cmd)).output.decode(errors="replace")

        shown["process list"] = run("ps", "-eo", "args")
        shown["environment of pid 1"] = run("cat", "/proc/1/environ")
    return shown


def _assert_hidden(found: dict[str, str], shown: dict[str, str], what: str) -> None:
    assert all(len(value) >= 32 for value in found.values())
    for secret_name, value in found.items():
        for where, text in shown.items():
            assert value not in text, f"{secret_name} visible in {what}'s {where}"


@pytest.mark.parametrize("role", ["stowaway", "cargo"])
def test_no_secret_in_inspect_logs_or_process_list(bed, role):
    _assert_hidden(_secrets(bed), _visible(bed.containers[role]), role)


@pytest.mark.parametrize(
    ("role", "pattern"),
    [
        ("cargo", "/etc/gefyra/wg0.conf"),
        ("stowaway", "/run/secrets/stowaway/token /var/lib/stowaway/server.key /var/lib/stowaway/peers/*"),
    ],
)
def test_secret_files_are_mode_600(bed, role, pattern):
    out = bed.containers[role].exec_run(["sh", "-c", f"stat -c '%a %U %n' {pattern}"]).output.decode()
    lines = out.strip().splitlines()
    assert lines and all(line.startswith("600 root ") for line in lines), out


# ---------------------------------------------------------------- the engine path (`gefyra apply`)
class CreateWatcher:
    """Inspects every container the engine creates while it runs, short-lived netns helpers included (they
    are removed within a second: inspected on their `create` event, labels also kept from the event)."""

    def __init__(self, client) -> None:
        self.client = client
        self.events = client.events(decode=True, filters={"type": "container", "event": "create"})
        self.seen: dict[str, dict] = {}  # id -> {"name", "labels" (from the event), "attrs" (None: gone)}
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        try:
            for event in self.events:
                actor = event.get("Actor") or {}
                attrs = None
                try:
                    attrs = self.client.api.inspect_container(actor["ID"])
                except Exception:  # noqa: BLE001 - docker.errors.NotFound: a helper already removed
                    pass
                self.seen[actor["ID"]] = {
                    "name": (actor.get("Attributes") or {}).get("name"),
                    "labels": actor.get("Attributes") or {},
                    "attrs": attrs,
                }
        except Exception:  # noqa: BLE001 - the stream is closed by stop()
            pass

    def stop(self) -> dict[str, dict]:
        """Stop once every event up to now arrived: events come in order, so a marker container made now is
        seen last."""
        marker = self.client.api.create_container(
            "debian:bookworm-slim", command=["true"], labels={labels.TEST: "create-watcher-marker"}
        )["Id"]
        self.client.api.remove_container(marker, force=True)
        deadline = time.monotonic() + 10
        while marker not in self.seen:
            assert time.monotonic() < deadline, "the engine's create events stopped arriving"
            time.sleep(0.05)
        del self.seen[marker]
        self.events.close()
        self.thread.join(5)
        return self.seen


@pytest.fixture(scope="module")
def engine_project(cluster, tmp_path_factory):
    """One project applied through the engine (connection holder, Cargo, an app container); yields what the
    engine created while it applied."""
    folder = tmp_path_factory.mktemp("secrets-project")
    name = f"t-dps-{secrets.token_hex(3)}"
    app = {
        "image": image_tag("carrier"),
        "command": ["python3", "/opt/testkit.py"],
        "args": ["serve"],
        "mounts": [f"{TESTKIT}:/opt/testkit.py:ro"],
    }
    document = {
        "version": 1,
        "project": {"name": name},
        "cluster": {"endpoint": f"{cluster.publish_ip}:{cluster.wg_port}"},
        "containers": {"app": app},
    }
    (folder / "gefyra.yaml").write_text(json.dumps(document))
    with stowaway_settings(cluster, folder):
        try:
            project = api.load(folder / "gefyra.yaml")
            watcher = CreateWatcher(cluster.client)
            try:
                outcome = api.apply(project)
            finally:
                created = watcher.stop()
            outcome.raise_for_failures()
            yield {"name": name, "created": created, "outcome": outcome, "plan": api.plan(project)}
        finally:
            api.down(name)


def test_engine_made_containers_carry_no_key_or_token(cluster, engine_project):
    found = _secrets(cluster, peer=engine_project["name"])
    made = project_containers(cluster.client, engine_project["name"])
    assert {"connection/default", "cargo/default"} <= set(made), set(made)
    for key, container in made.items():
        running = container.status == "running"  # the connection holder is created, never started
        _assert_hidden(found, _visible(container, running=running), key)


def test_containers_created_during_apply_carry_no_key_or_token(cluster, engine_project):
    """Every container `apply` created, the netns helpers (patching the apps' default route) included."""
    found = _secrets(cluster, peer=engine_project["name"])
    created = engine_project["created"]
    helpers = [c for c in created.values() if labels.HELPER in c["labels"]]
    assert helpers, f"no netns helper seen: {[c['name'] for c in created.values()]}"
    assert sum(c["attrs"] is not None for c in created.values()) >= 2  # holder and Cargo at least
    for item in created.values():
        shown = {"labels (create event)": repr(item["labels"])}
        if item["attrs"] is not None:
            config = item["attrs"]["Config"]
            shown["env"] = "\n".join(config.get("Env") or [])
            shown["labels"] = repr(config.get("Labels"))
            shown["command line"] = repr([config.get("Cmd"), config.get("Entrypoint"), item["attrs"]["Args"]])
        _assert_hidden(found, shown, item["name"])


def test_engine_output_and_plan_carry_no_key_or_token(cluster, engine_project):
    found = _secrets(cluster, peer=engine_project["name"])
    shown = {"apply outcome": repr(engine_project["outcome"]), "plan": str(engine_project["plan"])}
    shown["apply outcome (json)"] = engine_project["outcome"].model_dump_json()
    _assert_hidden(found, shown, "gefyra apply")


def test_peer_config_held_by_the_engine_is_a_mode_600_file(cluster, engine_project):
    made = project_containers(cluster.client, engine_project["name"])
    for key in ("connection/default", "cargo/default"):
        stream, _ = cluster.client.api.get_archive(made[key].id, CARGO_CONFIG_PATH)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmembers()[0]
        assert (member.mode & 0o777, member.uid) == (0o600, 0), (key, oct(member.mode), member.uid)

"""The pure parts of sync: which paths Carrier serves, the local container's mounts, the loop's shell text,
and what `gefyra status` and the plan read from the loop (no I/O but the private folders under tmp_path)."""

from __future__ import annotations

import json
import subprocess

import pytest

from gefyra.errors import ConfigError
from gefyra.model import labels
from gefyra.model.resources import Resource
from gefyra.providers.docker.engine import ContainerRow
from gefyra.providers.docker.observe import DockerSnapshot
from gefyra.providers.kube import sync
from gefyra.providers.kube.boundary import KubeObject

ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def test_only_paths_carrier_serves_are_accepted():
    sync.check_paths("web", [ACCOUNT, ACCOUNT + "/"])
    with pytest.raises(ConfigError, match=r"bridges.web.sync\[1\]: Carrier cannot serve /etc/app"):
        sync.check_paths("web", [ACCOUNT, "/etc/app"])


def test_every_local_container_mounts_its_private_copies_read_only(tmp_path, monkeypatch):
    """Bridged or not: so adding or removing a bridge never changes (and replaces) the container."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    web = Resource(kind="container", name="web", spec={"mounts": [{"source": "/src", "target": "/app"}]})
    other = Resource(kind="container", name="db", spec={"mounts": []})
    bridge = Resource(kind="bridge", name="web", spec={"local": "web"})
    amended = sync.with_mounts([web, other, bridge], "shop")
    copy = tmp_path / "gefyra" / "sync" / "shop" / "web" / "var_run_secrets_kubernetes.io_serviceaccount"
    assert amended[0].spec["mounts"][1] == {"source": str(copy), "target": ACCOUNT, "read_only": True}
    assert amended[1].spec["mounts"] == [
        {"source": str(copy.parent.parent / "db" / copy.name), "target": ACCOUNT, "read_only": True}
    ]
    assert amended[2] == bridge
    assert copy.is_dir() and (copy.stat().st_mode & 0o777) == 0o700
    # gefyra.yaml's own mount at that path wins
    mine = web.evolve(spec={"mounts": [{"source": "/x", "target": ACCOUNT}]})
    assert sync.with_mounts([mine], "shop")[0] == mine


def test_emptying_a_copy_keeps_its_folder(tmp_path):
    """The running container mounts the folder itself: a new folder in its place would not show in it."""
    copy = tmp_path / "copy"
    (copy / "..data").mkdir(parents=True)
    (copy / "..data" / "token").write_text("t")
    (copy / "token").symlink_to("..data/token")
    inode = copy.stat().st_ino
    sync.empty(copy)
    assert list(copy.iterdir()) == [] and copy.stat().st_ino == inode


def test_a_pod_without_a_token_has_nothing_to_sync():
    pod = KubeObject.model_validate(
        {
            "metadata": {"name": "web-1"},
            "spec": {"containers": [{"name": "web", "volumeMounts": [{"mountPath": "/data"}]}]},
            "status": {"podIP": "10.1.0.5"},
        }
    )
    found = sync.source(pod, "web", [ACCOUNT])
    assert found == sync.Source(pod="web-1", ip="10.1.0.5", paths=(), skipped=(ACCOUNT,))


def test_the_loop_is_valid_shell_of_quoted_parts():
    script = sync.loop_script("10.1.0.5", [ACCOUNT], 7)
    assert "rsync://10.1.0.5:873/serviceaccount/ /sync/0/" in script and "sleep 7" in script
    assert subprocess.run(["sh", "-n", "-c", script]).returncode == 0


def test_the_loop_retries_every_second_until_its_first_copy(tmp_path):
    """Carrier's rsync daemon listens a moment after the bridge is Active: the loop does not wait a whole
    interval after a refused first round (the shell's own `sleep` is traced, nothing else runs)."""
    script = sync.loop_script("10.1.0.5", [ACCOUNT], 7)
    script = (
        script.replace("rsync ", "false ")
        .replace(f"{labels.NOTES_FOLDER}/", f"{tmp_path}/")
        .replace("while :;", "for round in 1 2 3;")
    )
    done = subprocess.run(
        ["sh", "-c", f"sleep() {{ echo slept $1; }}; {script}"], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[:3] == ["slept 1", "slept 1", "slept 1"]
    ok = script.replace("false ", "true ")
    done = subprocess.run(
        ["sh", "-c", f"sleep() {{ echo slept $1; }}; {ok}"], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[:3] == ["slept 7", "slept 7", "slept 7"]


def _row(
    name: str, ident: str, state: str = "running", mode: str = "", spec: dict | None = None
) -> ContainerRow:
    return ContainerRow.model_validate(
        {
            "Id": ident,
            "Names": [f"/{name}"],
            "State": state,
            "HostConfig": {"NetworkMode": mode},
            "Labels": {labels.SPEC: json.dumps(spec or {})},
        }
    )


def test_status_words_and_drift_of_the_loop():
    cargo = _row("gefyra-shop.cargo", "c1")
    loop = _row("gefyra-shop.sync-web", "l1", mode="container:c1")
    record = json.dumps({"pod": "web-1", "paths": [ACCOUNT], "skipped": []})
    docker = DockerSnapshot(project="shop", containers=[cargo, loop], notes={"l1": {"sync": "100 ok"}})
    words, drift = sync.loop_state(docker, "shop", "web", record, ["web-1"])
    assert words.startswith("synced ") and drift == []
    failing = DockerSnapshot(
        project="shop", containers=[cargo, loop], notes={"l1": {"sync": "1 failed x: no"}}
    )
    assert sync.loop_state(failing, "shop", "web", record, ["web-1"]) == ("sync failing: x: no", [])
    fresh = DockerSnapshot(project="shop", containers=[cargo, loop])  # before the loop's first note
    assert sync.loop_state(fresh, "shop", "web", record, ["web-1"]) == ("sync: first copy under way", [])
    assert sync.loop_state(docker, "shop", "web", None, ["web-1"])[1] == ["not synced yet"]
    assert sync.loop_state(docker, "shop", "web", record, ["web-2"])[1] == [
        "its sync copies from Pod web-1, which is not bridged"
    ]
    orphan = DockerSnapshot(project="shop", containers=[_row("gefyra-shop.cargo", "c2"), loop])
    assert sync.loop_state(orphan, "shop", "web", record, ["web-1"])[1] == [
        "its sync is outside Cargo's network namespace"
    ]
    gone = DockerSnapshot(project="shop", containers=[cargo])
    assert sync.loop_state(gone, "shop", "web", record, ["web-1"])[1] == ["its sync is not running"]
    nothing = json.dumps({"pod": "web-1", "paths": [], "skipped": [ACCOUNT]})
    assert sync.loop_state(gone, "shop", "web", nothing, ["web-1"]) == (
        f"nothing to sync (Pod web-1 mounts none of {ACCOUNT})",
        [],
    )


def test_note_words():
    assert sync.note_words("100 ok", 112.5) == "synced 12s ago"
    assert sync.note_words("", 1) == ""

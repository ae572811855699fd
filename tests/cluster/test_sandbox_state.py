"""The sandbox's state folder under /tmp (tests/sandbox/privatedir.py) and its answer to a missing base image.

Another local user who makes the state folder first (simulated: as root, the folder is handed to uid 65534) or
plants a symlink under its name must not get the sandbox (root) to write through it: `up` and `down` refuse
with what to do. `up` without the base image says how to make it instead of failing with a traceback."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.privatedir import UnsafeFolder, private_dir
from tests.sandbox.runner import imagepull

REPO = Path(__file__).resolve().parents[2]
OTHER_UID = 65534
PRECIOUS = "root's precious contents\n"


def sandbox_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.sandbox", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(REPO), **env),
    )


@pytest.fixture
def shared(tmp_path) -> Path:
    """A stand-in for /tmp: mode 1777."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    return folder


@pytest.fixture
def victim(tmp_path) -> Path:
    path = tmp_path / "victim"
    path.write_text(PRECIOUS)
    path.chmod(0o600)
    return path


def test_private_dir_is_made_0700_and_an_old_0755_one_of_ours_is_tightened(shared):
    made = private_dir(shared / "state")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700 and made.stat().st_uid == os.geteuid()
    made.chmod(0o755)
    private_dir(made)
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


@pytest.mark.parametrize("kind", ["owned by another user", "writable by others", "a symlink"])
def test_private_dir_refuses_what_it_cannot_trust(shared, tmp_path, kind):
    path = shared / "state"
    if kind == "owned by another user":
        path.mkdir(mode=0o700)
        os.chown(path, OTHER_UID, OTHER_UID)
        why = f"belongs to uid {OTHER_UID}"
    elif kind == "writable by others":
        path.mkdir()
        path.chmod(0o777)
        why = "others may write to it"
    else:
        (tmp_path / "ours").mkdir(mode=0o700)
        path.symlink_to(tmp_path / "ours")
        why = "symbolic link"
    with pytest.raises(UnsafeFolder, match=why) as caught:
        private_dir(path)
    assert str(path) in str(caught.value) and "GEFYRA_SANDBOX_STATE" in str(caught.value)


@pytest.mark.parametrize("command", ["up", "down"])
def test_the_cli_refuses_a_state_folder_another_user_made(shared, victim, command):
    """The planted folder holds the instance's lock and pid files as links to a file of root's."""
    state = shared / "gefyra-sandbox"
    state.mkdir(mode=0o700)
    instance = "v" + secrets.token_hex(3)[:5]
    for name in (f"{instance}.lock", f"{instance}.pid", f"{instance}.log"):
        (state / name).symlink_to(victim)
    os.chown(state, OTHER_UID, OTHER_UID)
    done = sandbox_cli(command, "--instance", instance, "--timeout", "30", GEFYRA_SANDBOX_STATE=str(state))
    assert done.returncode == 1, done
    assert f"state folder {state} is not safe to use: it belongs to uid {OTHER_UID}" in done.stderr
    assert "Traceback" not in done.stderr
    assert victim.read_text() == PRECIOUS and stat.S_IMODE(victim.stat().st_mode) == 0o600


def test_up_without_the_base_image_says_how_to_make_it(tmp_path, docker_client):
    """GEFYRA_BASE_TAG names the base (as for images/base/build.sh): a tag that is not here stands for a
    machine without debian:bookworm-slim (removing the real one would break everybody else's tests)."""
    missing = f"local/missing-base-{secrets.token_hex(4)}:none"
    instance = "b" + secrets.token_hex(3)[:5]
    done = sandbox_cli(
        "up",
        "--instance",
        instance,
        "--timeout",
        "30",
        GEFYRA_BASE_TAG=missing,
        GEFYRA_SANDBOX_STATE=str(tmp_path / "state"),
    )
    assert done.returncode == 1, done
    assert f"the base image {missing} is missing" in done.stderr
    assert "run: bash images/base/build.sh" in done.stderr
    assert "Traceback" not in done.stderr
    assert docker_client.networks.list(filters={"label": f"dev.gefyra.sandbox={instance}"}) == []


def test_how_to_get_an_image_names_the_way_for_each_kind():
    assert imagepull.how_to_get(imagepull.BASE_IMAGE) == "run: bash images/base/build.sh"
    assert "ensure_image(docker_client, 'echo')" in imagepull.how_to_get("gefyra-sandbox-echo:3f2a")
    dataplane = imagepull.how_to_get("gefyra/stowaway:0.1.0-abc")
    assert "gefyra images build stowaway" in dataplane
    assert "docker build -t gefyra/stowaway:0.1.0-abc -f images/stowaway/Dockerfile images" in dataplane
    other = imagepull.how_to_get("registry.example:5000/team/app:2")
    assert "docker build -t registry.example:5000/team/app:2" in other and "docker load" in other
    assert [imagepull.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 10, 10, 10]

"""The lock folder in a shared temp folder (gefyra/apply/lock.py): another local user must not get our
`gefyra down -p <project>` to overwrite a file of ours through a folder or link they planted.

The tests run as root; the other user is simulated by handing what they "made" to uid 65534 (nobody) with
os.chown, in a sticky, world-writable folder standing in for /tmp."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gefyra.apply.lock import check_not_down, down_marker, lock_dir, mark_down, project_lock
from gefyra.errors import ProviderError

OTHER_UID = 65534
PRECIOUS = "root's precious contents\n"


@pytest.fixture
def shared(tmp_path, monkeypatch) -> Path:
    """A stand-in for /tmp: mode 1777, used as the lock base."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    monkeypatch.setenv("GEFYRA_LOCK_DIR", str(folder))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    return folder


@pytest.fixture
def victim(tmp_path) -> Path:
    """A file of ours (root's) that the other user wants overwritten."""
    path = tmp_path / "victim"
    path.write_text(PRECIOUS)
    path.chmod(0o600)
    return path


def _planted_folder(shared: Path) -> Path:
    """What the other user made first: the lock folder, theirs, 0700 like a careful user's."""
    folder = shared / f"gefyra-locks-{os.geteuid()}"
    folder.mkdir(mode=0o700)
    os.chown(folder, OTHER_UID, OTHER_UID)
    return folder


def _assert_untouched(victim: Path) -> None:
    assert victim.read_text() == PRECIOUS
    assert victim.stat().st_uid == 0 and stat.S_IMODE(victim.stat().st_mode) == 0o600


def test_a_lock_folder_of_another_user_is_refused_and_nothing_is_written_through_it(shared, victim):
    folder = _planted_folder(shared)
    for name in ("proj.lock", "proj.down"):
        (folder / name).symlink_to(victim)
        os.lchown(folder / name, OTHER_UID, OTHER_UID)
    for action in (
        lambda: project_lock("proj", timeout=0).__enter__(),
        lambda: mark_down("proj"),
        lambda: down_marker("proj"),
        lambda: check_not_down("proj", ""),
    ):
        with pytest.raises(ProviderError) as caught:
            action()
        assert str(folder) in caught.value.message and f"belongs to uid {OTHER_UID}" in caught.value.message
        assert caught.value.hint and "GEFYRA_LOCK_DIR" in caught.value.hint
    _assert_untouched(victim)


def test_gefyra_down_refuses_the_planted_folder(shared, victim):
    """The reported attack, end to end: root's `gefyra down -p proj` must neither write a pid into the victim
    nor a `.down` marker."""
    folder = _planted_folder(shared)
    (folder / "proj.lock").symlink_to(victim)
    (folder / "proj.down").symlink_to(victim)
    done = subprocess.run(
        [sys.executable, "-m", "gefyra", "down", "-p", "proj"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode == 1, done
    assert f"lock folder {folder} is not safe to use" in done.stderr
    assert "Traceback" not in done.stderr
    _assert_untouched(victim)


def test_a_symlink_as_the_lock_folder_is_refused(shared, tmp_path, victim):
    """The other user's link pointing at a folder of ours: it must not be followed."""
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o700)
    (shared / f"gefyra-locks-{os.geteuid()}").symlink_to(ours)
    os.lchown(shared / f"gefyra-locks-{os.geteuid()}", OTHER_UID, OTHER_UID)
    with pytest.raises(ProviderError, match="symbolic link"):
        with project_lock("proj", timeout=0):
            pass
    assert list(ours.iterdir()) == []


def test_a_folder_others_may_write_to_is_refused(shared):
    folder = shared / f"gefyra-locks-{os.geteuid()}"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(ProviderError, match=r"others may write to it \(mode 0777; must be 0700\)"):
        mark_down("proj")
    assert list(folder.iterdir()) == []


def test_a_link_inside_our_own_folder_is_not_written_through(shared, victim):
    with project_lock("proj", timeout=0):
        pass  # makes the folder, ours and 0700
    folder = lock_dir()
    (folder / "proj.lock").unlink()
    (folder / "proj.lock").symlink_to(victim)
    os.link(victim, folder / "proj.down")  # a hard link: a second name of the victim
    with pytest.raises(ProviderError, match="proj.lock cannot be opened safely"):
        with project_lock("proj", timeout=0):
            pass
    with pytest.raises(ProviderError, match="proj.down is not a plain file .* with a single name"):
        down_marker("proj")
    mark_down("proj")  # renamed over the hard link: the victim keeps its contents
    _assert_untouched(victim)
    assert down_marker("proj").endswith(f"pid {os.getpid()}")


def test_the_folder_is_made_private_and_an_old_0755_one_of_ours_is_tightened(shared):
    folder = lock_dir()
    with project_lock("proj", timeout=0) as path:
        assert path == folder / "proj.lock"
        assert path.read_text() == str(os.getpid())
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = folder.stat()
    assert info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700
    folder.chmod(0o755)  # as gefyra before this check made it (mkdir under umask 022)
    marker = down_marker("proj")
    mark_down("proj")
    assert down_marker("proj") != marker
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == ["proj.down", "proj.lock"]  # no temporary left

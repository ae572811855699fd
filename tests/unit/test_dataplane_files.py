"""Secret files go into containers as root-owned mode-600 tar entries, never as directories."""

from __future__ import annotations

import io
import tarfile

import pytest

from gefyra.dataplane.archive import tar_of
from gefyra.providers.docker.dataplane.images import context_hash


def test_tar_has_plain_root_owned_files_with_the_mode():
    data = tar_of({"wg0.conf": "secret", "b": b"\x00\x01"})
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        assert [(m.name, m.isfile(), m.mode, m.uid, m.gid) for m in members] == [
            ("b", True, 0o600, 0, 0),
            ("wg0.conf", True, 0o600, 0, 0),
        ]
        assert tar.extractfile("wg0.conf").read() == b"secret"


@pytest.mark.parametrize("bad", ["a/b", "", "..", "."])
def test_tar_refuses_paths(bad):
    with pytest.raises(ValueError):
        tar_of({bad: "x"})


def test_context_hash_changes_with_content_name_and_mode(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    script = tmp_path / "run.sh"
    script.write_text("echo\n")
    first = context_hash(tmp_path)
    assert context_hash(tmp_path) == first
    script.chmod(0o755)
    second = context_hash(tmp_path)
    assert second != first
    script.write_text("echo hi\n")
    assert context_hash(tmp_path) != second
    script.rename(tmp_path / "other.sh")
    assert len({first, second, context_hash(tmp_path)}) == 3

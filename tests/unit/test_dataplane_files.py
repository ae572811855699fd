"""Secret files go into containers as root-owned mode-600 tar entries, never as directories; data-plane
images are tagged by the hash of exactly the sources their Dockerfiles copy."""

from __future__ import annotations

import io
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from gefyra.dataplane.archive import tar_of
from gefyra.providers.docker.context_hash import context_hash
from gefyra.providers.docker.dataplane.images import (
    DATAPLANE_IMAGES,
    PARENT_CONTEXT,
    SHARED,
    image_hash,
    images_dir,
)


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


def test_compiled_caches_do_not_change_the_hash(tmp_path):
    (tmp_path / "tool.py").write_text("print(1)\n")
    first = context_hash(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "tool.cpython-311.pyc").write_bytes(b"\x00")
    assert context_hash(tmp_path) == first


def copied_sources(dockerfile: Path) -> list[str]:
    """Every source of the Dockerfile's COPY / ADD lines (flags and the destination left out)."""
    sources = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if words and words[0].upper() in ("COPY", "ADD"):
            sources += [word for word in words[1:-1] if not word.startswith("--")]
    return sources


@pytest.mark.parametrize("name", DATAPLANE_IMAGES)
def test_each_image_copies_only_what_its_hash_covers(name):
    """The content hash is correct only if every COPY reads from a folder the hash covers."""
    sources = copied_sources(images_dir() / name / "Dockerfile")
    assert sources, name
    if name in PARENT_CONTEXT:
        assert all(re.match(rf"({name}|{SHARED})/", source) for source in sources), sources
        assert any(source.startswith(f"{SHARED}/") for source in sources), sources
    else:
        assert all("/" not in source for source in sources), sources


def test_a_change_of_a_shared_file_changes_the_hash_of_every_image_using_it(tmp_path):
    root = tmp_path / "images"
    shutil.copytree(images_dir(), root, ignore=shutil.ignore_patterns("__pycache__"))
    before = {name: image_hash(name, root) for name in DATAPLANE_IMAGES}
    with (root / SHARED / "wg-up.sh").open("a") as shared:
        shared.write("# changed\n")
    after = {name: image_hash(name, root) for name in DATAPLANE_IMAGES}
    assert {name for name in DATAPLANE_IMAGES if before[name] != after[name]} == set(PARENT_CONTEXT)

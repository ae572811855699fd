"""`gefyra images build`: show what would be built, build what is missing, refuse unknown names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

from gefyra.providers.docker.dataplane.images import CONTENT_HASH_LABEL, image_hash, image_tag, images_dir


def _gefyra(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gefyra", "images", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def test_build_makes_the_image_and_print_then_says_cached(docker_client, base_image) -> None:
    built = _gefyra("build", "carrier")
    assert built.returncode == 0, built.stderr
    tag = image_tag("carrier")
    assert docker_client.images.get(tag).labels[CONTENT_HASH_LABEL] == image_hash("carrier")
    assert f"carrier: {tag} cached" in built.stderr or f"carrier: built {tag}" in built.stderr
    shown = _gefyra("build", "--print", "carrier")
    assert (shown.returncode, shown.stdout) == (0, f"carrier\t{tag}\tcached\n")


def test_print_lists_every_image_without_building(docker_client, tmp_path) -> None:
    # a copy of images/ whose Carrier sources no other run has: its tag is missing, and must stay so
    images = tmp_path / "images"
    shutil.copytree(images_dir(), images)
    for part in ("operator", "gefyra"):  # the Operator image is made of the checkout beside images/
        (tmp_path / part).symlink_to(images_dir().parent / part)
    dockerfile = images / "carrier" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + f"# {uuid.uuid4().hex}\n")
    shown = _gefyra("build", "--print", env={"GEFYRA_IMAGES_DIR": str(images)})
    assert shown.returncode == 0, shown.stderr
    rows = [line.split("\t") for line in shown.stdout.splitlines()]
    assert [row[0] for row in rows] == ["cargo", "stowaway", "carrier", "operator"]
    assert all(row[2] in ("cached", "missing", "outdated") for row in rows)
    carrier = dict((row[0], row[1:]) for row in rows)["carrier"]
    assert carrier[1] == "missing"
    assert carrier[0] not in {tag for image in docker_client.images.list() for tag in image.tags}


def test_an_unknown_image_is_a_clear_error() -> None:
    done = _gefyra("build", "cargoo")
    assert done.returncode == 1
    assert "unknown image 'cargoo'" in done.stderr and "cargo, stowaway, carrier, operator" in done.stderr
    assert "Traceback" not in done.stderr

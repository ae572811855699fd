"""Image references are normalised like Docker's image list shows them, so every `image:` finds its id."""

import pytest

from gefyra.model.desired import image_key


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        ("rv-img", "rv-img:latest"),
        ("debian:bookworm-slim", "debian:bookworm-slim"),
        ("docker.io/library/debian:bookworm-slim", "debian:bookworm-slim"),
        ("docker.io/library/debian", "debian:latest"),
        ("docker.io/me/app", "me/app:latest"),
        ("index.docker.io/me/app:1", "me/app:1"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("localhost:5000/app:2", "localhost:5000/app:2"),
        ("docker.io/library/debian@sha256:abc", "debian@sha256:abc"),
    ],
)
def test_image_key_normalises_like_docker(ref: str, key: str) -> None:
    assert image_key(ref) == key

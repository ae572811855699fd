"""Images of Pods: the sandbox pulls from no registry (there is none here), so a missing image gets a
kubelet-like waiting status that says how to get it, and the Pod is looked at again with a back-off until the
image is there.

First `ErrImagePull`, then `ImagePullBackOff`, as a kubelet whose pulls fail; each with the how-to message.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..images import BASE_IMAGE, BUILD_BASE

BACKOFF_S = (1.0, 2.0, 4.0, 8.0)  # then every 10 s: an image built meanwhile starts the Pod within that
MAX_BACKOFF_S = 10.0


def how_to_get(image: str) -> str:
    """What a developer runs to put `image` on this machine (pure)."""
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    if image == BASE_IMAGE:
        return BUILD_BASE
    if repository.startswith("gefyra-sandbox-"):
        name = repository.removeprefix("gefyra-sandbox-")
        return f"build it: tests.sandbox.images.ensure_image(docker_client, {name!r}) (the test fixtures do)"
    if repository.startswith("gefyra/"):
        name = repository.removeprefix("gefyra/")
        return (
            f"build it: gefyra apply does, or `gefyra images build {name}`, or "
            f"docker build -t {image} -f images/{name}/Dockerfile images"
        )
    return (
        f"build it (docker build -t {image} <folder of its Dockerfile>) or load it (docker load -i <file>, "
        f"made with docker save {image} where a registry is reachable)"
    )


def delay(failures: int) -> float:
    """Seconds until the next look after `failures` failed looks (1 -> the first back-off)."""
    return BACKOFF_S[failures - 1] if failures <= len(BACKOFF_S) else MAX_BACKOFF_S


class Images:
    """Presence checks with a per-container count of failed looks (for the reason and the back-off)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._looks: dict[tuple[str, str], tuple[int, float]] = {}  # -> (failed looks, next one due)
        self._lock = threading.Lock()  # kubelet workers sync different Pods at once

    def present(self, image: str) -> bool:
        import docker.errors

        try:
            self.client.images.get(image)
            return True
        except docker.errors.ImageNotFound:
            return False

    def missing(self, uid: str, container: dict[str, Any]) -> tuple[dict[str, str], float | None] | None:
        """None when the container's image is here; else its waiting state and, when this look was the due one
        (or the first), the seconds until the next (None: one is already scheduled; syncs for other reasons
        neither count as looks nor schedule more, so there is one chain of looks per container)."""
        key = (uid, container["name"])
        image = container["image"]
        if self.present(image):
            with self._lock:
                self._looks.pop(key, None)
            return None
        now = time.monotonic()
        wait: float | None = None
        with self._lock:
            failures, due = self._looks.get(key, (0, 0.0))
            if now >= due:
                failures += 1
                wait = delay(failures)
                self._looks[key] = (failures, now + wait)
        reason = "ErrImagePull" if failures == 1 else "ImagePullBackOff"
        message = (
            f'image "{image}" is not on this machine and the sandbox pulls from no registry; '
            f"{how_to_get(image)}. The Pod starts once it is there (looked for again at least every "
            f"{MAX_BACKOFF_S:g}s)"
        )
        return {"reason": reason, "message": message}, wait

    def forget(self, uid: str) -> None:
        with self._lock:
            for key in [k for k in self._looks if k[0] == uid]:
                del self._looks[key]

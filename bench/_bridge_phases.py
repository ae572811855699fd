"""Where a bridge's time goes: a thread polling the sandbox API (and the Service's NodePort) records the first
moment each phase holds, relative to the start of one `gefyra apply`.

Phases of adding a bridge: the GefyraBridge exists, the target Pod's image is Carrier, the Pod's container
(re)started with Carrier, the bridge's status is Active, the Service answers from the local container. Of
removing one: the bridge is gone, the Pod's image is the original, its container restarted, the Service
answers from the original container.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from gefyra.cluster import names

CARRIER = "gefyra/carrier:"
LOCAL_MESSAGE = "hello from the local container"
POLL_S = 0.05


def answer(url: str) -> str | None:
    """The `message` of the echo server at `url`, or None (refused, reset, timed out, not JSON)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return str(json.loads(response.read()).get("message"))
    except (OSError, ValueError):
        return None


class Phases:
    """Polls until `stop()`; `at[phase]` is seconds since `start` when that phase first held."""

    def __init__(self, probes: dict[str, Callable[[], bool]]) -> None:
        self.probes = probes
        self.at: dict[str, float] = {}
        self.start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Phases:
        self.start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, probe in self.probes.items():
                if name in self.at:
                    continue
                try:
                    held = probe()
                except Exception:  # noqa: BLE001 - an API hiccup is "not yet"
                    held = False
                if held:
                    self.at[name] = time.perf_counter() - self.start
            if len(self.at) == len(self.probes):
                return
            self._stop.wait(POLL_S)


def bridge_probes(
    core: Any, custom: Any, namespace: str, pod: str, *, bridged: bool
) -> dict[str, Callable[[], bool]]:
    """Probes of the Operator's side for adding (`bridged`) or removing a bridge on Pod `pod`."""

    def bridges() -> list[dict[str, Any]]:
        listed = custom.list_namespaced_custom_object(
            names.GROUP, names.VERSION, names.NAMESPACE, names.BRIDGE_PLURAL
        )
        return list(listed["items"])

    def container() -> Any:
        return core.read_namespaced_pod(pod, namespace)

    def image_is_carrier() -> bool:
        return bool(container().spec.containers[0].image.startswith(CARRIER)) == bridged

    def restarted() -> bool:
        statuses = container().status.container_statuses or []
        return any(s.image.startswith(CARRIER) == bridged and s.state.running is not None for s in statuses)

    def status_active() -> bool:
        phases = [(b.get("status") or {}).get("phase") for b in bridges()]
        return "Active" in phases if bridged else not phases

    if bridged:
        return {
            "bridge created": lambda: bool(bridges()),
            "Pod patched": image_is_carrier,
            "Carrier running": restarted,
            "bridge Active": status_active,
        }
    return {"Pod restored": image_is_carrier, "original running": restarted, "bridge gone": status_active}

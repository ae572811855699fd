"""Readiness and liveness probes (httpGet, tcpSocket, exec), run from the node like a kubelet's prober.

Difference from a real kubelet, on purpose: until a container's first successful readiness probe the prober
retries every 0.1 s (not every periodSeconds), so tests and the demo never wait out a probe period.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
Obj = dict[str, Any]
EAGER = 0.1


@dataclass
class Target:
    pod_key: tuple[str, str]
    pod_ip: str
    container: Any  # docker Container
    spec: Obj
    ready: bool = False
    failures: int = 0
    successes: int = 0
    next_due: float = 0.0
    live_failures: int = 0
    live_due: float = 0.0
    started: float = field(default_factory=time.monotonic)


def _port(probe_action: Obj, container: Obj) -> int:
    port = probe_action.get("port")
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for item in container.get("ports") or []:
        if item.get("name") == port:
            return int(item["containerPort"])
    raise ValueError(f"unknown named port {port!r}")


def run_probe(probe: Obj, pod_ip: str, spec: Obj, docker_container: Any) -> bool:
    timeout = float(probe.get("timeoutSeconds", 1))
    try:
        if "httpGet" in probe:
            action = probe["httpGet"]
            host = action.get("host") or pod_ip
            scheme = action.get("scheme", "HTTP").lower()
            url = f"{scheme}://{host}:{_port(action, spec)}{action.get('path', '/')}"
            request = urllib.request.Request(
                url, headers={h["name"]: h["value"] for h in action.get("httpHeaders") or []}
            )
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return 200 <= response.status < 400
        if "tcpSocket" in probe:
            with socket.create_connection((pod_ip, _port(probe["tcpSocket"], spec)), timeout=timeout):
                return True
        if "exec" in probe:
            result = docker_container.exec_run(probe["exec"]["command"])
            return result.exit_code == 0
        if "grpc" in probe:
            with socket.create_connection((pod_ip, int(probe["grpc"]["port"])), timeout=timeout):
                return True
    except Exception:  # noqa: BLE001 - any failure is a failed probe
        return False
    return True


class Prober:
    """Tracks every running container that has probes; tells the kubelet when readiness flips or liveness
    fails.
    """

    def __init__(
        self,
        on_change: Callable[[tuple[str, str]], None],
        on_unhealthy: Callable[[tuple[str, str], str], None],
    ) -> None:
        self._targets: dict[str, Target] = {}  # docker container id -> target
        self._lock = threading.Lock()
        self._on_change = on_change
        self._on_unhealthy = on_unhealthy
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="prober", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def track(self, pod_key: tuple[str, str], pod_ip: str, container: Any, spec: Obj) -> None:
        if not (spec.get("readinessProbe") or spec.get("livenessProbe")):
            return
        with self._lock:
            if container.id not in self._targets:
                now = time.monotonic()
                live_delay = float((spec.get("livenessProbe") or {}).get("initialDelaySeconds", 0))
                ready_delay = float((spec.get("readinessProbe") or {}).get("initialDelaySeconds", 0))
                self._targets[container.id] = Target(
                    pod_key, pod_ip, container, spec, next_due=now + ready_delay, live_due=now + live_delay
                )

    def forget_except(self, live_ids: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._targets if k not in live_ids]:
                del self._targets[key]

    def ready(self, container_id: str, spec: Obj) -> bool:
        """Readiness of a container: True without a readiness probe, else the last probe verdict."""
        if not spec.get("readinessProbe"):
            return True
        with self._lock:
            target = self._targets.get(container_id)
            return bool(target and target.ready)

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            with self._lock:
                targets = list(self._targets.values())
            now = time.monotonic()
            for target in targets:
                self._readiness(target, now)
                self._liveness(target, now)

    def _readiness(self, target: Target, now: float) -> None:
        probe = target.spec.get("readinessProbe")
        if not probe or now < target.next_due:
            return
        ok = run_probe(probe, target.pod_ip, target.spec, target.container)
        period = float(probe.get("periodSeconds", 10))
        if ok:
            target.successes, target.failures = target.successes + 1, 0
            verdict = target.ready or target.successes >= int(probe.get("successThreshold", 1))
        else:
            target.failures, target.successes = target.failures + 1, 0
            verdict = target.ready and target.failures < int(probe.get("failureThreshold", 3))
        target.next_due = time.monotonic() + (period if verdict else min(period, EAGER))
        if verdict != target.ready:
            target.ready = verdict
            self._on_change(target.pod_key)

    def _liveness(self, target: Target, now: float) -> None:
        probe = target.spec.get("livenessProbe")
        if not probe or now < target.live_due:
            return
        ok = run_probe(probe, target.pod_ip, target.spec, target.container)
        target.live_due = time.monotonic() + float(probe.get("periodSeconds", 10))
        target.live_failures = 0 if ok else target.live_failures + 1
        if target.live_failures >= int(probe.get("failureThreshold", 3)):
            target.live_failures = 0
            self._on_unhealthy(target.pod_key, target.container.id)

"""Helpers of the fault tests: a request loop inside a container whose results arrive live, `api.watch` in a
thread, and a project through the engine against a test stand."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from gefyra import api
from gefyra.apply.events import Event
from gefyra.providers.docker.dataplane.images import image_tag
from tests.dataplane.testbed import HTTP_PORT, TCP_PORT, TESTKIT

# Python run in the container: a GET every period, each in a thread of its own (a new connection each), so a
# slow or lost request never delays the next one; "ok <t>" / "fail <t>" per line with the request's start
# time by the container's clock (the host's). The timeout (0.8 s) is below TCP's first SYN retransmission
# (1 s): a request whose SYN was lost in an outage must not count as a success at its start time.
_LOOP = """
import threading, time, urllib.request
def get(t):
    try:
        urllib.request.urlopen("{url}", timeout=0.8).read()
        print("ok", t, flush=True)
    except Exception:
        print("fail", t, flush=True)
end = time.time() + {seconds}
while time.time() < end:
    t = time.time()
    threading.Thread(target=get, args=(t,), daemon=True).start()
    time.sleep(max(0.0, {period} - (time.time() - t)))
time.sleep(1)
"""


class Prober:
    """GET `url` from inside `container` every `period` seconds for `seconds`; results arrive live (a result
    may come up to 1 s after its start: wait that long before judging a moment)."""

    def __init__(self, container, url: str, seconds: float, period: float = 0.25) -> None:
        self.results: list[tuple[bool, float]] = []
        code = _LOOP.format(seconds=seconds, url=url, period=period)
        self._thread = threading.Thread(target=self._run, args=(container, code), daemon=True)
        self._thread.start()

    def _run(self, container, code: str) -> None:
        pending = ""
        for chunk in container.exec_run(["python3", "-c", code], stream=True).output:
            pending += chunk.decode(errors="replace")
            *lines, pending = pending.split("\n")
            for line in lines:
                word, _, stamp = line.partition(" ")
                if word in ("ok", "fail"):
                    self.results.append((word == "ok", float(stamp)))

    def first_ok_after(self, since: float, timeout: float) -> float | None:
        """Time of the first successful request started after `since` (polls up to `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = sorted(at for ok, at in list(self.results) if ok and at > since)
            if found:
                return found[0]
            time.sleep(0.1)
        return None

    def longest_gap(self, since: float, until: float) -> float:
        """The longest time between the starts of two successful requests in [since, until]."""
        oks = sorted(at for ok, at in list(self.results) if ok and since <= at <= until)
        return max((b - a for a, b in zip(oks, oks[1:], strict=False)), default=0.0)


class Watching:
    """api.watch in a thread, with its events collected."""

    def __init__(self, config_file: Path, drift_interval: float = 1.0) -> None:
        self.events: list[Event] = []
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(config_file, drift_interval), daemon=True)
        self.thread.start()

    def _run(self, config_file: Path, drift_interval: float) -> None:
        try:
            api.watch(config_file, emit=self.events.append, drift_interval=drift_interval, stop=self.stop)
        except BaseException as error:  # noqa: BLE001 - reported by close()
            self.errors.append(error)

    def steps(self, step: str) -> list[Event]:
        return [e for e in list(self.events) if e.step == step]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive() and not self.errors, self.errors


def serving_app(**extra) -> dict:
    """An app container serving HTTP/TCP with the testkit (Carrier image: it has python3)."""
    return {
        "image": image_tag("carrier"),
        "command": ["python3", "/opt/testkit.py"],
        "args": ["serve", "--http", str(HTTP_PORT), "--tcp", str(TCP_PORT)],
        "mounts": [f"{TESTKIT}:/opt/testkit.py:ro"],
        **extra,
    }


def write_config(folder: Path, name: str, stand, containers: dict) -> Path:
    document = {
        "version": 1,
        "project": {"name": name},
        "cluster": {"endpoint": f"{stand.publish_ip}:{stand.wg_port}"},
        "containers": containers,
    }
    path = folder / "gefyra.yaml"
    path.write_text(json.dumps(document))
    return path


def wait_for(what: str, check, timeout: float = 30.0, poll: float = 0.25):
    """Poll `check` until it returns something truthy (returned); fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s"
        time.sleep(poll)

"""Helpers of the engine Docker tests: a throw-away project (unique `t-eng-` name) and polling."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gefyra.model import labels

SLEEPER = {"image": "debian:bookworm-slim", "args": ["sleep", "infinity"]}


class EngineProject:
    """A gefyra.yaml in a temp folder plus helpers to look at what the engine made."""

    def __init__(self, folder: Path, client: Any) -> None:
        self.folder = folder
        self.client = client
        self.name = f"t-eng-{secrets.token_hex(4)}"
        self.file = folder / "gefyra.yaml"

    def write(self, containers: dict[str, dict], **top: Any) -> Path:
        """gefyra.yaml with these containers (JSON is YAML)."""
        document = {"version": 1, "project": {"name": self.name}, "containers": containers, **top}
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(document, indent=2))
        tmp.replace(self.file)  # atomic, like an editor's save
        return self.file

    def load(self):
        from gefyra import api

        return api.load(self.file)

    def cli(self, *args: str, check: int | None = 0, env: dict | None = None, timeout: float = 120):
        result = subprocess.run(
            [sys.executable, "-m", "gefyra", *args],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        if check is not None:
            assert result.returncode == check, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result

    def popen(self, *args: str) -> subprocess.Popen:
        """`gefyra ARGS` running in the project folder (watch, say), with text pipes for stdout and stderr."""
        return subprocess.Popen(
            [sys.executable, "-m", "gefyra", *args],
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def containers(self) -> dict[str, dict]:
        """Resource name -> inspect data of the project's containers."""
        found = self.client.api.containers(all=True, filters={"label": [f"{labels.PROJECT}={self.name}"]})
        return {c["Labels"][labels.NAME]: self.client.api.inspect_container(c["Id"]) for c in found}

    def ids(self) -> dict[str, str]:
        return {name: data["Id"] for name, data in self.containers().items()}

    def env_of(self, name: str) -> dict[str, str]:
        pairs = self.containers()[name]["Config"]["Env"]
        return dict(pair.split("=", 1) for pair in pairs)

    def labelled(self) -> list[str]:
        """Every container, network and volume with this project's label."""
        selector = {"label": [f"{labels.PROJECT}={self.name}"]}
        return (
            [c["Names"][0] for c in self.client.api.containers(all=True, filters=selector)]
            + [n["Name"] for n in self.client.api.networks(filters=selector)]
            + [v["Name"] for v in self.client.api.volumes(filters=selector).get("Volumes") or []]
        )


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as error:  # noqa: BLE001 - the object may not exist yet; keep polling
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Watching:
    """api.watch in a thread, its events collected; `drift_interval` as the test needs it (a long one leaves
    only engine events and file changes as triggers)."""

    def __init__(self, project, drift_interval: float = 0.5) -> None:
        from gefyra.apply.events import Event

        self.events: list[Event] = []
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(project, drift_interval), daemon=True)
        self.thread.start()

    def _run(self, project, drift_interval: float) -> None:
        from gefyra import api

        try:
            api.watch(project.file, emit=self.events.append, drift_interval=drift_interval, stop=self.stop)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.errors.append(error)

    def finished_applies(self) -> int:
        return sum(1 for event in self.events if event.event == "apply_finished")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive() and not self.errors, self.errors

"""Helpers of the warm-agent tests: a private agent folder per test (never a developer's agent), the agents
and workers running for it (found in /proc), and the CLI run through the agent or in-process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rpartition(")")[2].split()[1])


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


class AgentFolder:
    """GEFYRA_AGENT_DIR for one test, and what runs for it."""

    def __init__(self) -> None:
        # short: a unix socket path must stay under ~108 bytes (pytest's tmp_path can be longer)
        self.path = Path(tempfile.mkdtemp(prefix="ga-"))
        self.env = {**os.environ, "GEFYRA_AGENT_DIR": str(self.path), "GEFYRA_AGENT_IDLE_S": "300"}
        self.env.pop("GEFYRA_AGENT", None)

    def agents(self) -> list[int]:
        """Live agent processes of this folder (by their command line and environment)."""
        marker = f"GEFYRA_AGENT_DIR={self.path}\0".encode()
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and b"gefyra.cli.agent_server" in _cmdline(int(entry)):
                if marker in _environ(int(entry)) and _alive(int(entry)):
                    found.append(int(entry))
        return found

    def workers(self, agent: int) -> list[int]:
        return [
            int(entry)
            for entry in os.listdir("/proc")
            if entry.isdigit() and _ppid(int(entry)) == agent and _alive(int(entry))
        ]

    def ready(self) -> int:
        """The pid of the one live agent listening (waits for it)."""

        def listening() -> int | None:
            pids = list(self.path.glob("*.pid"))
            socks = list(self.path.glob("*.sock"))
            if len(pids) == 1 and len(socks) == 1 and pids[0].read_text().strip():
                pid = int(pids[0].read_text())
                return pid if pid in self.agents() else None  # a SIGKILLed agent leaves its files behind
            return None

        pid: int = wait_for("an agent listening", listening)
        return pid

    def served(self) -> int:
        """How many workers the agents of this folder forked (their log lines)."""
        return sum(log.read_text().count(": worker ") for log in self.path.glob("*.log"))

    def cli(self, *args: str, cwd: Path, agent: bool = True, env: dict[str, str] | None = None):
        environ = {**self.env, **(env or {}), **({} if agent else {"GEFYRA_AGENT": "0"})}
        return subprocess.run(
            [sys.executable, "-m", "gefyra", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            env=environ,
        )

    def close(self) -> None:
        """Stop every agent of this folder and wait until none is left; remove the folder."""
        for pid in self.agents():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:  # it exited on its own since it was listed
                pass
        wait_for("the agents to exit", lambda: not self.agents())
        shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture
def agent_folder() -> Iterator[AgentFolder]:
    folder = AgentFolder()
    try:
        yield folder
    finally:
        folder.close()

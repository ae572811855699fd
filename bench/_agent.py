"""The warm agent in benchmarks: a private agent folder (never a developer's agent), the CPU it and its
workers spend (not the client's children: read from /proc, in clock ticks), and its shutdown."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


class BenchAgent:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ga-bench-"))
        self.env = {"GEFYRA_AGENT_DIR": str(self.folder), "GEFYRA_AGENT_IDLE_S": "900"}

    def pids(self) -> list[int]:
        found = []
        for path in self.folder.glob("*.pid"):
            try:
                found.append(int(path.read_text()))
            except (OSError, ValueError):
                continue
        return found

    def wait_listening(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pids() and any(self.folder.glob("*.sock")):
                return True
            time.sleep(0.05)
        return False

    def workers_cpu(self) -> float:
        """User + system seconds of the agents so far: their own (accept, fork, the periodic fingerprint
        check) and their finished (reaped) workers'; waits (up to 2 s) until no worker is left, so the last
        command's worker is counted."""
        agents = self.pids()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(_children(pid) for pid in agents):
            time.sleep(0.005)
        total = 0
        for pid in agents:
            fields = _stat(pid)
            if fields:
                # utime, stime, cutime, cstime: fields 14-17 of /proc/PID/stat (11-14 after pid and comm)
                total += sum(int(value) for value in fields[11:15])
        return total * TICK_S

    def close(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and any(_stat(pid) for pid in self.pids()):
            time.sleep(0.05)
        shutil.rmtree(self.folder, ignore_errors=True)


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (field 3 on): state, ppid, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text.rpartition(")")[2].split()


def _children(pid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if len(fields) > 1 and fields[1] == str(pid):
                return True
    return False

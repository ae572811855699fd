"""The warm agent: a background process that has imported what `gefyra plan`, `status` and `list` need and
forks one worker per command (gefyra/cli/agent_worker.py), so a command skips the imports and model builds
that are most of its start-up. Started by the first client that finds none (gefyra/cli/agent_client.py).

One agent per fingerprint (package folder, Python, gefyra's sources), one lock so two starting at once leave
one. It exits when idle for GEFYRA_AGENT_IDLE_S (default 600 s), when its code changes, when its socket is
taken away, or on SIGTERM. It serves only peers of its own uid. The parent never runs a command: forks
start from a clean, import-only state, so nothing leaks between commands.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import socket
import struct
import sys
import time
from types import FrameType

from gefyra.cli import agent_client

DEFAULT_IDLE_S = 600.0
CHECK_S = 2.0  # how often the agent looks at its fingerprint and its socket
WARM = (  # what the read-only commands import (found with sys.modules after a run; see the agent tests)
    "gefyra.cli.app",
    "gefyra.cli.fast",
    "gefyra.cli.readonly",
    "gefyra.cli.agent_worker",
    "gefyra.api",
    "gefyra.apply.observe",
    "gefyra.planning.status",
    "gefyra.render.console",
    "gefyra.render.plan_json",
    "gefyra.render.plan_text",
    "gefyra.render.progress",
    "gefyra.providers.docker.listing",
    "gefyra.config.loader",
    "gefyra.config.document",
    "gefyra.config.files",
    "gefyra.config.model",
    "gefyra.config.references",
    "gefyra.config.validation",
    "gefyra.config.risks",
    "encodings.utf_8_sig",
)
WARM_CONFIG = 'version: 1\nproject: {name: warm-up}\ncontainers:\n  c: {image: "x:1", env: {A: "${A:-a}"}}\n'


def idle_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("GEFYRA_AGENT_IDLE_S", DEFAULT_IDLE_S)))
    except ValueError:
        return DEFAULT_IDLE_S


def main(key: str) -> None:
    """Entry point of the spawned agent (agent_client.BOOT); `key` is the fingerprint the client computed."""
    os.chdir("/")
    os.umask(0o077)
    folder = agent_client.agent_dir()
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    if not agent_client.private(folder):
        return
    files = agent_client.paths(folder, key)
    lock = os.open(files["lock"], os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another agent has it
    _log_to(files["log"])  # after the lock: a losing agent never truncates the winner's log
    _warm_up(folder)
    package = agent_client.package_dir()
    if agent_client.fingerprint(package) != key:
        print(f"agent: fingerprint is not {key} (code changed while starting); exiting", flush=True)
        return
    import gc

    gc.freeze()  # workers' collections skip what the warm-up made: fewer copy-on-write pages per fork
    Agent(key, files, lock).serve()


def _log_to(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _warm_up(folder: str) -> None:
    """Import what the commands use and load a tiny config once (lazy imports and first-use set-up), with an
    empty environment and our private folder as cwd: nothing here depends on a request's env or cwd."""
    import importlib
    import tempfile
    from pathlib import Path

    for name in WARM:
        importlib.import_module(name)
    from gefyra.config.loader import load
    from gefyra.providers import registry

    registry.providers()  # imports every provider and kind module; @cache of imports only, no env read
    registry.kinds()
    registry.hooks()
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        file = Path(scratch) / "gefyra.yaml"
        file.write_text(WARM_CONFIG)
        load(file, cwd=Path(scratch), environ={})


class Agent:
    def __init__(self, key: str, files: dict[str, str], lock: int) -> None:
        self.key = key
        self.files = files
        self.lock = lock
        self.pid = os.getpid()  # the agent (a worker's parent while the agent lives)
        self.stopping = False
        self.wake = -1
        self.idle_s = idle_seconds()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.inode = 0
        self.workers: set[int] = set()

    def serve(self) -> None:
        try:
            self._listen()
            # SIGTERM only sets a flag; the wake-up pipe ends the select at once. (A handler that raised
            # SystemExit was lost when the signal landed in an at-fork hook: the agent never made way.)
            self.wake, wake_in = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            signal.set_wakeup_fd(wake_in)
            signal.signal(signal.SIGTERM, self._terminate)
            signal.signal(signal.SIGCHLD, self._reap)
            self._loop()
        finally:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self._remove()
            print(f"agent {os.getpid()}: exiting", flush=True)

    def _listen(self) -> None:
        path = self.files["sock"]
        if os.path.lexists(path):  # a dead agent's socket; we hold the lock, nobody else listens there
            os.unlink(path)
        self.listener.bind(path)
        self.listener.listen(64)
        self.inode = os.stat(path).st_ino
        fd = os.open(self.files["pid"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        print(f"agent {os.getpid()}: listening on {path}", flush=True)

    def _loop(self) -> None:
        last = time.monotonic()
        while True:
            remaining = self.idle_s - (time.monotonic() - last)
            if remaining <= 0:  # running workers go on alone: they need nothing from here
                print(f"agent {os.getpid()}: idle for {self.idle_s:g} s", flush=True)
                return
            listening = self.listener.fileno()
            ready, _, _ = select.select([listening, self.wake], [], [], min(CHECK_S, remaining))
            if self.stopping:
                return
            if self.wake in ready:
                _drain(self.wake)
            if listening in ready:
                self._accept()
                last = time.monotonic()
            elif not ready and not self._still_current():
                return

    def _still_current(self) -> bool:
        """Our socket is still in place and our code unchanged."""
        try:
            if os.stat(self.files["sock"]).st_ino != self.inode:
                return False
            return agent_client.fingerprint(agent_client.package_dir()) == self.key
        except OSError:
            return False

    def _accept(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except OSError:
            return
        with connection:
            if _peer_uid(connection) != os.geteuid():
                return
            pid = os.fork()
            if pid == 0:
                try:
                    self._become_worker(connection)
                finally:  # a worker never returns into the agent's loop, whatever was raised
                    os._exit(1)
            self.workers.add(pid)
            print(f"agent {os.getpid()}: worker {pid}", flush=True)

    def _become_worker(self, connection: socket.socket) -> None:
        code = 1
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            self.listener.close()
            os.close(self.lock)
            from gefyra.cli import agent_worker

            code = agent_worker.serve(connection, self.key, agent=self.pid)
        finally:
            os._exit(code)

    def _terminate(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _reap(self, signum: int, frame: FrameType | None) -> None:
        while self.workers:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.workers.clear()
                return
            if pid == 0:
                return
            self.workers.discard(pid)

    def _remove(self) -> None:
        """Our socket and pid file (not a newer agent's)."""
        try:
            if os.stat(self.files["sock"]).st_ino == self.inode:
                os.unlink(self.files["sock"])
        except OSError:
            pass
        try:
            os.unlink(self.files["pid"])
        except OSError:
            pass
        self.listener.close()


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _peer_uid(connection: socket.socket) -> int:
    """The uid of the process at the other end (SO_PEERCRED: pid, uid, gid)."""
    creds = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return int(uid)


if __name__ == "__main__":  # pragma: no cover - started through agent_client.BOOT
    main(sys.argv[1])

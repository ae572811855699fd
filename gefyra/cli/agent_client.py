"""The client side of the warm agent (gefyra/cli/agent_server.py): hands a read-only command to an agent
that has already imported gefyra, so `gefyra status` and `plan` skip ~0.4 s of imports and model builds.

Standard library only (an import contract): this runs before anything heavy is imported. `run(argv)` returns
the command's exit code when an agent ran it, or None: then the caller runs it in-process as always. Every
problem before the agent's worker has started the command (no agent, a stale one, a refused or broken
connection, a timeout) gives None; the first client that finds no agent starts one in the background.

Protocol over a unix socket in a private folder, one connection per command:
  client -> worker  a length-prefixed request, marshal (same Python on both ends: the fingerprint has its
                    version): argv, cwd, env, umask, stream settings, fingerprint; with the client's stdin,
                    stdout and stderr attached (SCM_RIGHTS)
  worker -> client  "pid N" (ready) or "refused WHY"
  client -> worker  "go"  (only now may the worker touch the fds: a client that gave up never sees output)
  worker -> client  "exit CODE"
Ctrl-C in the client is forwarded to the worker's pid; a worker whose client went away interrupts itself.
"""

from __future__ import annotations

import _socket  # not `socket`: its enums cost ~4 ms of start-up, a tenth of what the agent leaves
import marshal
import os
import signal
import sys
from array import array
from collections.abc import Iterator
from types import FrameType

PROTOCOL = 1
READY_TIMEOUT_S = 3.0  # connect + the worker's "ready"; after that the command runs as long as it needs
STOP_TIMEOUT_S = 10.0  # a worker told to stop (Ctrl-C) that is silent this long is killed
HEADER = 4  # bytes of the big-endian request length
MAX_REQUEST = 1 << 22
INTERRUPTED = 130  # gefyra.errors.ExitCode.INTERRUPTED (not imported: this module stays stdlib-only)
in_worker = False  # set in the agent's workers: they run the command, never hand it on
BOOT = "import sys; sys.path[0] = sys.argv[1]; from gefyra.cli.agent_server import main; main(sys.argv[2])"


def enabled() -> bool:
    return os.environ.get("GEFYRA_AGENT", "1") != "0"


def agent_dir() -> str:
    """The agent's private folder: GEFYRA_AGENT_DIR, else gefyra-agent-<uid> under XDG_RUNTIME_DIR or the
    temp folder (as gefyra/apply/lock.py picks its folder)."""
    given = os.environ.get("GEFYRA_AGENT_DIR")
    if given:
        return given
    base = os.environ.get("XDG_RUNTIME_DIR") or next(
        (value for key in ("TMPDIR", "TEMP", "TMP") if (value := os.environ.get(key))), "/tmp"
    )
    return os.path.join(base, f"gefyra-agent-{os.geteuid()}")


def private(folder: str) -> bool:
    """`folder` is a real folder (no link) of this uid that nobody else may enter."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (info.st_mode & 0o170000) == 0o040000 and info.st_uid == os.geteuid() and not info.st_mode & 0o077


def package_dir() -> str:
    """The gefyra package this process runs from (each checkout, worktree or clone has its own agent)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _sources(folder: str) -> Iterator[str]:
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    yield from _sources(entry.path)
            elif entry.name.endswith(".py"):
                info = entry.stat(follow_symlinks=False)
                yield f"{entry.path}:{info.st_mtime_ns}:{info.st_size}"


def fingerprint(package: str) -> str:
    """What the agent's code is: the package folder, the Python (with its file-system encoding, fixed at
    start) and every gefyra .py file's mtime and size."""
    from _blake2 import blake2b

    digest = blake2b(digest_size=12)
    python = (sys.executable, sys.version, sys.getfilesystemencoding(), str(sys.flags.utf8_mode))
    for part in (package, *python, *_sources(package)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


def paths(folder: str, key: str) -> dict[str, str]:
    """The agent's files: its socket, the lock only one agent holds, its pid and its log."""
    return {kind: os.path.join(folder, f"{key}.{kind}") for kind in ("sock", "lock", "pid", "log")}


def run(argv: list[str]) -> int | None:
    """Run a read-only command through the agent; None when it did not start there (run it in-process)."""
    if not enabled():
        return None
    try:
        package = package_dir()
        key = fingerprint(package)
        folder = agent_dir()
        if not private(folder):
            if not os.path.lexists(folder):
                _start(package, key)
            return None
        files = paths(folder, key)
        connection = _connect(files["sock"])
    except (OSError, ValueError):
        return None
    if connection is None:
        try:
            _start_unless_starting(package, key, files["lock"])
        except OSError:
            pass
        return None
    try:
        pid = _hand_over(connection, argv, key)
        return None if pid is None else _wait(connection, pid)
    finally:
        connection.close()


def _connect(path: str) -> _socket.socket | None:
    """A connection to the agent; None when none listens there."""
    connection = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    connection.settimeout(READY_TIMEOUT_S)
    try:
        connection.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        connection.close()
        return None
    except OSError:
        connection.close()
        raise
    return connection


def _streams() -> dict[str, dict[str, object]]:
    """How Python made this process's text streams; ValueError when one is not the plain stream of its fd
    (replaced in-process, say): then the agent could not write where this process would."""
    streams: dict[str, dict[str, object]] = {}
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        stream = getattr(sys, name)
        try:
            plain = stream.fileno() == fd and isinstance(stream.write_through, bool)
        except (AttributeError, OSError):
            plain = False
        if not plain:
            raise ValueError(f"sys.{name} is not the stream of fd {fd}")
        streams[name] = {
            "encoding": stream.encoding,
            "errors": stream.errors,
            "line_buffering": stream.line_buffering,
            "write_through": stream.write_through,
        }
    return streams


def request(argv: list[str], key: str, streams: dict[str, dict[str, object]]) -> bytes:
    """The request for the agent: length-prefixed marshal data."""
    umask = os.umask(0o077)
    os.umask(umask)
    body = {
        "protocol": PROTOCOL,
        "fingerprint": key,
        "argv0": sys.argv[0] if sys.argv else "gefyra",
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": umask,
        "streams": streams,
    }
    data = marshal.dumps(body)
    return len(data).to_bytes(HEADER, "big") + data


def send_with_fds(connection: _socket.socket, data: bytes, fds: list[int]) -> None:
    """`data` with `fds` attached to its first part (socket.send_fds without the socket module)."""
    rights = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array("i", fds).tobytes())]
    sent = connection.sendmsg([data[:4096]], rights)
    connection.sendall(data[sent:])


def _hand_over(connection: _socket.socket, argv: list[str], key: str) -> int | None:
    """Send the request and the stdio fds; the worker's pid once it is ready, else None."""
    try:
        data = request(argv, key, _streams())
        send_with_fds(connection, data, [0, 1, 2])
        reply = read_reply(connection)
        if reply is None or reply[0] != "pid":
            return None
        pid = int(reply[1])
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return pid


def read_reply(connection: _socket.socket) -> tuple[str, str] | None:
    """One line from the worker, "WORD VALUE"; None at the end of the connection."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 4096:
            raise ValueError("reply too long")
    word, _, value = data.decode().strip().partition(" ")
    return word, value


def _wait(connection: _socket.socket, pid: int) -> int | None:
    """Tell the worker to go; its exit code. Ctrl-C is forwarded to it from before "go" on, so no Ctrl-C can
    fall between the two processes. Once "go" is sent the command has started: no fallback from there."""
    interrupted = []

    def forward(signum: int, frame: FrameType | None) -> None:
        interrupted.append(signum)
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        connection.settimeout(STOP_TIMEOUT_S)

    previous = signal.signal(signal.SIGINT, forward)
    try:
        try:
            connection.sendall(b"go\n")
        except OSError:
            return None  # the worker is gone before it began: run in-process
        if not interrupted:
            connection.settimeout(None)  # the command runs as long as it needs
        reply = read_reply(connection)
    except TimeoutError:
        _kill(pid)
        print("gefyra: interrupted", file=sys.stderr)
        return INTERRUPTED
    except (OSError, ValueError):
        reply = None
    finally:
        signal.signal(signal.SIGINT, previous)
    code = int(reply[1]) if reply is not None and reply[0] == "exit" and reply[1].isdigit() else None
    if code is None and interrupted:  # stopped before it could report (Ctrl-C right at the start)
        print("gefyra: interrupted", file=sys.stderr)
        return INTERRUPTED
    if code is None:
        print("gefyra: internal error: the agent's worker ended without an exit code", file=sys.stderr)
        print("hint: run again with GEFYRA_AGENT=0 to run without the agent", file=sys.stderr)
        return 1
    return code


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _start_unless_starting(package: str, key: str, lock: str) -> None:
    """Start an agent unless one holds the lock (it is starting); the agent takes the lock itself, so two
    clients racing here start at most one that stays."""
    import fcntl

    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return
    finally:
        os.close(fd)  # also releases a lock taken here
    _start(package, key)


def _start(package: str, key: str) -> None:
    """The agent, detached (its own session, stdio on /dev/null until it opens its log); not waited for."""
    try:
        os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", BOOT, os.path.dirname(package), key],
            dict(os.environ),
            setsid=True,
            setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
        )
    except OSError:
        pass

"""One command in a worker forked by the warm agent (gefyra/cli/agent_server.py): take over the client's
stdin, stdout and stderr, its environment, cwd and umask, and run the same entry point as the CLI
(gefyra.cli.app.main, its fast path and error boundary), so output and exit codes equal an in-process run.

Only what gefyra/cli/fast.py parses as `plan`, `status` or `list` is served; anything else is refused and
the client runs it itself. The protocol is described in gefyra/cli/agent_client.py.
"""

from __future__ import annotations

import io
import marshal
import os
import signal
import socket
import sys
import threading
from typing import TextIO, TypedDict, cast

from gefyra.cli import agent_client, fast

SERVED = ("plan", "status", "list")
STREAMS = (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w"))


class StreamSettings(TypedDict):
    encoding: str
    errors: str
    line_buffering: bool
    write_through: bool


class Request(TypedDict):
    protocol: int
    fingerprint: str
    argv0: str
    argv: list[str]
    cwd: str
    env: dict[str, str]
    umask: int
    streams: dict[str, StreamSettings]


def serve(connection: socket.socket, key: str, agent: int) -> int:
    """Receive a request, run it, send its exit code; the worker's exit status. `agent`: the pid that forked
    this worker."""
    connection.settimeout(agent_client.READY_TIMEOUT_S)
    fds: list[int] = []
    try:
        request, fds = _receive(connection)
        refusal = _refusal(request, key, fds) or _enter(request)
        if refusal is not None:
            _send(connection, "refused", refusal)
            if refusal == "stale" and os.getppid() == agent:  # never whoever adopted us once it was gone
                os.kill(agent, signal.SIGTERM)  # a client with other code found us: make way
            return 1
        _send(connection, "pid", os.getpid())
        if connection.recv(16) != b"go\n":
            return 1  # the client gave up and runs the command itself
    except (OSError, ValueError, KeyError, TypeError) as error:  # the client runs the command itself
        print(f"worker {os.getpid()}: no command: {error!r}", file=sys.stderr, flush=True)
        return 1
    finally:
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
    _adopt(request, fds)
    _interrupt_when_gone(connection)
    code = _run(request)
    try:
        _send(connection, "exit", code)
    except OSError:
        pass
    return code


def _receive(connection: socket.socket) -> tuple[Request, list[int]]:
    data, fds, _, _ = socket.recv_fds(connection, 65536, 3)
    if len(data) < agent_client.HEADER:
        raise ValueError("short request")
    size = int.from_bytes(data[: agent_client.HEADER], "big")
    if size > agent_client.MAX_REQUEST:
        raise ValueError("request too large")
    body = bytearray(data[agent_client.HEADER :])
    while len(body) < size:
        chunk = connection.recv(min(65536, size - len(body)))
        if not chunk:
            raise ValueError("request cut short")
        body += chunk
    request = marshal.loads(bytes(body))  # a peer of our own uid (SO_PEERCRED), the same Python
    if not isinstance(request, dict):
        raise ValueError("request is not a mapping")
    return cast(Request, request), list(fds)


def _refusal(request: Request, key: str, fds: list[int]) -> str | None:
    if request["protocol"] != agent_client.PROTOCOL:
        return "protocol"
    if request["fingerprint"] != key:
        return "stale"
    if len(fds) != 3:
        return "fds"
    argv = request["argv"]
    if not argv or argv[0] not in SERVED or fast.parse(list(argv)) is None:
        return "not a read-only command"
    return None


def _send(connection: socket.socket, word: str, value: object) -> None:
    connection.sendall(f"{word} {value}\n".encode())


def _enter(request: Request) -> str | None:
    """The client's environment, cwd and umask, before it commits (a cwd we cannot enter: a refusal)."""
    try:
        os.chdir(request["cwd"])
    except OSError:
        return "cwd"
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(request["umask"])
    return None


def _adopt(request: Request, fds: list[int]) -> None:
    """Take the client's stdio, with text streams made as Python made its, and its argv."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for name, fd, mode in STREAMS:
        stream = _stream(fd, mode, name, request["streams"][name])
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    sys.argv = [request["argv0"], *request["argv"]]
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _stream(fd: int, mode: str, name: str, settings: StreamSettings) -> TextIO:
    raw = io.FileIO(fd, mode, closefd=False)
    raw.name = f"<{name}>"  # as Python names its own (in messages such as a failed final flush)
    block = os.fstat(fd).st_blksize
    size = block if block > 1 else io.DEFAULT_BUFFER_SIZE
    buffered: io.BufferedReader | io.BufferedWriter = (
        io.BufferedReader(raw, size) if mode == "r" else io.BufferedWriter(raw, size)
    )
    return io.TextIOWrapper(
        buffered,
        encoding=settings["encoding"],
        errors=settings["errors"],
        newline="\n",
        line_buffering=settings["line_buffering"],
        write_through=settings["write_through"],
    )


def _interrupt_when_gone(connection: socket.socket) -> None:
    """A client that dies (not just Ctrl-C, which it forwards) interrupts the command: nobody waits for it."""
    connection.settimeout(None)

    def watch() -> None:
        try:
            gone = not connection.recv(1)
        except OSError:
            gone = True
        if gone:
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="client-watch", daemon=True).start()


def _run(request: Request) -> int:
    """gefyra.cli.app.main as the CLI runs it, then the flush Python does at exit (120 when it fails)."""
    from gefyra.cli.app import main

    agent_client.in_worker = True
    code: object = 0
    try:
        main()
    except SystemExit as done:
        code = done.code
    except KeyboardInterrupt:  # outside the boundary's reach (before or after the command)
        print("gefyra: interrupted", file=sys.stderr)
        code = agent_client.INTERRUPTED
    _no_more_interrupts()
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception as error:  # noqa: BLE001 - what Python reports when its final flush fails
            print(f"Exception ignored in: {stream!r}", file=sys.__stderr__)
            print(f"{type(error).__name__}: {error}", file=sys.__stderr__)
            code = 120
    return code


def _no_more_interrupts() -> None:
    """The command is over: block SIGINT (a late Ctrl-C or the client's hang-up) so no KeyboardInterrupt can
    reach the code that reports the exit and leaves the process; one already signalled is raised here."""
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

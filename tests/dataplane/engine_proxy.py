"""A unix-socket stand-in for the Docker engine's socket, speaking real HTTP: it answers requests whose
method and path match a rule with a canned status, and forwards every other request to the real engine
(with `Connection: close`, so each request is judged on its own). For the boundary's error tests."""

from __future__ import annotations

import json
import re
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ENGINE_SOCKET = "/var/run/docker.sock"
_HEAD_LIMIT = 65536


@dataclass(frozen=True)
class Rule:
    """Answer requests whose `METHOD path` (query left out) matches `pattern` with `status`."""

    pattern: str
    status: int
    message: str

    def matches(self, method: str, path: str) -> bool:
        return re.fullmatch(self.pattern, f"{method} {path.split('?', 1)[0]}") is not None


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _HEAD_LIMIT:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _canned(status: int, message: str) -> bytes:
    body = json.dumps({"message": message}).encode()
    head = f"HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


def _close_connection(head: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines[:1], b"Connection: close", *lines[1:]])


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class _Handler(socketserver.BaseRequestHandler):
    server: _Server | _TcpServer

    def handle(self) -> None:
        conn: socket.socket = self.request
        data = _read_head(conn)
        head, _, rest = data.partition(b"\r\n\r\n")
        method, path = (head.split(b"\r\n", 1)[0].decode(errors="replace").split(" ") + ["", ""])[:2]
        self.server.seen.append(f"{method} {path}")
        for rule in self.server.rules:
            if rule.matches(method, path):
                conn.sendall(_canned(rule.status, rule.message))
                return
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            upstream.connect(self.server.upstream)
            upstream.sendall(_close_connection(head) + b"\r\n\r\n" + rest)
            sender = threading.Thread(target=_pipe, args=(conn, upstream), daemon=True)
            sender.start()
            _pipe(upstream, conn)
            sender.join(5)


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, rules: list[Rule], upstream: str) -> None:
        self.rules, self.upstream, self.seen = rules, upstream, []
        super().__init__(path, _Handler)


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, rules: list[Rule], upstream: str) -> None:
        self.rules, self.upstream, self.seen = rules, upstream, []
        super().__init__(("127.0.0.1", 0), _Handler)


@contextmanager
def tcp_engine_proxy(*rules: Rule, upstream: str = ENGINE_SOCKET) -> Iterator[tuple[str, list[str]]]:
    """The same on a loopback TCP port (an engine named by `DOCKER_HOST=tcp://...`); yields the
    DOCKER_HOST value and the list of requests seen."""
    server = _TcpServer(list(rules), upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}", server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def engine_proxy(path: Path, *rules: Rule, upstream: str = ENGINE_SOCKET) -> Iterator[list[str]]:
    """Serve the proxy on unix socket `path` for the block; yields the list of requests seen."""
    server = _Server(str(path), list(rules), upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        path.unlink(missing_ok=True)

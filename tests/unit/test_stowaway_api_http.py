"""Stowaway's control API over HTTP (images/stowaway/stowaway_api.py), its server run in-process on 127.0.0.1.

Only paths that never reach `wg`/`ip`/`nginx`: health, authentication, request framing on keep-alive
connections (an unread error body must not become the next request), what the log shows, which proxy route
targets are refused, and idle connections timing out.

Every request whose answer may close the connection before the server read all of it is sent whole, in one
sendall, before anything is read: otherwise the client's later send races the server's close."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "images/stowaway/stowaway_api.py"
TOKEN = "t0ken-for-the-test"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def api():
    return _load("stowaway_api_http_under_test")


@contextlib.contextmanager
def serving(module, tmp_path: Path, monkeypatch) -> Iterator[int]:
    """The module's real handler on 127.0.0.1 (a free port), with a token file and an empty state folder."""
    token = tmp_path / "token"
    token.write_text(TOKEN)
    state = tmp_path / "state"
    for sub in ("peers", "routes"):
        (state / sub).mkdir(parents=True)
    monkeypatch.setattr(module, "TOKEN_FILE", token)
    monkeypatch.setattr(module, "STATE", state)
    httpd = module.ThreadingHTTPServer(("127.0.0.1", 0), module.Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def server(api, tmp_path, monkeypatch):
    with serving(api, tmp_path, monkeypatch) as port:
        yield port


@pytest.fixture
def conn(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    yield connection
    connection.close()


def _json(response) -> dict:
    return json.loads(response.read() or b"null")


def _get_healthz(conn) -> tuple[int, dict]:
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    return response.status, _json(response)


def test_a_401_with_a_body_leaves_the_keep_alive_connection_usable(conn):
    body = json.dumps({"routed_subnets": ["10.9.0.0/24"], "pad": "x" * 300})
    conn.request(
        "PUT",
        "/v1/peers/dev1",
        body=body,
        headers={"Authorization": "Bearer wrong", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    assert response.status == 401 and _json(response)["error"] == "missing or wrong bearer token"
    assert not response.will_close
    sock = conn.sock
    assert _get_healthz(conn) == (200, {"status": "ok"})
    assert conn.sock is sock  # the same connection: the body was consumed, not parsed as a request


def test_a_body_on_healthz_is_consumed_too(server):
    """Raw socket: http.client would silently drop a stray third response."""
    smuggled = b"GET /v1/peers HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled)
        sock.sendall(head + smuggled)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)  # a body has no line end: not split by lines
    assert statuses == [b"200", b"200"], data


def test_a_too_large_body_gets_413_and_closes_the_connection(conn):
    conn.putrequest("PUT", "/v1/routes/big")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Length", str(10 * 1024 * 1024))
    conn.endheaders()  # the body never comes: the server must answer without waiting for it
    response = conn.getresponse()
    assert response.status == 413 and _json(response)["error"] == "body too large"
    assert response.will_close and response.getheader("Connection") == "close"
    # http.client opens a new connection for the next request.
    assert _get_healthz(conn) == (200, {"status": "ok"})


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "\u00b2"])
def test_a_bad_content_length_gets_400_not_a_dropped_connection(conn, length):
    conn.putrequest("PUT", "/v1/routes/x")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Length", length.encode("latin-1"))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 400, response.status
    assert _json(response)["error"] == "Content-Length is not a whole number"
    assert response.will_close
    assert _get_healthz(conn) == (200, {"status": "ok"})


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sent before it closed. A server that closes with our bytes unread may reset
    the connection instead of closing it: that counts as closed, after what it answered."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def test_a_chunked_body_is_refused_with_411_and_a_close(server, conn):
    """Raw socket: headers and body go out in one sendall before anything is read. (http.client sends the
    chunks after the headers; a server that already answered 411 and closed made that send fail with
    BrokenPipeError under load: the test raced its own server.)"""
    request = (
        b"PUT /v1/routes/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'8\r\n{"a": 1}\r\n0\r\n\r\n'
    )
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        sock.sendall(request)
        data = _read_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 411 "), data
    assert b"\r\nConnection: close" in head
    assert json.loads(body) == {"error": "chunked bodies are not supported"}
    assert _get_healthz(conn) == (200, {"status": "ok"})  # the server serves the next connection


# ---------------------------------------------------------------- the log
SECRET = "s3cret-in-the-url"


def test_the_log_has_paths_but_no_query_strings(server, conn, capsys):
    for path in (f"/healthz?token={SECRET}", f"/v1/peers?access_token={SECRET}#{SECRET}"):
        conn.request("GET", path)
        _json(conn.getresponse())
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:  # malformed: stdlib send_error
        sock.sendall(f"GET /v1/peers?token={SECRET} HTTP/1.1 junk\r\n".encode())  # read whole: no reset
        assert b"Error code: 400" in _read_until_closed(sock)  # an HTTP/0.9-style answer: no status line
    deadline = time.monotonic() + 5
    log = ""
    while "code 400" not in log and time.monotonic() < deadline:  # written by the server's threads
        log += capsys.readouterr().err
        time.sleep(0.01)
    assert "stowaway-api: GET /healthz 200" in log and "stowaway-api: GET /v1/peers 401" in log
    assert "stowaway-api: code 400" in log
    assert SECRET not in log and "token=" not in log


# ---------------------------------------------------------------- proxy route targets
def _peer(state: Path, name: str, address: str, routed: list[str]) -> None:
    record = {
        "name": name,
        "address": address,
        "private_key": "k",
        "public_key": f"{name}-pub",
        "routed_subnets": routed,
    }
    (state / "peers" / f"{name}.json").write_text(json.dumps(record))


@pytest.mark.parametrize("target", ["169.254.169.254", "10.96.0.1", "172.31.2.1", "100.87.0.9", "8.8.8.8"])
def test_a_route_to_a_target_outside_every_peer_is_refused(api, server, conn, target):
    _peer(api.STATE, "dev1", "100.87.0.2/32", ["172.31.1.0/24"])
    body = json.dumps({"listen_port": 10080, "target_host": target, "target_port": 80})
    conn.request("PUT", "/v1/routes/meta", body=body, headers={"Authorization": f"Bearer {TOKEN}"})
    response = conn.getresponse()
    error = _json(response)["error"]
    assert response.status == 422, (response.status, error)
    assert error == (
        f"target_host {target} is outside every peer's routed subnets and tunnel address "
        "(allowed: 100.87.0.2/32 (dev1), 172.31.1.0/24 (dev1))"
    )
    assert list((api.STATE / "routes").iterdir()) == []  # nothing written, nginx never asked


def test_without_peers_no_route_is_accepted(api, server, conn):
    body = json.dumps({"listen_port": 10080, "target_host": "172.31.1.3", "target_port": 80})
    conn.request("PUT", "/v1/routes/early", body=body, headers={"Authorization": f"Bearer {TOKEN}"})
    response = conn.getresponse()
    assert response.status == 422 and "(allowed: none: no peer)" in _json(response)["error"]


# ---------------------------------------------------------------- idle connections
def _closed_after(port: int, send: bytes) -> float:
    """Seconds until the server closes a connection that sent `send` and then nothing."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(send)
        assert _read_until_closed(sock) == b""  # closed without an answer
    return time.monotonic() - started


@pytest.fixture
def quick(tmp_path, monkeypatch):
    """A server of the module loaded with STOWAWAY_API_IDLE_TIMEOUT=0.3: (module, port)."""
    monkeypatch.setenv("STOWAWAY_API_IDLE_TIMEOUT", "0.3")
    module = _load("stowaway_api_quick_timeout")
    with serving(module, tmp_path, monkeypatch) as port:
        yield module, port


def test_an_idle_connection_is_closed_after_the_timeout(quick):
    module, port = quick
    assert module.IDLE_TIMEOUT == module.Handler.timeout == 0.3
    assert 0.2 < _closed_after(port, b"") < 3
    assert _closed_after(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") < 3  # headers never finished


def test_an_idle_keep_alive_connection_is_closed_too(quick):
    _module, port = quick
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        assert _get_healthz(connection) == (200, {"status": "ok"})
        started = time.monotonic()
        assert _read_until_closed(connection.sock) == b""
        assert time.monotonic() - started < 3
    finally:
        connection.close()


def test_the_idle_timeout_is_five_seconds_by_default(monkeypatch):
    monkeypatch.delenv("STOWAWAY_API_IDLE_TIMEOUT", raising=False)
    assert _load("stowaway_api_default_timeout").Handler.timeout == 5.0

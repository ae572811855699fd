"""Stowaway's control API over HTTP (images/stowaway/stowaway_api.py), its server run in-process on 127.0.0.1.

Only paths that never reach `wg`/`ip`/`nginx`: health, authentication and request framing on keep-alive
connections (an unread error body must not become the next request)."""

from __future__ import annotations

import http.client
import importlib.util
import json
import re
import socket
import threading
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "images/stowaway/stowaway_api.py"
TOKEN = "t0ken-for-the-test"


@pytest.fixture(scope="module")
def api():
    spec = importlib.util.spec_from_file_location("stowaway_api_http_under_test", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(api, tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text(TOKEN)
    monkeypatch.setattr(api, "TOKEN_FILE", token)
    httpd = api.ThreadingHTTPServer(("127.0.0.1", 0), api.Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


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
    conn.request("PUT", "/v1/peers/dev1", body=body, headers={"Authorization": "Bearer wrong",
                                                              "Content-Type": "application/json"})
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


def test_a_chunked_body_is_refused_with_411_and_a_close(conn):
    conn.request("PUT", "/v1/routes/x", body=iter([b'{"a": 1}']), encode_chunked=True,
                 headers={"Authorization": f"Bearer {TOKEN}", "Transfer-Encoding": "chunked"})
    response = conn.getresponse()
    assert response.status == 411 and response.will_close
    assert _get_healthz(conn) == (200, {"status": "ok"})

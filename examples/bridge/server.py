"""GET / -> JSON {"message", "hostname"}; GET /fetch?url=<url> -> the body of that URL (from here)."""

import json
import os
import socket
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/fetch":
            target = urllib.parse.parse_qs(url.query).get("url", [""])[0]
            try:
                with urllib.request.urlopen(target, timeout=10) as response:
                    self._send(200, response.read())
            except OSError as error:
                self._send(502, f"fetch {target} failed: {error}\n".encode())
            return
        body = {"message": os.environ.get("MESSAGE", "hello"), "hostname": socket.gethostname()}
        self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()

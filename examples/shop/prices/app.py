"""prices: GET / -> JSON price list, only for callers presenting the shared token (the Secret `shop-secret`)."""

import json
import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRICES = {"apple": 0.5, "bread": 2.25, "coffee": 7.9}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        expected = f"Bearer {os.environ.get('PRICES_TOKEN', '')}"
        if self.headers.get("Authorization") != expected:
            self._send(401, {"error": "wrong or missing token"})
            return
        self._send(200, {"service": "prices", "hostname": socket.gethostname(), "prices": PRICES})

    def _send(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()

"""frontend: GET / -> its hostname and the backend's answer (from the `backend` Service); GET /backend/<path>
-> the backend's /<path>, passed through."""

import json
import os
import socket
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BACKEND = os.environ.get("BACKEND_URL", "http://backend").rstrip("/")


def fetch(path: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(BACKEND + path, timeout=10) as response:
            return 200, json.loads(response.read())
    except OSError as error:
        return 502, {"error": f"backend unreachable: {error}"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path.startswith("/backend/"):
            status, body = fetch(self.path[len("/backend") :])
        else:
            status, backend = fetch("/")
            body = {"service": "frontend", "hostname": socket.gethostname(), "backend": backend}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()

"""backend: GET / -> its version, who serves it, the greeting from the ConfigMap and the prices it fetched from
the `prices` Service with the token from the Secret; GET /env -> every variable of its environment with a
digest of the value (never the value), so two environments can be compared without showing a secret."""

import hashlib
import json
import os
import socket
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "v1"  # the demo edits this line to show `gefyra watch` restarting the local container


def prices() -> object:
    request = urllib.request.Request(
        os.environ.get("PRICES_URL", "http://prices/"),
        headers={"Authorization": f"Bearer {os.environ.get('PRICES_TOKEN', '')}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except OSError as error:
        return {"error": f"prices unreachable: {error}"}


def answer() -> dict[str, object]:
    return {
        "service": "backend",
        "version": VERSION,
        "served_by": os.environ.get("SERVED_BY", "cluster"),
        "hostname": socket.gethostname(),
        "greeting": os.environ.get("GREETING", ""),
        "prices": prices(),
    }


def environment() -> dict[str, str]:
    return {k: hashlib.sha256(v.encode()).hexdigest()[:16] for k, v in sorted(os.environ.items())}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = environment() if self.path == "/env" else answer()
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()

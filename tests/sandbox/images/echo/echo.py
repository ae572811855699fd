"""HTTP echo server for sandbox tests.

GET /           -> JSON: hostname, MESSAGE env, the client address, the process start time
GET /env        -> JSON of the whole environment
GET /file?path= -> the file's content (to check mounted volumes)
GET /fetch?url= -> fetches a URL from inside the Pod and returns its body (Pod -> Service checks)
"""

import json
import os
import signal
import socket
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTED = time.time()


class Handler(BaseHTTPRequestHandler):
    def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/env":
            self._send(200, json.dumps(dict(os.environ)).encode())
        elif url.path == "/file":
            try:
                with open(query["path"][0], "rb") as handle:
                    self._send(200, handle.read(), "application/octet-stream")
            except OSError as error:
                self._send(404, str(error).encode(), "text/plain")
        elif url.path == "/fetch":
            try:
                with urllib.request.urlopen(query["url"][0], timeout=5) as response:
                    self._send(200, response.read())
            except Exception as error:  # noqa: BLE001 - report any failure to the caller
                self._send(502, f"{type(error).__name__}: {error}".encode(), "text/plain")
        else:
            info = {
                "hostname": socket.gethostname(),
                "message": os.environ.get("MESSAGE", ""),
                "client": self.client_address[0],
                "started": STARTED,
            }
            self._send(200, json.dumps(info).encode())

    def log_message(self, *args) -> None:  # keep container logs quiet
        pass


if __name__ == "__main__":
    # As PID 1 the default SIGTERM action is ignored; exit at once like a well-behaved app.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()

"""The local app of the Operator's Pod tests (python3 stdlib only; copied into a container on the developer's
Docker network, whose default route is Cargo).

serve HTTP_PORT TCP_PORT   HTTP: any GET -> 200 "hello from <name>" (counted per path: probes forwarded
                           through the tunnel show up), GET /__counts -> the counts as JSON; TCP: echo
counts [HTTP_PORT]         print the counts of the local server
get URL                    print the body of a GET (exit 1 on failure)
"""

from __future__ import annotations

import json
import os
import socketserver
import sys
import threading
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = os.environ.get("APPKIT_NAME", "app")
COUNTS: Counter[str] = Counter()
LOCK = threading.Lock()


class Http(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path == "/__counts":
            with LOCK:
                body = json.dumps(dict(COUNTS)).encode()
        else:
            with LOCK:
                COUNTS[self.path] += 1
            body = f"hello from {NAME}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv: list[str]) -> int:
    command, args = argv[1], argv[2:]
    if command == "serve":
        echo = EchoServer(("0.0.0.0", int(args[1])), Echo)
        threading.Thread(target=echo.serve_forever, daemon=True).start()
        http = ThreadingHTTPServer(("0.0.0.0", int(args[0])), Http)
        http.daemon_threads = True
        print(f"appkit {NAME} serving", flush=True)
        http.serve_forever()
    elif command == "counts":
        port = args[0] if args else "8080"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/__counts", timeout=5) as response:
            sys.stdout.write(response.read().decode())
    elif command == "get":
        try:
            with urllib.request.urlopen(args[0], timeout=5) as response:
                sys.stdout.write(response.read().decode())
        except OSError as error:
            print(f"failed: {error}")
            return 1
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Test workload copied into containers (python3 stdlib only; runs in the Carrier image, which has python3).

serve [--http P] [--tcp P]    HTTP (GET / -> "hello from <name>", GET /bytes/<n> -> n bytes,
                              GET /files/<name> -> /srv/<name>) + TCP echo
get URL                       print the body of a small GET
post URL                      print the body of an empty POST
resolve NAME                  print the IPv4 address, exit 2 when the name does not resolve
download URL                  JSON {bytes, seconds}
latency URL N                 JSON {median_ms, p90_ms} of N sequential GETs (a new connection each)
echo HOST PORT SECONDS KBPS   stream a known pattern at ~KBPS through a TCP echo for SECONDS, verify every
                              byte that came back; JSON {sent, received, intact, errors, seconds}
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import statistics
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = os.environ.get("TESTKIT_NAME", socket.gethostname())
BLOCK = bytes(range(256)) * 256  # 64 KiB of a known pattern


class Http(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/bytes/"):
            total = int(self.path.rsplit("/", 1)[1])
            self.send_response(200)
            self.send_header("Content-Length", str(total))
            self.end_headers()
            left = total
            while left > 0:
                chunk = BLOCK[: min(left, len(BLOCK))]
                self.wfile.write(chunk)
                left -= len(chunk)
            return
        status, body = 200, f"hello from {NAME}\n".encode()
        if self.path.startswith("/files/"):
            try:
                body = open("/srv/" + os.path.basename(self.path), "rb").read()
            except OSError:
                status, body = 404, b"no such file\n"
        self.send_response(status)
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


def serve(args: list[str]) -> None:
    opts = dict(zip(args[::2], args[1::2], strict=False))
    threads = []
    if "--tcp" in opts:
        tcp = EchoServer(("0.0.0.0", int(opts["--tcp"])), Echo)
        threads.append(threading.Thread(target=tcp.serve_forever, daemon=True))
    http = ThreadingHTTPServer(("0.0.0.0", int(opts.get("--http", "8080"))), Http)
    http.daemon_threads = True
    for thread in threads:
        thread.start()
    print(f"testkit {NAME} serving", flush=True)
    http.serve_forever()


def echo(host: str, port: int, seconds: float, kbps: int, chunk: int = 8192) -> dict:
    """Send a known pattern at a steady rate, read it back concurrently, compare every byte."""
    sock = socket.create_connection((host, port), timeout=5)
    received = bytearray()
    errors: list[str] = []
    sent = 0

    def reader() -> None:
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received.extend(data)
        except OSError as error:
            errors.append(f"recv: {error}")

    thread = threading.Thread(target=reader)
    thread.start()
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            offset = sent % len(BLOCK)
            piece = (BLOCK[offset:] + BLOCK)[:chunk]
            sock.sendall(piece)
            sent += len(piece)
            time.sleep(max(0.0, start + sent / (kbps * 1024) - time.monotonic()))
    except OSError as error:
        errors.append(f"send: {error}")
    try:
        sock.shutdown(socket.SHUT_WR)  # the echo server sees EOF, sends what is left and closes
    except OSError as error:
        errors.append(f"shutdown: {error}")
    thread.join(15)
    sock.close()
    total = len(received)
    expected = (BLOCK * (total // len(BLOCK) + 2))[:total]
    intact = bytes(received) == expected
    return {
        "sent": sent,
        "received": len(received),
        "intact": intact,
        "errors": errors,
        "seconds": round(time.monotonic() - start, 3),
    }


def main(argv: list[str]) -> int:
    command, args = argv[1], argv[2:]
    if command == "serve":
        serve(args)
    elif command == "get":
        with urllib.request.urlopen(args[0], timeout=10) as response:
            sys.stdout.write(response.read().decode())
    elif command == "post":
        request = urllib.request.Request(args[0], data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=20) as response:
            sys.stdout.write(response.read().decode())
    elif command == "resolve":
        try:
            print(socket.gethostbyname(args[0]))
        except OSError as error:
            print(f"unresolved: {error}")
            return 2
    elif command == "download":
        start = time.monotonic()
        count = 0
        with urllib.request.urlopen(args[0], timeout=30) as response:
            while data := response.read(1 << 20):
                count += len(data)
        print(json.dumps({"bytes": count, "seconds": time.monotonic() - start}))
    elif command == "latency":
        samples = []
        for _ in range(int(args[1])):
            start = time.perf_counter()
            with urllib.request.urlopen(args[0], timeout=10) as response:
                response.read()
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        p90 = samples[int(len(samples) * 0.9)]
        print(json.dumps({"median_ms": statistics.median(samples), "p90_ms": p90}))
    elif command == "echo":
        print(json.dumps(echo(args[0], int(args[1]), float(args[2]), int(args[3]))))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

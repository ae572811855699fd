"""Latency probe of the tunnel bench (python3 stdlib only: it runs in the Carrier image and on the host).

    python3 _tunnel_probe.py HOST PORT

Reads a request count per line on stdin; for each line makes that many sequential HTTP/1.1 GETs of `/`,
each on a new TCP connection (connect, request, read to the server's close), and answers one JSON line: the
request times in ms. One long-lived process per variant, so switching variants every few dozen requests
costs no process start. A failed or malformed response ends the process with the reason on stderr.
"""

from __future__ import annotations

import json
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"


def once(host: str, port: int) -> float:
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(REQUEST)
        head = b""
        while chunk := sock.recv(65536):
            if len(head) < 16:
                head += chunk
    elapsed = (time.perf_counter() - start) * 1000
    if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
        raise RuntimeError(f"unexpected response from {host}:{port}: {head[:40]!r}")
    return elapsed


def main(argv: list[str]) -> int:
    host, port = argv[1], int(argv[2])
    for line in sys.stdin:
        count = int(line)
        print(json.dumps([round(once(host, port), 4) for _ in range(count)]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

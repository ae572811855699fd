"""Carrier control (python3 stdlib; runs inside the Carrier image).

`fetch`: download the nginx config from CARRIER_CONFIG_URL (retrying until CARRIER_FETCH_TIMEOUT),
check it with `nginx -t` and swap it in; a config nginx rejects never replaces the running one.
`serve`: a tiny HTTP endpoint - GET /healthz, POST /reload (re-fetch and reload nginx). The endpoint takes no
input: it can only make Carrier re-read the URL it was started with. SIGHUP does the same.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

URL = os.environ.get("CARRIER_CONFIG_URL", "")
CONTROL_PORT = int(os.environ.get("CARRIER_CONTROL_PORT", "10001"))
FETCH_TIMEOUT = float(os.environ.get("CARRIER_FETCH_TIMEOUT", "60"))
TARGET = Path("/run/carrier/nginx/carrier.conf")
LOCK = threading.Lock()


def log(message: str) -> None:
    sys.stderr.write(f"carrier: {message}\n")
    sys.stderr.flush()


def download(deadline: float) -> str:
    last = ""
    while True:
        try:
            with urllib.request.urlopen(URL, timeout=5) as response:
                return response.read().decode()
        except OSError as error:
            last = str(error)
        if time.monotonic() >= deadline:
            raise RuntimeError(f"config not fetched from {URL}: {last}")
        time.sleep(0.5)


def install(text: str) -> None:
    """Swap the config in only when nginx accepts it; otherwise restore the previous one."""
    previous = TARGET.read_text() if TARGET.exists() else None
    TARGET.write_text(text)
    check = subprocess.run(["nginx", "-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        if previous is None:
            TARGET.unlink()
        else:
            TARGET.write_text(previous)
        raise RuntimeError(f"nginx rejected the fetched config: {check.stderr.strip()}")


def reload(timeout: float = 10.0) -> str:
    with LOCK:
        text = download(time.monotonic() + timeout)
        unchanged = TARGET.exists() and TARGET.read_text() == text
        if unchanged:
            return "unchanged"
        install(text)
        subprocess.run(["nginx", "-s", "reload"], check=True, capture_output=True)
        return "reloaded"


class Handler(BaseHTTPRequestHandler):
    server_version = "carrier"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        log(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}")

    def reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path == "/healthz":
            return self.reply(200, {"status": "ok"})
        self.reply(404, {"error": "unknown path"})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        if self.path != "/reload":
            return self.reply(404, {"error": "unknown path"})
        try:
            self.reply(200, {"result": reload()})
        except (RuntimeError, subprocess.CalledProcessError) as error:
            self.reply(502, {"error": str(error)})


def serve() -> None:
    def on_hup(_signum, _frame) -> None:
        threading.Thread(target=_reload_logged, daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)
    server = ThreadingHTTPServer(("0.0.0.0", CONTROL_PORT), Handler)
    server.daemon_threads = True
    server.serve_forever()


def _reload_logged() -> None:
    try:
        log(f"reload: {reload()}")
    except (RuntimeError, subprocess.CalledProcessError) as error:
        log(f"reload failed: {error}")


def main(argv: list[str]) -> int:
    if argv[1:] == ["fetch"]:
        try:
            install(download(time.monotonic() + FETCH_TIMEOUT))
        except RuntimeError as error:
            log(str(error))
            return 1
        log(f"config fetched from {URL}")
        return 0
    if argv[1:] == ["serve"]:
        serve()
        return 0
    log("usage: carrier_ctl.py fetch|serve")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

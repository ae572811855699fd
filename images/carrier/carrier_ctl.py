"""Carrier control (python3 stdlib; runs inside the Carrier image).

`fetch`: download the nginx config (retrying until CARRIER_FETCH_TIMEOUT), check it with `nginx -t` and
swap it in; a config nginx rejects never replaces the running one. The URL is CARRIER_CONFIG_URL when set;
otherwise the Operator's, `$CARRIER_OPERATOR_URL/v1/carrier/<namespace>/<hostname>` - a bridged Pod's env
cannot be patched, so the image knows the Operator's in-cluster address. The Operator is sent the Pod's
service-account token (re-read on every fetch: it rotates) to prove who is asking; an explicit
CARRIER_CONFIG_URL gets none.
`serve`: a tiny HTTP endpoint - GET /healthz, POST /reload (re-fetch and reload nginx). The endpoint takes no
input: it can only make Carrier re-read the URL it was started with. SIGHUP does the same.
The rsync daemon's config is written here too: its `hosts allow` comes from the line
`# carrier: rsync-hosts-allow <address>...` of the fetched config when there is one (the Operator serves
Stowaway's Pod IP: tunnel clients arrive masqueraded by it), else from CARRIER_RSYNC_HOSTS_ALLOW, else
127.0.0.1. rsync reads its config at every connection: a reload needs no restart of the daemon.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OPERATOR_URL = os.environ.get("CARRIER_OPERATOR_URL", "http://gefyra-operator.gefyra.svc.cluster.local:8080")
ACCOUNT = Path(os.environ.get("CARRIER_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount"))
CONTROL_PORT = int(os.environ.get("CARRIER_CONTROL_PORT", "10001"))
FETCH_TIMEOUT = float(os.environ.get("CARRIER_FETCH_TIMEOUT", "60"))
TARGET = Path("/run/carrier/nginx/carrier.conf")
RSYNCD = Path("/run/carrier/rsyncd.conf")
RSYNC_PORT = int(os.environ.get("CARRIER_RSYNC_PORT", "873"))
# name=path pairs separated by ';' - every module is read-only.
MODULES = os.environ.get(
    "CARRIER_RSYNC_MODULES", "serviceaccount=/var/run/secrets/kubernetes.io/serviceaccount"
)
DIRECTIVE = "# carrier: rsync-hosts-allow "
LOCK = threading.Lock()


def log(message: str) -> None:
    sys.stderr.write(f"carrier: {message}\n")
    sys.stderr.flush()


def pod_namespace() -> str:
    """The Pod's namespace: the service account's file, else the first search domain `<ns>.svc.<domain>`."""
    try:
        return (ACCOUNT / "namespace").read_text().strip()
    except OSError:
        pass
    for line in Path("/etc/resolv.conf").read_text().splitlines():
        fields = line.split()
        if fields[:1] == ["search"]:
            for domain in fields[1:]:
                parts = domain.split(".")
                if len(parts) >= 3 and parts[1] == "svc":
                    return parts[0]
    raise RuntimeError(
        "the Pod's namespace is unknown (no service-account namespace file, no <ns>.svc search)"
    )


def config_source() -> tuple[str, bool]:
    """(URL, whether to send the service-account token)."""
    explicit = os.environ.get("CARRIER_CONFIG_URL")
    if explicit:
        return explicit, False
    return f"{OPERATOR_URL.rstrip('/')}/v1/carrier/{pod_namespace()}/{socket.gethostname()}", True


def _request(url: str, with_token: bool) -> urllib.request.Request:
    request = urllib.request.Request(url)
    if with_token:
        try:
            token = (ACCOUNT / "token").read_text().strip()
        except OSError:
            token = ""  # no token mounted: the Operator serves such Pods without one
        if token:
            request.add_header("Authorization", f"Bearer {token}")
    return request


def download(deadline: float) -> str:
    url, with_token = config_source()
    last = ""
    while True:
        try:
            with urllib.request.urlopen(_request(url, with_token), timeout=5) as response:
                return response.read().decode()
        except OSError as error:
            last = str(error)
        if time.monotonic() >= deadline:
            raise RuntimeError(f"config not fetched from {url}: {last}")
        time.sleep(0.5)


def hosts_allow(text: str | None) -> str:
    """The rsync `hosts allow` for a fetched config: its directive's addresses (checked), else the env's."""
    for line in (text or "").splitlines():
        if line.startswith(DIRECTIVE):
            hosts = line[len(DIRECTIVE) :].split()
            try:
                return " ".join(str(ipaddress.ip_network(h, strict=False)) for h in hosts) or "127.0.0.1"
            except ValueError:
                raise RuntimeError(f"bad rsync-hosts-allow line in the config: {line!r}") from None
    return os.environ.get("CARRIER_RSYNC_HOSTS_ALLOW") or "127.0.0.1"


def render_rsyncd(allow: str) -> str:
    lines = [
        "# rendered by carrier_ctl.py from CARRIER_RSYNC_MODULES and the fetched config",
        f"port = {RSYNC_PORT}",
        "use chroot = yes",
        "uid = root",
        "gid = root",
        "read only = yes",
        "list = yes",
        # The modules hold the service-account token: loopback only unless the config names Stowaway.
        f"hosts allow = {allow}",
    ]
    for pair in filter(None, MODULES.split(";")):
        name, _, path = pair.partition("=")
        lines += [f"[{name}]", f"    path = {path}", "    read only = yes"]
    return "\n".join(lines) + "\n"


def install(text: str) -> None:
    """Swap the config in only when nginx accepts it (otherwise restore the previous one); then the rsync
    daemon's config with the hosts the config allows."""
    allow = hosts_allow(text)
    previous = TARGET.read_text() if TARGET.exists() else None
    TARGET.write_text(text)
    check = subprocess.run(["nginx", "-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        if previous is None:
            TARGET.unlink()
        else:
            TARGET.write_text(previous)
        raise RuntimeError(f"nginx rejected the fetched config: {check.stderr.strip()}")
    tmp = RSYNCD.with_suffix(".tmp")
    tmp.write_text(render_rsyncd(allow))
    os.replace(tmp, RSYNCD)  # rsync reads it at the next connection: never half-written


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
        except (RuntimeError, OSError) as error:
            log(str(error))
            return 1
        log(f"config fetched from {config_source()[0]}")
        return 0
    if argv[1:] == ["serve"]:
        serve()
        return 0
    log("usage: carrier_ctl.py fetch|serve")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

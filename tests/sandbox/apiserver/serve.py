"""Start the sandbox API server in-process (a background thread) or as a subprocess, and stop it again.

from tests.sandbox.apiserver.serve import start
api = start()                      # or start_subprocess(state_dir=...)
api.url, api.kubeconfig, api.token
token = api.issue_token("default", "default")   # a ServiceAccount token the server accepts
api.stop()
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .server import ApiServer, ServerConfig

REPO = Path(__file__).resolve().parents[3]
READY_FILE = "apiserver.json"


@dataclass
class SandboxApi:
    """A running sandbox API server: where it is, how to authenticate, how to stop it."""

    url: str
    kubeconfig: Path
    token: str
    ca_cert: Path | None
    state_dir: Path
    _stop: Callable[[], None] = field(repr=False)
    server: ApiServer | None = field(default=None, repr=False)  # only in-process

    def stop(self) -> None:
        self._stop()

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """A small authenticated JSON request (for helpers; tests use the official client)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json"},
        )
        context = ssl.create_default_context(cafile=str(self.ca_cert)) if self.ca_cert else None
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return json.loads(response.read())

    def issue_token(
        self,
        namespace: str,
        service_account: str,
        audiences: list[str] | None = None,
        seconds: int = 3600,
        pod: str | None = None,
    ) -> str:
        """A ServiceAccount token (TokenRequest API); valid while the account (and the bound Pod) exists."""
        spec: dict[str, Any] = {"expirationSeconds": seconds}
        if audiences:
            spec["audiences"] = audiences
        if pod:
            spec["boundObjectRef"] = {"kind": "Pod", "apiVersion": "v1", "name": pod}
        answer = self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
        )
        return answer["status"]["token"]


def _config(state_dir: Path | None, overrides: dict[str, Any]) -> ServerConfig:
    directory = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="gefyra-sandbox-api-"))
    return ServerConfig(state_dir=directory, **overrides)


def start(state_dir: Path | None = None, **overrides: Any) -> SandboxApi:
    """Run the server on a daemon thread of this process; returns once it answers."""
    config = _config(state_dir, overrides)
    server = ApiServer(config)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as error:  # hand the reason to the caller instead of dying silently
            failure.append(error)
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=run, name="sandbox-apiserver", daemon=True)
    thread.start()
    started.wait(30)
    if failure:
        raise RuntimeError(f"sandbox API server did not start: {failure[0]}") from failure[0]

    def stop() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    ca = server.certificates.ca_cert if server.certificates else None
    return SandboxApi(
        server.url, server.kubeconfig_path, server.tokens.admin_token, ca, config.state_dir, stop, server
    )


def start_subprocess(state_dir: Path | None = None, timeout: float = 30.0, **overrides: Any) -> SandboxApi:
    """Run the server as `python -m tests.sandbox.apiserver` (survives this process only if not stopped)."""
    config = _config(state_dir, overrides)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    ready = config.state_dir / READY_FILE
    ready.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    log = open(config.state_dir / "apiserver.log", "ab")  # noqa: SIM115 - the child owns it from here
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sandbox.apiserver", "--config", config.model_dump_json()],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = (config.state_dir / "apiserver.log").read_text()[-2000:]
            raise RuntimeError(f"sandbox API server did not start:\n{tail}")
        time.sleep(0.05)
    info = json.loads(ready.read_text())

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    ca = Path(info["ca_cert"]) if info.get("ca_cert") else None
    return SandboxApi(info["url"], Path(info["kubeconfig"]), info["token"], ca, config.state_dir, stop)


async def _serve_forever(config: ServerConfig) -> None:
    server = ApiServer(config)
    await server.start()
    ready = {
        "url": server.url,
        "kubeconfig": str(server.kubeconfig_path),
        "token": server.tokens.admin_token,
        "ca_cert": str(server.certificates.ca_cert) if server.certificates else None,
        "pid": os.getpid(),
    }
    temporary = config.state_dir / (READY_FILE + ".tmp")
    temporary.write_text(json.dumps(ready))
    os.chmod(temporary, 0o600)
    temporary.replace(config.state_dir / READY_FILE)  # atomic: a reader never sees half a file
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await server.stop()
    (config.state_dir / READY_FILE).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.sandbox.apiserver",
        description="Kubernetes API test sandbox (not a Kubernetes distribution).",
    )
    parser.add_argument("--config", help="ServerConfig as JSON")
    parser.add_argument("--state-dir", type=Path)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    data: dict[str, Any] = json.loads(args.config) if args.config else {}
    if args.state_dir:
        data["state_dir"] = str(args.state_dir)
    data.setdefault("state_dir", tempfile.mkdtemp(prefix="gefyra-sandbox-api-"))
    if args.host:
        data["host"] = args.host
    if args.port is not None:
        data["port"] = args.port
    config = ServerConfig.model_validate(data)
    asyncio.run(_serve_forever(config))
    print(f"stopped; state in {config.state_dir}", file=sys.stderr)

"""Assemble registry, store, controllers and HTTP app into one server running on an asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from . import tls
from .api import Api
from .app import Handlers
from .controllers import Controllers
from .defaults import Defaulter
from .kubeconfig import write_kubeconfig
from .registry import Registry
from .store import Store
from .tokens import Identity, TokenAuthority

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class ServerConfig(BaseModel):
    """How to run the sandbox API server."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = True
    # "auto": the `cryptography` package when installed, else the `openssl` tool
    tls_backend: Literal["auto", "cryptography", "openssl"] = "auto"
    state_dir: Path
    # Service ClusterIPs come from here; the first address is the `kubernetes` Service.
    service_cidr: str = "10.96.0.0/16"
    # Address Pods use to reach the server (Endpoints of `default/kubernetes`); defaults to `host`.
    advertise_address: str | None = None
    extra_sans: list[str] = []
    admin_token: str | None = None
    # More bearer tokens to accept: token -> username (e.g. one a runner or a test chose up front).
    extra_tokens: dict[str, str] = {}
    history_size: int = 10000
    bookmark_interval: float = 5.0


class ApiServer:
    """The sandbox API server; `start()` binds and seeds it, `stop()` closes watches and the socket."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.registry = Registry()
        self.store = Store(config.history_size)
        self.defaulter = Defaulter(self.store, config.service_cidr)
        self.api = Api(self.registry, self.store, self.defaulter)
        self.tokens = TokenAuthority(config.admin_token)
        for token, username in config.extra_tokens.items():
            self.tokens.add_static(token, Identity(username=username, groups=["system:authenticated"]))
        self.port = config.port
        self.certificates: tls.Certificates | None = None
        self._runner: web.AppRunner | None = None
        self._controllers: asyncio.Task[None] | None = None
        self._handlers: Handlers | None = None
        self._log_source: Callable[[str, str, str, int | None], str] | None = None

    def set_log_source(self, source: Callable[[str, str, str, int | None], str] | None) -> None:
        """Serve `pods/log` from `source(namespace, pod, container, tail_lines)` (called off the loop)."""
        self._log_source = source
        if self._handlers is not None:
            self._handlers.log_source = source

    @property
    def advertise_address(self) -> str:
        if self.config.advertise_address:
            return self.config.advertise_address
        return "127.0.0.1" if self.config.host in ("0.0.0.0", "") else self.config.host

    @property
    def url(self) -> str:
        scheme = "https" if self.config.tls else "http"
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "") else self.config.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.config.state_dir / "kubeconfig"

    async def start(self) -> None:
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        context = None
        if self.config.tls:
            hosts = [self.advertise_address, self.defaulter.kubernetes_ip, *self.config.extra_sans]
            if self.config.host not in ("0.0.0.0", ""):
                hosts.append(self.config.host)
            self.certificates = tls.generate(self.config.state_dir / "pki", hosts, self.config.tls_backend)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificates.cert, self.certificates.key)
            self.api.ca_pem = self.certificates.ca_pem()
        handlers = Handlers(
            self.api,
            self.tokens,
            f"{self.advertise_address}:{self.config.port}",
            self.config.bookmark_interval,
        )
        handlers.log_source = self._log_source
        self._handlers = handlers
        self._runner = web.AppRunner(handlers.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port, ssl_context=context)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        handlers.address = f"{self.advertise_address}:{self.port}"
        self._seed()
        self._controllers = asyncio.create_task(Controllers(self.api).run())
        write_kubeconfig(
            self.kubeconfig_path,
            self.url,
            self.tokens.admin_token,
            self.certificates.ca_pem() if self.certificates else None,
        )

    def _seed(self) -> None:
        """What a fresh cluster has: system namespaces and the `kubernetes` Service."""
        ns = self.registry.get("", "v1", "namespaces")
        svc = self.registry.get("", "v1", "services")
        ep = self.registry.get("", "v1", "endpoints")
        assert ns and svc and ep
        for name in SYSTEM_NAMESPACES:
            self.api.create(ns, "", {"metadata": {"name": name}})
        labels = {"component": "apiserver", "provider": "kubernetes"}
        self.api.create(
            svc,
            "default",
            {
                "metadata": {"name": "kubernetes", "labels": labels},
                "spec": {
                    "clusterIP": self.defaulter.kubernetes_ip,
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": self.port}],
                },
            },
        )
        self.api.create(
            ep,
            "default",
            {
                "metadata": {"name": "kubernetes", "labels": labels},
                "subsets": [
                    {
                        "addresses": [{"ip": self.advertise_address}],
                        "ports": [{"name": "https", "port": self.port, "protocol": "TCP"}],
                    }
                ],
            },
        )

    async def stop(self) -> None:
        self.store.close_watchers()
        if self._controllers is not None:
            self._controllers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._controllers
        if self._runner is not None:
            await self._runner.cleanup()

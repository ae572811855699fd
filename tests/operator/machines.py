"""Developer machines for the Operator's Pod tests, on the real engine: per client a Docker network of its
own (the project network, routed into the client's tunnel), Cargo started with the peer config from the
client's Secret (what the client side will do), and an app (appkit.py) whose default route is Cargo. A
`Stream` pushes a known pattern through a bridge and checks every byte that comes back.

Every container and network carries `dev.gefyra.test=<run id>` and is removed by it."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gefyra.cluster import names
from gefyra.dataplane.models import PeerConfig
from gefyra.dataplane.render import render_cargo_wg_config
from gefyra.model import labels as gefyra_labels
from gefyra.providers.docker.dataplane.cargo import container_ip, create_cargo, wait_tunnel
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.gateway import patch_default_route
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.engine import Engine

APPKIT = Path(__file__).with_name("appkit.py")
APPKIT_PATH = "/tmp/appkit.py"
HTTP_PORT, TCP_PORT = 8080, 9000
BLOCK = bytes(range(256)) * 256  # 64 KiB of a known pattern


@dataclass
class Machine:
    """One developer machine: its client's name, project network, Cargo and app."""

    docker: Any
    run_id: str
    client: str
    network: str = ""
    subnet: str = ""
    gateway: str = ""
    cargo: Any = None
    app: Any = None
    app_ip: str = ""
    peer: PeerConfig | None = None

    @property
    def labels(self) -> dict[str, str]:
        return {gefyra_labels.TEST: self.run_id}

    def name(self, role: str) -> str:
        return f"gefyra-op-{self.run_id}-{self.client}-{role}"

    def make_network(self) -> None:
        net = self.docker.networks.create(self.name("net"), driver="bridge", labels=self.labels)
        net.reload()
        config = net.attrs["IPAM"]["Config"][0]
        self.network, self.subnet, self.gateway = self.name("net"), config["Subnet"], config["Gateway"]

    def start(self, peer: PeerConfig, node_port: int) -> None:
        """Cargo with the peer config (Stowaway's NodePort on this network's gateway), then the app."""
        self.peer = peer
        text = render_cargo_wg_config(peer, f"{self.gateway}:{node_port}", local_subnets=[self.subnet])
        since = time.time() - 1
        engine = Engine.from_env()
        cargo_id = create_cargo(
            engine,
            name=self.name("cargo"),
            network=self.network,
            wg_config=text,
            labels=self.labels,
        )
        self.cargo = self.docker.containers.get(cargo_id)
        wait_tunnel(engine, cargo_id, 60, since=int(since))
        self.app = self.docker.containers.create(
            image_tag("carrier"),  # has python3
            name=self.name("app"),
            entrypoint=["python3", APPKIT_PATH],
            command=["serve", str(HTTP_PORT), str(TCP_PORT)],
            network=self.network,
            labels=self.labels,
            healthcheck={"test": ["NONE"]},
            environment={"APPKIT_NAME": self.client},
            detach=True,
        )
        put_files(engine, self.app.id, {APPKIT_PATH: APPKIT.read_text()}, mode=0o644)
        self.app.start()
        self.app_ip = container_ip(engine, self.app.id, self.network)
        patch_default_route(engine, self.app.id, container_ip(engine, cargo_id, self.network))

    def restart(self, peer: PeerConfig, node_port: int) -> None:
        """`start`, after removing the Cargo and app of an earlier start that failed midway."""
        for container in (self.app, self.cargo):
            if container is not None:
                container.remove(force=True)
        self.cargo = self.app = None
        self.start(peer, node_port)

    def in_app(self, *args: str) -> tuple[int, str]:
        result = self.app.exec_run(["python3", APPKIT_PATH, *args])
        return result.exit_code, (result.output or b"").decode(errors="replace")

    def counts(self) -> dict[str, int]:
        """Requests the app answered, by path (probes through the tunnel show up here)."""
        code, out = self.in_app("counts")
        assert code == 0, out
        return {k: int(v) for k, v in json.loads(out).items()}


def peer_from_secret(kube: Any, client: str) -> PeerConfig:
    secret = kube.core.read_namespaced_secret(names.peer_secret_name(client), names.NAMESPACE)
    return PeerConfig.model_validate_json(base64.b64decode(secret.data["peer.json"]))


def remove_all(docker: Any, run_id: str) -> None:
    mine = {"label": f"{gefyra_labels.TEST}={run_id}"}
    for container in docker.containers.list(all=True, filters=mine):
        container.remove(force=True)
    for network in docker.networks.list(filters=mine):
        network.remove()


class Stream:
    """A TCP connection through a bridge carrying a known pattern at a steady rate, read back concurrently;
    `stop()` half-closes it, waits for the rest and says whether every byte came back intact."""

    def __init__(self, host: str, port: int, kbps: int = 256, chunk: int = 4096) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.kbps, self.chunk = kbps, chunk
        self.sent = 0
        self.received = bytearray()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self.started = time.monotonic()
        self._reader.start()
        self._writer.start()

    def _write(self) -> None:
        try:
            while not self._stop.is_set():
                offset = self.sent % len(BLOCK)
                piece = (BLOCK[offset:] + BLOCK)[: self.chunk]
                self.sock.sendall(piece)
                self.sent += len(piece)
                due = self.started + self.sent / (self.kbps * 1024)
                self._stop.wait(max(0.0, due - time.monotonic()))
        except OSError as error:
            self.errors.append(f"send: {error}")

    def _read(self) -> None:
        try:
            while data := self.sock.recv(65536):
                self.received.extend(data)
        except OSError as error:
            self.errors.append(f"recv: {error}")

    def wait_received(self, count: int, timeout: float = 30) -> int:
        """Wait until at least `count` bytes came back (the stream is flowing); returns how many."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline or self.errors:
                raise AssertionError(f"stream: {len(self.received)} of {count} bytes back; {self.errors}")
            time.sleep(0.05)
        return len(self.received)

    def stop(self, timeout: float = 30) -> dict[str, Any]:
        self._stop.set()
        self._writer.join(timeout)
        try:
            self.sock.shutdown(socket.SHUT_WR)  # the echo sees EOF, sends the rest back and closes
        except OSError as error:
            self.errors.append(f"shutdown: {error}")
        self._reader.join(timeout)
        self.sock.close()
        total = len(self.received)
        expected = (BLOCK * (total // len(BLOCK) + 2))[:total]
        return {
            "sent": self.sent,
            "received": total,
            "intact": bytes(self.received) == expected,
            "errors": list(self.errors),
            "seconds": round(time.monotonic() - self.started, 1),
        }

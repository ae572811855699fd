"""Start Cargo with a given peer config and watch its tunnel."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from gefyra.dataplane.cargo_layout import CARGO_CONFIG_PATH, HEALTH_SCRIPT, RUN_TMPFS
from gefyra.dataplane.render import normalize_mtu
from gefyra.errors import ProviderError
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.dataplane.tunnel import KEEPER_SCRIPT, wg_show
from gefyra.providers.docker.engine import ContainerCreate, Engine
from gefyra.providers.errors import Conflict

_POLL_S = 0.2


def create_cargo(
    engine: Engine,
    *,
    name: str,
    network: str,
    wg_config: str | bytes,
    labels: Mapping[str, str] | None = None,
    mtu: int | str | None = None,
    image: str | None = None,
    ip: str | None = None,
    start: bool = True,
    env: Mapping[str, str] | None = None,
) -> str:
    """Create (and start) Cargo on `network`; the WireGuard config goes in as a mode-600 file before start.
    Returns its container id.

    Cargo needs NET_ADMIN and /dev/net/tun (wireguard-go) and IP forwarding in its own netns; the app
    containers that route through it get no privileges at all. `ip`: a fixed address (the network must
    have a configured subnet). `env`: settings of the entry point and the tunnel keeper (`CARGO_*`, no
    secrets: see docs/dataplane.md).
    """
    settings = {**(env or {}), **({"CARGO_MTU": normalize_mtu(mtu)} if mtu is not None else {})}
    container = engine.create_container(
        ContainerCreate(
            image=image or image_tag("cargo"),
            name=name,
            labels=dict(labels or {}),
            env=settings,
            network=network,
            ip=ip,
            cap_add=["NET_ADMIN"],
            devices=["/dev/net/tun:/dev/net/tun:rwm"],
            sysctls={"net.ipv4.ip_forward": "1"},
            tmpfs=dict(RUN_TMPFS),
        )
    )
    put_files(engine, container, {CARGO_CONFIG_PATH: wg_config})
    if start:
        engine.start(container)
    return container


def container_ip(engine: Engine, container: str, network: str) -> str:
    """The container's IPv4 address on `network`."""
    info = engine.inspect_container(container)
    address = info.ip_on(network)
    if not address:
        raise ProviderError(f"container {info.name} has no address on network {network}")
    return address


def latest_handshake(engine: Engine, container: str, interface: str = "wg0") -> int:
    """Unix time of the tunnel's latest handshake, 0 for none (from `wg show <if> latest-handshakes`)."""
    output = wg_show(engine, container, interface, "latest-handshakes")
    if output is None:
        return 0
    stamps = [int(line.split()[1]) for line in output.splitlines() if len(line.split()) == 2]
    return max(stamps, default=0)


def cargo_health(engine: Engine, container: str) -> tuple[bool, str]:
    """(healthy, why) from the image's health script: tunnel up, dnsmasq alive, handshake < 180 s."""
    state = engine.inspect_container(container).state
    if not state.running:
        return False, f"container {state.status}"
    result = engine.exec(container, [HEALTH_SCRIPT])
    return result.exit_code == 0, result.output.strip()


def wait_tunnel(engine: Engine, container: str, timeout: float = 30.0, *, since: float = 0.0) -> None:
    """Wait until Cargo is up and has a handshake newer than `since` (unix time); explain a failure. The
    waiting happens inside Cargo (one exec); a Cargo image without the keeper is polled from here."""
    deadline = time.monotonic() + timeout
    while True:
        info = engine.inspect_container(container)
        if info.state.status in ("exited", "dead"):
            raise ProviderError(f"Cargo {info.name} exited:\n{engine.logs(container, tail=20)}")
        if info.state.running and _handshake_newer(engine, container, since, deadline):
            return
        if time.monotonic() > deadline:
            why = f"no WireGuard handshake after {timeout:.0f}s"
            raise ProviderError(f"Cargo {info.name}: {why}:\n{engine.logs(container, tail=20)}")
        time.sleep(_POLL_S)


def _handshake_newer(engine: Engine, container: str, since: float, deadline: float) -> bool:
    left = max(1, math.ceil(deadline - time.monotonic()))
    try:
        waited = engine.exec(container, [KEEPER_SCRIPT, "wait", str(int(since)), str(left)])
        if waited.exit_code in (0, 1):  # handshake seen / none in time
            return waited.exit_code == 0
        return latest_handshake(engine, container) > since  # an image without the keeper
    except Conflict:  # stopped meanwhile: the caller's next look says why
        return False

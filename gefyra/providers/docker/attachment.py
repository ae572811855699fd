"""A running container's name and network, as gefyra made them: drift when changed by hand, repaired in place.

gefyra finds its containers by label, so a `docker rename` or a `docker network disconnect` does not hide
them; but other parts rely on both: infra containers, Cargo and the peer holder are looked up by name, and
a container without the project network reaches nothing (an app in an infra container's namespace loses
its network with it). Both are drift (`Observed.drift`) that the kind's in-place `update` repairs: rename
back, connect again with the spec's aliases (the engine restores published ports and a default route; the
post-start hooks then route the namespace through Cargo again). The process keeps running. Cargo is the
exception: its firewall names the interface it started with, so a disconnected Cargo is replaced (its
`read` reports it unhealthy).
"""

from __future__ import annotations

from dataclasses import dataclass

from gefyra.providers.docker.engine import ContainerInfo, ContainerRow, Engine


def renamed(item: ContainerRow, docker_name: str) -> str | None:
    """The drift of a container renamed by hand, or None."""
    if item.name == docker_name:
        return None
    return f"renamed to {item.name} by hand (gefyra names it {docker_name})"


def detached(item: ContainerRow, network: str) -> str | None:
    """The drift of a running container that is no longer attached to `network`, or None."""
    if item.state != "running" or item.endpoint(network):
        return None
    others = sorted(item.networks)
    now = f"attached to {', '.join(others)} only" if others else "left with no network"
    return f"not attached to network {network} ({now})"


def drift_of(item: ContainerRow, docker_name: str, network: str | None, what: str = "") -> tuple[str, ...]:
    """Every attachment drift of `item` (`network` None: a container without one, such as the peer
    holder); `what` prefixes each ("its infra container ...")."""
    found = [renamed(item, docker_name)]
    if network is not None:
        found.append(detached(item, network))
    return tuple(f"{what}{text}" for text in found if text)


@dataclass(frozen=True)
class Repaired:
    info: ContainerInfo  # the container as it is after the repair
    done: tuple[str, ...]  # what was done, for the step's log
    reconnected: bool  # its namespace has a new endpoint: the post-start hooks must run for it again


def repair(
    engine: Engine, ref: str, *, docker_name: str, network: str | None, aliases: list[str]
) -> Repaired:
    """Rename back and reconnect what needs it, re-checked now (the plan's facts may be stale)."""
    info = engine.inspect_container(ref)
    done = []
    if info.name != docker_name:
        engine.rename(info.id, docker_name)
        done.append(f"renamed {info.name} back to {docker_name}")
    reconnect = network is not None and info.state.running and network not in info.networks
    if reconnect:
        assert network is not None
        engine.connect(info.id, network, aliases=aliases)
        done.append(f"connected {docker_name} to network {network} again")
    return Repaired(engine.inspect_container(info.id) if done else info, tuple(done), reconnect)

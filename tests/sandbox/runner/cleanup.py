"""Remove everything one sandbox instance made: containers, the network, iptables chains, the route, state."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from . import netsetup
from .settings import LABEL, LABEL_ROLE, Settings, state_root

log = logging.getLogger(__name__)


def saved_settings(instance: str) -> Settings | None:
    path = state_root() / instance / "settings.json"
    if path.exists():
        return Settings.model_validate(json.loads(path.read_text()))
    return None


def save_settings(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    (settings.state_dir / "settings.json").write_text(settings.model_dump_json())
    (settings.state_dir / "owner.json").write_text(json.dumps({"pid": os.getpid()}))


def alive(pid: int) -> bool:
    """True while `pid` runs. A finished process nobody has reaped yet (its parent is gone, or a test still
    holds a Popen of it) is a zombie: not alive - it will never stop its sandbox."""
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False
    except PermissionError:
        return True  # exists, owned by someone else


def owner_pid(instance: str) -> int | None:
    """The pid recorded by the process that started the instance (None if unknown or still starting)."""
    try:
        return int(json.loads((state_root() / instance / "owner.json").read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _owner_gone(instance: str) -> bool:
    """True only when the instance recorded its owner process and that process no longer runs."""
    pid = owner_pid(instance)
    return pid is not None and not alive(pid)  # unknown (or still starting): never guess


def reap_orphans(client) -> list[str]:
    """Remove sandboxes whose owner process died without `stop()` (a killed test run): their containers,
    network, rules and route would otherwise stay. Instances with a live or unknown owner are left alone."""
    reaped = []
    for network in client.networks.list(filters={"label": [LABEL, f"{LABEL_ROLE}=network"]}):
        instance = network.attrs.get("Labels", {}).get(LABEL, "")
        if instance and _owner_gone(instance):
            log.warning("removing sandbox %r: its owner process is gone", instance)
            remove_all(client, instance)
            reaped.append(instance)
    return reaped


def remove_all(client, instance: str) -> list[str]:
    """Tear the instance down (idempotent) and return what is left (empty when clean)."""
    import docker.errors

    settings = netsetup.find_existing(client, instance) or saved_settings(instance)
    label = {"label": f"{LABEL}={instance}"}
    for container in client.containers.list(all=True, filters=label, sparse=True):
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            if "already in progress" not in str(error):  # someone else is removing it: fine
                raise
    if settings is not None:
        netsetup.teardown_rules(settings)
    with netsetup.slot_lock():
        for network in client.networks.list(filters=label):
            _remove_network(network)
        # The unreachable route goes last, and only once the network is really gone: while the Pod range is
        # still a local bridge, the Service range must still fail fast instead of following the default route.
        if settings is not None:
            netsetup.remove_route(client, settings)
    shutil.rmtree(state_root() / instance, ignore_errors=True)
    return leftovers(client, instance, settings)


def foreign_endpoints(client, instance: str) -> list[str]:
    """Names of containers attached to the instance's networks that the sandbox did not make."""
    found = []
    for network in client.networks.list(filters={"label": f"{LABEL}={instance}"}):
        network.reload()
        for container_id, endpoint in (network.attrs.get("Containers") or {}).items():
            try:
                labels = client.containers.get(container_id).labels
            except Exception:  # noqa: BLE001 - gone meanwhile
                continue
            if labels.get(LABEL) != instance:
                found.append(f"{endpoint.get('Name') or container_id[:12]} on {network.name}")
    return found


def _remove_network(network) -> None:
    """Remove the network; containers of others still attached to it (`docker network connect`) are
    disconnected first (they keep running) and named in the log. Failures stay as leftovers."""
    import docker.errors

    try:
        network.reload()
        for container_id, endpoint in (network.attrs.get("Containers") or {}).items():
            name = endpoint.get("Name") or container_id[:12]
            log.warning("disconnecting foreign container %s from %s", name, network.name)
            try:
                network.disconnect(container_id, force=True)
            except docker.errors.APIError as error:
                log.warning("could not disconnect %s from %s: %s", name, network.name, error)
        network.remove()
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as error:
        log.warning("could not remove network %s: %s", network.name, error)


def leftovers(client, instance: str, settings: Settings | None) -> list[str]:
    label = {"label": f"{LABEL}={instance}"}
    found = [
        f"container {c.attrs['Names'][0]}"
        for c in client.containers.list(all=True, filters=label, sparse=True)
    ]
    found += [f"network {n.name}" for n in client.networks.list(filters=label)]
    if settings is not None:
        found += [f"host: {line}" for line in netsetup.leftover_rules(settings)]
    if (state_root() / instance).exists():
        found.append(f"directory {state_root() / instance}")
    return found

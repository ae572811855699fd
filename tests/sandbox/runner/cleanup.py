"""Remove everything one sandbox instance made: containers, the network, iptables chains, the route, state."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from . import netsetup
from .settings import LABEL, LABEL_ROLE, STATE_ROOT, Settings

log = logging.getLogger(__name__)


def saved_settings(instance: str) -> Settings | None:
    path = STATE_ROOT / instance / "settings.json"
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
        return int(json.loads((STATE_ROOT / instance / "owner.json").read_text())["pid"])
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
    # Host rules and the route go before the network: the network holds the slot, and a parallel sandbox that
    # takes the slot once it is free must not lose its fresh route to us.
    if settings is not None:
        netsetup.teardown_host(settings)
    for network in client.networks.list(filters=label):
        network.remove()
    shutil.rmtree(STATE_ROOT / instance, ignore_errors=True)
    return leftovers(client, instance, settings)


def leftovers(client, instance: str, settings: Settings | None) -> list[str]:
    label = {"label": f"{LABEL}={instance}"}
    found = [
        f"container {c.attrs['Names'][0]}"
        for c in client.containers.list(all=True, filters=label, sparse=True)
    ]
    found += [f"network {n.name}" for n in client.networks.list(filters=label)]
    if settings is not None:
        found += [f"host: {line}" for line in netsetup.leftover_rules(settings)]
    if (STATE_ROOT / instance).exists():
        found.append(f"directory {STATE_ROOT / instance}")
    return found

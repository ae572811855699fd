"""Remove everything one sandbox instance made: containers, the network, iptables chains, the route, state."""

from __future__ import annotations

import json
import shutil

from . import netsetup
from .settings import LABEL, STATE_ROOT, Settings


def saved_settings(instance: str) -> Settings | None:
    path = STATE_ROOT / instance / "settings.json"
    if path.exists():
        return Settings.model_validate(json.loads(path.read_text()))
    return None


def save_settings(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    (settings.state_dir / "settings.json").write_text(settings.model_dump_json())


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

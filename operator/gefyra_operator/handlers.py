"""kopf handlers: decorators only; the work is in clients, bridges, lifecycle (run with
`kopf run --standalone --namespace gefyra -m gefyra_operator.handlers`)."""

from __future__ import annotations

from typing import Any

import kopf

from gefyra.cluster import names
from gefyra_operator import bridges, clients, lifecycle
from gefyra_operator.settings import from_env

SETTINGS = from_env()
CLIENTS = (names.GROUP, names.VERSION, names.CLIENT_PLURAL)
BRIDGES = (names.GROUP, names.VERSION, names.BRIDGE_PLURAL)


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    lifecycle.configure(settings)
    await lifecycle.start(SETTINGS, memo)


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return lifecycle.login(**kwargs)


@kopf.on.cleanup()
async def cleanup(memo: Any, **_: Any) -> None:
    await lifecycle.stop(memo)


@kopf.on.resume(*CLIENTS)
@kopf.on.create(*CLIENTS)
@kopf.on.update(*CLIENTS, field="spec")
def client_changed(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    patch.status.update(clients.ensure(SETTINGS, dict(body)))


@kopf.timer(*CLIENTS, interval=SETTINGS.reap_interval, initial_delay=SETTINGS.reap_interval)
def client_lease(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    patch.status.update(clients.observe(SETTINGS, dict(body)))


@kopf.on.delete(*CLIENTS, retries=20)
def client_deleted(body: kopf.Body, **_: Any) -> None:
    clients.remove(SETTINGS, dict(body))


@kopf.on.resume(*BRIDGES)
@kopf.on.create(*BRIDGES)
@kopf.on.update(*BRIDGES, field="spec")
def bridge_changed(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    patch.status.update(bridges.reconcile_bridge(SETTINGS, dict(body)))


@kopf.timer(*BRIDGES, interval=SETTINGS.reconcile_interval, initial_delay=SETTINGS.reconcile_interval)
def bridge_tick(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    patch.status.update(bridges.reconcile_bridge(SETTINGS, dict(body)))


@kopf.on.delete(*BRIDGES)
def bridge_deleted(body: kopf.Body, retry: int, **_: Any) -> None:
    bridges.remove_bridge(SETTINGS, dict(body), retry)

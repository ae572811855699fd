"""The one list of providers and kinds. Adding a kind = adding its module and one line here.

A kind module defines `KIND` (a gefyra.providers.base.Kind) and may define `HOOKS` (PostStartHook list). Order
matters only for `amend` (called in this order) and for ties nowhere else: the planner sorts.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache

from gefyra.providers.base import Kind, PostStartHook, Provider

PROVIDERS: tuple[str, ...] = (
    "gefyra.providers.docker.provider",
    "gefyra.providers.kube.provider",  # active only with `cluster:` (or objects left in a cluster)
)

KINDS: tuple[str, ...] = (
    "gefyra.providers.docker.network",
    "gefyra.providers.docker.container",
    "gefyra.providers.docker.connection",  # data plane: the WireGuard peer (needs `cluster:`)
    "gefyra.providers.docker.cargo",  # data plane: the Cargo sidecar, gateway of app containers
    "gefyra.providers.kube.install",  # cluster: gefyra's cluster side (cluster.install: auto)
    "gefyra.providers.kube.client",  # cluster: this machine's GefyraClient (peer Secret by the Operator)
    "gefyra.providers.kube.bridge",  # cluster: one GefyraBridge per `bridges:` entry
)


@cache
def providers() -> dict[str, Provider]:
    loaded = [importlib.import_module(path).PROVIDER for path in PROVIDERS]
    return {provider.name: provider for provider in loaded}


@cache
def kinds() -> tuple[Kind, ...]:
    return tuple(importlib.import_module(path).KIND for path in KINDS)


@cache
def hooks() -> tuple[PostStartHook, ...]:
    found: list[PostStartHook] = []
    for path in KINDS:
        found.extend(getattr(importlib.import_module(path), "HOOKS", ()))
    return tuple(found)


def kind(name: str, available: Sequence[Kind] | None = None) -> Kind | None:
    return next((handler for handler in (available or kinds()) if handler.kind == name), None)

"""Observe the world once and plan against it: the first half of plan, apply, status and watch.

`make_plan` observes every active provider by label, asks every kind for desired and actual resources, and
hands both to the pure planner.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from gefyra.apply.session import open_session as open_session
from gefyra.apply.session import session as session
from gefyra.errors import GefyraError, ProviderError
from gefyra.model.resources import Resource, ResourceKey
from gefyra.planning import planner
from gefyra.planning.notices import mount_notices
from gefyra.planning.plan import Notice, Plan, StepOptions
from gefyra.providers import registry
from gefyra.providers.base import Kind, Session, Snapshot

if TYPE_CHECKING:
    from gefyra.config.model import Config


def observe(session: Session, project: str | None, config: Config | None = None) -> Snapshot:
    """One snapshot of every active provider, by label only."""
    snapshot = Snapshot(project=project)
    for name, provider in registry.providers().items():
        if provider.active(config):
            try:
                snapshot.providers[name] = provider.observe(session.client(name), project, config)
            except GefyraError:
                raise
            except Exception as error:  # noqa: BLE001 - e.g. docker.errors.APIError: one clear line
                raise ProviderError(f"observing {name} failed: {error}") from error
    return snapshot


def active_kinds(snapshot: Snapshot) -> tuple[Kind, ...]:
    return tuple(kind for kind in registry.kinds() if kind.provider in snapshot.providers)


def desired(config: Config, snapshot: Snapshot) -> list[Resource]:
    """Every kind's desired resources, then every kind's `amend` over the whole list."""
    kinds = active_kinds(snapshot)
    resources: list[Resource] = []
    for kind in kinds:
        resources.extend(kind.desired(config, snapshot))
    for kind in kinds:
        resources = kind.amend(resources, config)
    return resources


def actual(snapshot: Snapshot) -> list[Resource]:
    return [resource for kind in active_kinds(snapshot) for resource in kind.read(snapshot)]


def notices(config: Config, desired: Sequence[Resource]) -> tuple[Notice, ...]:
    """What to tell the user before anything starts (mounts beyond the project folder): the one place plan,
    apply and watch take their notices from."""
    from gefyra.config.risks import DOCKER_SOCKETS, mount_warnings

    sockets = list(DOCKER_SOCKETS)
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        sockets.append(Path(host.removeprefix("unix://")))
    return mount_notices(mount_warnings(config, docker_sockets=sockets))


class Planned(NamedTuple):
    """A plan with the observation it was made from (a tuple, not a model: nothing to validate, and read-only
    commands skip building a schema)."""

    plan: Plan
    snapshot: Snapshot
    actual: tuple[Resource, ...]


def make_plan(
    config: Config,
    session: Session,
    *,
    force_replace: Mapping[ResourceKey, str] | None = None,
    rebuild: frozenset[ResourceKey] = frozenset(),
    hold: frozenset[ResourceKey] = frozenset(),
    preflight: bool = True,
) -> Planned:
    """Observe once and plan. `rebuild`: build these images again; resources in `hold` are left as they are
    (watch's repair backoff); `preflight` checks what would be created (host ports) and raises ProviderError
    before anything changes."""
    snapshot = observe(session, config.project.name, config)
    have = [r for r in actual(snapshot) if r.key not in hold]
    want = [r for r in desired(config, snapshot) if r.key not in hold]
    result = planner.plan(
        config.project.name,
        want,
        have,
        force_replace=force_replace,
        options={key: StepOptions(rebuild=True) for key in rebuild},
        notices=notices(config, want),
    )
    if preflight:
        _preflight(result, snapshot, session)
    return Planned(plan=result, snapshot=snapshot, actual=tuple(have))


def _preflight(result: Plan, snapshot: Snapshot, session: Session) -> None:
    """Every kind checks what it is about to create (host ports, ...): fail before anything changes."""
    creating = [step.resource for step in result.steps if step.op == "create"]
    for kind in active_kinds(snapshot):
        mine = [resource for resource in creating if resource.kind == kind.kind]
        if mine:
            kind.preflight(mine, snapshot, session)

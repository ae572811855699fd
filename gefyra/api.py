"""The Python API: what the CLI, `watch` and tests call. Loads, observes once, plans, applies; never prints.

Example: `config = api.load("gefyra.yaml")`, then `api.plan(config)` (a Plan; `.has_changes`),
`api.apply(config)` (ApplyOutcome: the plan and the executor's result), `api.status(config)`,
`api.down(config.project.name)`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from gefyra.apply.dispatch import step_runner
from gefyra.apply.events import Event, EventSink, discard
from gefyra.apply.executor import DEFAULT_PARALLELISM, ApplyResult, Executor
from gefyra.apply.lock import check_not_down, down_marker, mark_down, project_lock
from gefyra.errors import GefyraError, ProviderError
from gefyra.model.resources import Resource, ResourceKey
from gefyra.planning import planner
from gefyra.planning.plan import Plan
from gefyra.planning.status import StatusReport, status_of
from gefyra.providers import registry
from gefyra.providers.base import Kind, Session, Snapshot
from gefyra.render.plan_json import plan_to_dict


def load(path: str | Path | None = None, *, cwd: Path | None = None) -> Any:
    """gefyra.yaml -> Config (raises ConfigError with every problem)."""
    from gefyra.config import load as load_config

    return load_config(path, cwd=cwd)


# ---- observation -------------------------------------------------------------------------------------------


def open_session(config: Any = None) -> Session:
    """Lazily connecting clients of every provider."""
    return Session({name: (lambda p=p: p.connect(config)) for name, p in registry.providers().items()})


def observe(session: Session, project: str | None, config: Any = None) -> Snapshot:
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


def desired(config: Any, snapshot: Snapshot) -> list[Resource]:
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


# ---- plan and apply ----------------------------------------------------------------------------------------


class Planned(BaseModel):
    """A plan with the observation it was made from."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    plan: Plan
    snapshot: Snapshot
    actual: tuple[Resource, ...]


def make_plan(
    config: Any,
    session: Session,
    *,
    force_replace: Mapping[ResourceKey, str] | None = None,
    options: Mapping[ResourceKey, Mapping[str, Any]] | None = None,
    hold: frozenset[ResourceKey] = frozenset(),
    preflight: bool = True,
) -> Planned:
    """Observe once and plan. Resources in `hold` are left as they are (watch's repair backoff);
    `preflight` checks what would be created (host ports) and raises ProviderError before anything changes."""
    snapshot = observe(session, config.project.name, config)
    have = [r for r in actual(snapshot) if r.key not in hold]
    want = [r for r in desired(config, snapshot) if r.key not in hold]
    result = planner.plan(config.project.name, want, have, force_replace=force_replace, options=options)
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


def plan(config: Any, **kwargs: Any) -> Plan:
    """What apply would do now (observes once, plans without further I/O)."""
    with _session(config) as session:
        return make_plan(config, session, **kwargs).plan


class ApplyOutcome(BaseModel):
    plan: Plan
    result: ApplyResult | None = None  # None: nothing to do, dry run, or not confirmed
    confirmed: bool = True

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def raise_for_failures(self) -> None:
        if self.result is not None and not self.result.ok:
            raise ProviderError(_failure_message(self.result))


def apply(
    config: Any,
    *,
    emit: EventSink = discard,
    confirm: Callable[[Plan], bool] | None = None,
    dry_run: bool = False,
    parallelism: int = DEFAULT_PARALLELISM,
    lock_timeout: float | None = None,
    force_replace: Mapping[ResourceKey, str] | None = None,
    options: Mapping[ResourceKey, Mapping[str, Any]] | None = None,
    cancel: threading.Event | None = None,
    down_since: str | None = None,
    hold: frozenset[ResourceKey] = frozenset(),
) -> ApplyOutcome:
    """Plan and apply under the project's lock. `confirm(plan)` may refuse (then nothing happens).
    `down_since` (a lock.down_marker value, given by watch): raise ProjectTakenDown if a `down` ran since."""
    project = config.project.name
    with project_lock(project, lock_timeout), _session(config) as session:
        check_not_down(project, down_since)
        planned = make_plan(config, session, force_replace=force_replace, options=options, hold=hold)
        emit(Event(event="plan", project=project, data=plan_to_dict(planned.plan)))
        if not planned.plan.has_changes or dry_run:
            return ApplyOutcome(plan=planned.plan)
        if confirm is not None and not confirm(planned.plan):  # asked only when there is something to do
            return ApplyOutcome(plan=planned.plan, confirmed=False)
        run = step_runner(
            active_kinds(planned.snapshot),
            project=project,
            session=session,
            snapshot=planned.snapshot,
            config=config,
            hooks=registry.hooks(),
            emit=emit,
        )
        result = Executor(run, parallelism=parallelism, emit=emit, cancel=cancel).execute(planned.plan)
        return ApplyOutcome(plan=planned.plan, result=result)


def _failure_message(result: ApplyResult) -> str:
    step, error = next(iter(result.failed.items()), ("", ""))
    if not step:
        return f"apply did not finish: {len(result.skipped)} skipped, {len(result.cancelled)} cancelled"
    more = len(result.failed) - 1
    return f"{step} failed: {error}" + (f" (and {more} more failed)" if more else "")


# ---- down --------------------------------------------------------------------------------------------------


class DownReport(BaseModel):
    project: str
    removed: list[str]


def down(
    project: str,
    *,
    emit: EventSink = discard,
    lock_timeout: float | None = None,
    parallelism: int = DEFAULT_PARALLELISM,
    images: bool = False,
) -> DownReport:
    """Delete every resource of `project` (reverse dependency order), sweep whatever else carries its label
    (with `images`, also the images built for it), and verify nothing is left (ProviderError naming the
    leftovers otherwise)."""
    with project_lock(project, lock_timeout), _session(None) as session:
        mark_down(project)  # a running watch of the project stops instead of undoing this
        snapshot = observe(session, project, None)
        have = actual(snapshot)
        planned = planner.plan(project, [], have)
        emit(Event(event="plan", project=project, data=plan_to_dict(planned)))
        run = step_runner(
            active_kinds(snapshot),
            project=project,
            session=session,
            snapshot=snapshot,
            config=None,
            hooks=(),
            emit=emit,
        )
        result = Executor(run, parallelism=parallelism, emit=emit).execute(planned)
        removed = [_describe(step.resource) for step in planned.steps if step.id in result.succeeded]
        for name, provider in registry.providers().items():
            if name in snapshot.providers:
                removed += provider.sweep(session.client(name), project, images=images)
        left = [
            item
            for name, provider in registry.providers().items()
            if name in snapshot.providers
            for item in provider.leftovers(session.client(name), project, images=images)
        ]
        if left or not result.ok:
            problem = _failure_message(result) if not result.ok else "objects remain"
            raise ProviderError(
                f"down of {project!r} incomplete: {problem}; left: {', '.join(left) or 'none'}"
            )
        return DownReport(project=project, removed=removed)


def projects() -> list[str]:
    """Every gefyra project with objects on this machine."""
    with _session(None) as session:
        found: set[str] = set()
        for name, provider in registry.providers().items():
            if provider.active(None):
                found |= provider.projects(session.client(name))
        return sorted(found)


def down_all(
    *, emit: EventSink = discard, only: Callable[[str], bool] | None = None, images: bool = False
) -> list[DownReport]:
    """`down` for every gefyra project here (`only` filters project names)."""
    return [
        down(project, emit=emit, images=images) for project in projects() if only is None or only(project)
    ]


def _describe(resource: Resource) -> str:
    info = resource.observed.info if resource.observed else {}
    return f"{resource.key}" + (f" ({info['docker_name']})" if info.get("docker_name") else "")


# ---- status, list, logs, restart ---------------------------------------------------------------------------


def status(config: Any) -> StatusReport:
    """Each resource: running / exited / missing / drifted (and why), from one observation."""
    with _session(config) as session:
        planned = make_plan(config, session, preflight=False)  # report, even when a port is taken
    return status_of(planned.plan, planned.actual)


def restart(config: Any, name: str, *, kind: str = "container") -> None:
    """Restart one resource in place (watch `restart`); post-start hooks run again."""
    from gefyra.providers.base import StepContext

    with project_lock(config.project.name), _session(config) as session:
        snapshot = observe(session, config.project.name, config)
        handler = registry.kind(kind)
        found = [r for r in handler.read(snapshot) if r.name == name] if handler else []
        if not found:
            raise ProviderError(f"{kind}/{name} does not exist", hint="run `gefyra apply` first")
        ctx = StepContext(
            project=config.project.name,
            session=session,
            snapshot=snapshot,
            config=config,
            hooks=registry.hooks(),
        )
        handler.restart(ctx, found[0])


@contextmanager
def _session(config: Any) -> Iterator[Session]:
    session = open_session(config)
    try:
        yield session
    finally:
        session.close()


def watch(
    config_path: str | Path | None = None,
    *,
    emit: EventSink = discard,
    drift_interval: float | None = None,
    quiet_s: float | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Apply, then keep applying on changes until `stop` is set or Ctrl-C (which propagates)."""
    from gefyra.watch import loop

    class _Actions:
        def __init__(self, project: str) -> None:
            self.down_since = down_marker(project)  # a later `down` ends the watch (ProjectTakenDown)

        def load(self, path: Path) -> Any:
            return load(path)

        def apply(
            self, config: Any, *, emit: EventSink, force_replace: dict, options: dict, hold: frozenset
        ) -> ApplyOutcome:
            return apply(
                config,
                emit=emit,
                force_replace=force_replace,
                options=options,
                down_since=self.down_since,
                hold=hold,
            )

        def restart(self, config: Any, name: str) -> None:
            restart(config, name)

    first = load(config_path)
    source = Path(first.source)
    settings = {"drift_interval": drift_interval, "quiet_s": quiet_s}
    loop.WatchLoop(
        source,
        _Actions(first.project.name),
        emit=emit,
        stop=stop,
        **{key: value for key, value in settings.items() if value is not None},
    ).run()


def list_containers(project: str | None = None) -> list[dict[str, str]]:
    """Every gefyra container on this machine (or of one project): project, kind, name, docker_name, state."""
    from gefyra.providers.docker import oneoff

    with _session(None) as session:
        return oneoff.listing(session.client("docker"), project)


def logs(project: str, name: str, *, follow: bool = False, tail: int | None = None) -> Iterator[bytes]:
    """Log output of the project's container `name`, chunk by chunk (follows with follow=True)."""
    from gefyra.providers.docker import oneoff

    with _session(None) as session:
        yield from oneoff.logs(session.client("docker"), project, name, follow=follow, tail=tail)


def run(
    project: str,
    *,
    image: str,
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    mounts: list[str] = (),
    ports: list[str] = (),
    args: list[str] | None = None,
    command: list[str] | None = None,
    config: Any = None,
    cwd: str = ".",
) -> str:
    """Start a one-off container (kind `run`) on the project network; returns its Docker name.
    Never planned by apply; removed by `down`. Post-start hooks for kind `run` apply."""
    from gefyra.providers.base import StepContext
    from gefyra.providers.docker import oneoff

    resource = oneoff.run_resource(
        project,
        image=image,
        name=name,
        env=dict(env or {}),
        args=args,
        command=command,
        mounts=[oneoff.parse_mount(item, cwd) for item in mounts],
        ports=[oneoff.parse_port(p) for p in ports],
    )
    subnet = str(config.network.subnet) if config is not None else "auto"
    with project_lock(project), _session(config) as session:
        ctx = StepContext(
            project=project,
            session=session,
            snapshot=Snapshot(project=project),
            config=config,
            hooks=registry.hooks(),
        )
        return oneoff.run(ctx, resource, subnet)

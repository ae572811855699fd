"""The Python API: what the CLI, `watch` and tests call. Loads, observes once, plans, applies; never prints.

Example: `config = api.load("gefyra.yaml")`, then `api.plan(config)` (a Plan; `.has_changes`, `.notices`),
`api.apply(config)` (ApplyOutcome: the plan and the executor's result), `api.status(config)`,
`api.down(config.project.name)`.

Modules only some commands need (the executor, renderers, the watch loop, imperative helpers) are imported
inside the functions that use them: read-only commands start faster.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # everything else is imported where it is used: `gefyra list` needs no planner
    from gefyra.apply.events import Event, EventSink
    from gefyra.apply.observe import Planned as Planned
    from gefyra.apply.observe import active_kinds as active_kinds
    from gefyra.apply.observe import actual as actual
    from gefyra.apply.observe import desired as desired
    from gefyra.apply.observe import make_plan as make_plan
    from gefyra.apply.observe import notices as notices
    from gefyra.apply.observe import observe as observe
    from gefyra.apply.results import ApplyOutcome as ApplyOutcome
    from gefyra.apply.results import DownReport as DownReport
    from gefyra.apply.session import open_session as open_session
    from gefyra.config.model import Config
    from gefyra.model.resources import Resource, ResourceKey
    from gefyra.planning.plan import Plan, Step
    from gefyra.planning.status import StatusReport

DEFAULT_PARALLELISM = 4
STOP_TIMEOUT_S = 0.0  # seconds a container may take to stop on restart (then it is killed)
_REEXPORTED = {  # name -> module: observation and planning for tools, results for callers
    **dict.fromkeys(
        ("Planned", "active_kinds", "actual", "desired", "make_plan", "notices", "observe"),
        "gefyra.apply.observe",
    ),
    "open_session": "gefyra.apply.session",
    "ApplyOutcome": "gefyra.apply.results",
    "DownReport": "gefyra.apply.results",
}
__all__ = sorted(_REEXPORTED)


def __getattr__(name: str) -> object:
    """The re-exported names, imported on first use."""
    if name not in _REEXPORTED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_REEXPORTED[name]), name)


def _discard(event: Event) -> None:
    """The default event sink: drops everything."""


def load(path: str | Path | None = None, *, cwd: Path | None = None) -> Config:
    """gefyra.yaml -> Config (raises ConfigError with every problem)."""
    from gefyra.config import load as load_config

    return load_config(path, cwd=cwd)


def plan(
    config: Config,
    *,
    force_replace: Mapping[ResourceKey, str] | None = None,
    rebuild: frozenset[ResourceKey] = frozenset(),
) -> Plan:
    """What apply would do now (observes once, plans without further I/O)."""
    from gefyra.apply.observe import make_plan
    from gefyra.apply.session import session

    with session(config) as opened:
        return make_plan(config, opened, force_replace=force_replace, rebuild=rebuild).plan


def apply(
    config: Config,
    *,
    emit: EventSink = _discard,
    confirm: Callable[[Plan], bool] | None = None,
    dry_run: bool = False,
    parallelism: int = DEFAULT_PARALLELISM,
    lock_timeout: float | None = None,
    force_replace: Mapping[ResourceKey, str] | None = None,
    rebuild: frozenset[ResourceKey] = frozenset(),
    cancel: threading.Event | None = None,
    grace_s: float | None = None,
    down_since: str | None = None,
    hold: frozenset[ResourceKey] = frozenset(),
) -> ApplyOutcome:
    """Plan and apply under the project's lock. `confirm(plan)` may refuse (then nothing happens).
    On Ctrl-C (or `cancel`) running steps get `grace_s` seconds (None: all they need), then the world is
    observed again so the result says what took effect. `down_since` (a lock.down_marker value, given by
    watch): raise ProjectTakenDown if a `down` ran since."""
    from gefyra.apply.dispatch import Target, execute
    from gefyra.apply.lock import check_not_down, project_lock
    from gefyra.apply.observe import make_plan
    from gefyra.apply.results import ApplyOutcome
    from gefyra.apply.session import session as _session
    from gefyra.apply.verify import settled
    from gefyra.providers import registry

    project = config.project.name
    with project_lock(project, lock_timeout), _session(config) as session:
        check_not_down(project, down_since)
        planned = make_plan(config, session, force_replace=force_replace, rebuild=rebuild, hold=hold)
        emit(_plan_event(planned.plan))
        if not planned.plan.has_changes or dry_run:
            return ApplyOutcome(plan=planned.plan)
        if confirm is not None and not confirm(planned.plan):  # asked only when there is something to do
            return ApplyOutcome(plan=planned.plan, confirmed=False)

        def verify(unfinished: Sequence[Step]) -> frozenset[str]:  # after an interruption: look again
            again = make_plan(config, session, hold=hold, preflight=False)
            return settled(planned.plan, unfinished, again.plan, again.actual)

        result = execute(
            planned.plan,
            Target(planned.snapshot, session, config, registry.hooks(), emit),
            parallelism=parallelism,
            cancel=cancel,
            grace_s=grace_s,
            verify=verify,
        )
        return ApplyOutcome(plan=planned.plan, result=result)


def _plan_event(plan: Plan) -> Event:
    from gefyra.apply.events import Event
    from gefyra.render.plan_json import plan_to_dict

    return Event(event="plan", project=plan.project, data=plan_to_dict(plan), plan=plan)


# ---- down --------------------------------------------------------------------------------------------------


def down(
    project: str,
    *,
    emit: EventSink = _discard,
    lock_timeout: float | None = None,
    parallelism: int = DEFAULT_PARALLELISM,
    images: bool = False,
) -> DownReport:
    """Delete every resource of `project` (reverse dependency order), sweep whatever else carries its label
    (with `images`, also the images built for it), and verify nothing is left (ProviderError naming the
    leftovers otherwise)."""
    from gefyra.apply.dispatch import Target, execute
    from gefyra.apply.lock import mark_down, project_lock
    from gefyra.apply.observe import actual, observe
    from gefyra.apply.results import DownReport, Outcome, failure_message
    from gefyra.apply.session import session as _session
    from gefyra.apply.verify import settled
    from gefyra.errors import ProviderError
    from gefyra.planning import planner
    from gefyra.providers import registry

    with project_lock(project, lock_timeout), _session(None) as session:
        mark_down(project)  # a running watch of the project stops instead of undoing this
        snapshot = observe(session, project, None)
        planned = planner.plan(project, [], actual(snapshot))
        emit(_plan_event(planned))

        def verify(unfinished: Sequence[Step]) -> frozenset[str]:
            fresh = actual(observe(session, project, None))
            return settled(planned, unfinished, planner.plan(project, [], fresh), fresh)

        target = Target(snapshot, session, None, (), emit)
        result = execute(planned, target, parallelism=parallelism, verify=verify)
        done = {r.step for r in result.having(Outcome.SUCCEEDED)}
        removed = [_describe(step.resource) for step in planned.steps if step.id in done]
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
            problem = failure_message(result) if not result.ok else "objects remain"
            raise ProviderError(
                f"down of {project!r} incomplete: {problem}; left: {', '.join(left) or 'none'}"
            )
        return DownReport(project=project, removed=removed)


def projects() -> list[str]:
    """Every gefyra project with objects on this machine."""
    from gefyra.apply.session import session as _session
    from gefyra.providers import registry

    with _session(None) as session:
        found: set[str] = set()
        for name, provider in registry.providers().items():
            if provider.active(None):
                found |= provider.projects(session.client(name))
        return sorted(found)


def down_all(
    *, emit: EventSink = _discard, only: Callable[[str], bool] | None = None, images: bool = False
) -> list[DownReport]:
    """`down` for every gefyra project here (`only` filters project names)."""
    return [
        down(project, emit=emit, images=images) for project in projects() if only is None or only(project)
    ]


def _describe(resource: Resource) -> str:
    docker_name = resource.observed.fact("docker_name") if resource.observed else None
    return f"{resource.key}" + (f" ({docker_name})" if docker_name else "")


# ---- status, restart, watch --------------------------------------------------------------------------------


def status(config: Config) -> StatusReport:
    """Each resource: running / exited / missing / drifted (and why), from one observation."""
    from gefyra.apply.observe import make_plan
    from gefyra.apply.session import session as _session
    from gefyra.planning.status import status_of

    with _session(config) as session:
        planned = make_plan(config, session, preflight=False)  # report, even when a port is taken
    return status_of(planned.plan, planned.actual)


def restart(
    config: Config, *names: str, kind: str = "container", stop_timeout_s: float = STOP_TIMEOUT_S
) -> None:
    """Restart resources in place, at the same time (watch `restart`); post-start hooks run again. How long a
    container may take to stop is the engine's call: `stop_timeout_s` in the step options (0: kill it, as
    `down` does; dev containers need no graceful stop). ProviderError names every restart that failed."""
    from gefyra.apply.executor import run_concurrently
    from gefyra.apply.lock import project_lock
    from gefyra.apply.observe import observe
    from gefyra.apply.session import session as _session
    from gefyra.errors import ProviderError
    from gefyra.providers import registry
    from gefyra.providers.base import StepContext

    with project_lock(config.project.name), _session(config) as session:
        snapshot = observe(session, config.project.name, config)
        handler = registry.kind(kind)
        found = {r.name: r for r in handler.read(snapshot)} if handler else {}
        missing = [name for name in names if name not in found]
        if handler is None or missing:
            raise ProviderError(f"{kind}/{missing[0]} does not exist", hint="run `gefyra apply` first")
        ctx = StepContext(
            project=config.project.name,
            session=session,
            snapshot=snapshot,
            config=config,
            options={"stop_timeout_s": stop_timeout_s},
            hooks=registry.hooks(),
        )
        errors = run_concurrently([partial(handler.restart, ctx, found[name]) for name in names])
        failed = [f"{kind}/{name}: {error}" for name, error in zip(names, errors, strict=True) if error]
        if failed:
            raise ProviderError("restart failed: " + "; ".join(failed))


def watch(
    config_path: str | Path | None = None,
    *,
    emit: EventSink = _discard,
    drift_interval: float | None = None,
    quiet_s: float | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Apply, then keep applying on changes until `stop` is set or Ctrl-C (which propagates)."""
    from gefyra.apply.lock import down_marker
    from gefyra.watch.loop import WATCH_GRACE_S, ApplyRequest, WatchLoop, WatchSettings

    class Actions:  # what the loop may do (gefyra.watch.loop.WatchActions)
        def __init__(self, project: str) -> None:
            self.down_since = down_marker(project)  # a later `down` ends the watch (ProjectTakenDown)

        def load(self, path: Path) -> Config:
            return load(path)

        def apply(self, config: Config, request: ApplyRequest) -> ApplyOutcome:
            return apply(
                config,
                emit=request.emit,
                force_replace=request.force_replace,
                rebuild=request.rebuild,
                hold=request.hold,
                grace_s=WATCH_GRACE_S,
                down_since=self.down_since,
            )

        def restart(self, config: Config, names: Sequence[str]) -> None:
            restart(config, *names)

    first = load(config_path)
    settings = WatchSettings.with_defaults(drift_interval=drift_interval, quiet_s=quiet_s)
    WatchLoop(first.source, Actions(first.project.name), emit=emit, stop=stop, settings=settings).run()


# ---- imperative helpers: list, logs, run -------------------------------------------------------------------


def list_containers(project: str | None = None) -> list[dict[str, str]]:
    """Every gefyra container on this machine (or of one project): project, kind, name, docker_name, state."""
    from gefyra.apply.session import session as _session
    from gefyra.providers.docker import oneoff

    with _session(None) as session:
        return oneoff.listing(session.client("docker"), project)


def logs(project: str, name: str, *, follow: bool = False, tail: int | None = None) -> Iterator[bytes]:
    """Log output of the project's container `name`, chunk by chunk (follows with follow=True)."""
    from gefyra.apply.session import session as _session
    from gefyra.providers.docker import oneoff

    with _session(None) as session:
        yield from oneoff.logs(session.client("docker"), project, name, follow=follow, tail=tail)


def run(
    project: str,
    *,
    image: str,
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    mounts: Sequence[str] = (),
    ports: Sequence[str] = (),
    args: list[str] | None = None,
    command: list[str] | None = None,
    config: Config | None = None,
    cwd: str = ".",
    env_from: str | None = None,
    env_from_namespace: str | None = None,
) -> str:
    """Start a one-off container (kind `run`) on the project network; returns its Docker name.
    Never planned by apply; removed by `down`. Post-start hooks for kind `run` apply.

    env_from ('deployment/web[/container]'): the container starts with that cluster container's environment
    (read from a live Pod at create, like `containers.<name>.env_from`), `env` on top. Only the reference
    goes into the spec and labels, never a value."""
    from gefyra.apply.lock import project_lock
    from gefyra.apply.session import session as _session
    from gefyra.providers import registry
    from gefyra.providers.base import Snapshot, StepContext
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
    if env_from is not None:
        from gefyra.providers.kube import envfrom

        ref = envfrom.one_off_spec(config, env_from, env_from_namespace)
        resource = resource.evolve(spec={**resource.spec, "env_from": [ref.dump()]})
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

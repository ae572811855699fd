"""The imperative cluster verbs over the declarative engine: `up`, `bridge`, `unbridge` (the CLI and tests
call these; `check` is in gefyra.providers.kube.preflight).

- `up` = `apply` of gefyra.yaml holding every container and bridge as it is: the network, the install, this
  machine's GefyraClient, the connection and Cargo are made (or repaired); no local container or bridge is
  made, changed or removed.
- `bridge` makes one bridge that gefyra.yaml does not declare. Its desired state is kept in the cluster (the
  GefyraBridge's spec annotation, origin `cli`): every later plan takes it as desired like a declared one
  (drift repaired, `status` lists it, `down` removes it) until `unbridge` deletes it.
- `unbridge` deletes such a bridge (the Operator restores its Pods). A bridge declared in gefyra.yaml is
  removed there (then `apply`): `unbridge` refuses it, or the next apply would bridge it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gefyra import api
from gefyra.apply.events import Event, EventSink, discard
from gefyra.apply.lock import project_lock
from gefyra.config.model import Bridge, Config
from gefyra.errors import ConfigError, ProviderError
from gefyra.model.resources import Resource, ResourceKey
from gefyra.planning.plan import Plan
from gefyra.providers import registry
from gefyra.providers.base import Session, Snapshot, StepContext
from gefyra.providers.kube.bridge import KIND as BRIDGES
from gefyra.providers.kube.bridge import status_of
from gefyra.providers.kube.bridgespec import bridge_resource
from gefyra.providers.kube.observe import kube_snapshot

HELD_KINDS = ("container", "bridge")  # what `up` leaves as it is


def _cluster(config: Config, verb: str) -> None:
    if config.cluster is None:
        raise ConfigError(f"`gefyra {verb}` needs a `cluster:` section in {config.source}")


def _observe(config: Config, session: Session) -> tuple[Snapshot, list[Resource]]:
    snapshot = api.observe(session, config.project.name, config)
    return snapshot, api.actual(snapshot)


def up(
    config: Config,
    *,
    emit: EventSink = discard,
    confirm: Callable[[Plan], bool] | None = None,
    dry_run: bool = False,
) -> api.ApplyOutcome:
    """Install (cluster.install: auto) and connect: apply without touching containers and bridges."""
    _cluster(config, "up")
    session = api.open_session(config)
    try:
        _, have = _observe(config, session)
    finally:
        session.close()
    held = {ResourceKey("container", name) for name in config.containers}
    held |= {ResourceKey("bridge", name) for name in config.bridges}
    held |= {resource.key for resource in have if resource.kind in HELD_KINDS}
    return api.apply(config, emit=emit, confirm=confirm, dry_run=dry_run, hold=frozenset(held))


def bridge_entry(config: Config, name: str, values: Mapping[str, object]) -> Bridge:
    """A bridge as gefyra.yaml would write it (same checks, same defaults: namespace, local, ports); `sync`
    is empty: the local container already runs, without the mounts a sync needs."""
    from pydantic import ValidationError

    assert config.cluster is not None
    data = {"namespace": config.cluster.namespace, "local": name, "sync": [], **values}
    try:
        return Bridge.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'bridge'}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"bridge {name}: {problems}") from None


def bridge(config: Config, name: str, values: Mapping[str, object], *, emit: EventSink = discard) -> str:
    """Make bridge `name` (values: target, namespace, container, local, ports) and wait until every Pod is
    bridged; returns the bridge's status line."""
    _cluster(config, "bridge")
    if name in config.bridges:
        raise ConfigError(
            f"bridge {name} is declared in {config.source}",
            hint="`gefyra apply` makes it; choose another name",
        )
    entry = bridge_entry(config, name, values)
    resource = bridge_resource(config, name, entry, origin="cli")
    project = config.project.name
    with project_lock(project), _step(config, emit) as (ctx, snapshot, have):
        kube = kube_snapshot(snapshot)
        if not kube.clients:
            raise ProviderError(
                f"project {project} has no GefyraClient in the cluster", hint="run `gefyra up` first"
            )
        found = next((r for r in have if r.key == resource.key), None)
        if found is not None and found.spec_hash != resource.spec_hash:
            raise ProviderError(
                f"bridge {name} exists with other settings", hint=f"`gefyra unbridge {name}` first"
            )
        BRIDGES.create(ctx, resource)
        return _find_bridge(ctx, resource)


def unbridge(
    config: Config, names: list[str], *, every: bool = False, emit: EventSink = discard
) -> list[str]:
    """Delete bridges `gefyra bridge` made (`every`: all of them); returns the names removed."""
    _cluster(config, "unbridge")
    with project_lock(config.project.name), _step(config, emit) as (ctx, _, have):
        bridges = {r.name: r for r in have if r.kind == "bridge"}
        declared = sorted(n for n in names if n in config.bridges)
        if declared:
            raise ConfigError(
                f"bridge {', '.join(declared)} is declared in {config.source}",
                hint="remove it there and run `gefyra apply`",
            )
        missing = sorted(n for n in names if n not in bridges)
        if missing:
            raise ProviderError(f"no bridge {', '.join(missing)} in project {config.project.name}")
        chosen = [r for n, r in sorted(bridges.items()) if (every and n not in config.bridges) or n in names]
        for resource in chosen:
            BRIDGES.delete(ctx, resource)
        return [r.name for r in chosen]


class _step:
    """A StepContext for one imperative step (a session, one observation), closed on exit."""

    def __init__(self, config: Config, emit: EventSink) -> None:
        self.config, self.emit = config, emit
        self.session = api.open_session(config)

    def __enter__(self) -> tuple[StepContext, Snapshot, list[Resource]]:
        snapshot, have = _observe(self.config, self.session)
        project = self.config.project.name

        def log(message: str, address: str | None) -> None:
            self.emit(Event(event="log", project=project, address=address, message=message))

        ctx = StepContext(
            project=project,
            session=self.session,
            snapshot=snapshot,
            config=self.config,
            hooks=registry.hooks(),
            log_sink=log,
        )
        return ctx, snapshot, have

    def __exit__(self, *exc: object) -> None:
        self.session.close()


def _find_bridge(ctx: StepContext, resource: Resource) -> str:
    """`deployment/web: 2 Pod(s) bridged` from the bridge as it is now."""
    from gefyra.cluster import names
    from gefyra.providers.kube.bridge import pods_line
    from gefyra.providers.kube.provider import KubeConnector

    kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
    found = kube.find(names.BRIDGE_KIND, str(resource.spec["object_name"]), names.NAMESPACE)
    if found is None:
        return ""
    return f"{resource.spec['target']}: {pods_line(status_of(found))}"

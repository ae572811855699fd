"""Kind `bridge`: each `bridges:` entry as a GefyraBridge of this machine's client.

The Operator swaps the target's Pods to Carrier; this kind creates the bridge with the local container's
current IP and waits (watch events) until every Pod is bridged, or fails with the bridge's own reason
(`PortMissing: ...`). Drift the plan shows and apply repairs: the local container got another IP (update:
the new `localIp`), a Pod not bridged (yet) - e.g. a replaced Pod - (update: wait for the Operator to
bridge it), the bridge deleted by hand (create). A Failed bridge is replaced, so its reason shows again.
"""

from __future__ import annotations

from collections.abc import Mapping

from gefyra.cluster import names
from gefyra.cluster.crds import GefyraBridgeSpec, GefyraBridgeStatus
from gefyra.config.model import Config
from gefyra.errors import ProviderError
from gefyra.model.cluster_specs import BRIDGE_MUTABLE, BridgeSpec
from gefyra.model.resources import Observed, Resource
from gefyra.providers.base import Kind, PostStartHook, Snapshot, StepContext
from gefyra.providers.docker.engine import Engine
from gefyra.providers.docker.observe import DockerSnapshot
from gefyra.providers.kube import cleanup, sync
from gefyra.providers.kube.boundary import KubeObject
from gefyra.providers.kube.bridgespec import bridge_resource, describe, recorded
from gefyra.providers.kube.observe import kube_snapshot, object_meta, resource_from
from gefyra.providers.kube.provider import KubeConnector
from gefyra.providers.kube.waiting import wait_object

ACTIVE_TIMEOUT_S = 120


class BridgeKind(Kind):
    kind = "bridge"
    provider = "kube"

    def desired(self, config: Config, snapshot: Snapshot) -> list[Resource]:
        """gefyra.yaml's bridges, and the ones `gefyra bridge` made (recorded in the cluster)."""
        if config.cluster is None:
            return []
        declared = [bridge_resource(config, name, b) for name, b in sorted(config.bridges.items())]
        return declared + recorded(config, kube_snapshot(snapshot))

    def amend(self, desired: list[Resource], config: Config) -> list[Resource]:
        """`after` only what is part of the project (a local container may be missing: the loader says so);
        with a cluster, every local container mounts its (empty until a bridge syncs) copies of the paths
        sync can copy, so bridging never replaces it."""
        keys = {resource.key for resource in desired}
        amended = [
            r.evolve(after=tuple(k for k in r.after if k in keys)) if r.kind == self.kind else r
            for r in desired
        ]
        if config.cluster is None:
            return amended
        return sync.with_mounts(amended, config.project.name)

    def read(self, snapshot: Snapshot) -> list[Resource]:
        docker = snapshot.providers.get("docker")
        found = []
        for obj in kube_snapshot(snapshot).of_kind(self.kind):
            resource = resource_from(obj, Observed(status="unknown", healthy=True)).evolve(
                mutable=BRIDGE_MUTABLE
            )
            observed = observe_bridge(obj, None)
            if isinstance(docker, DockerSnapshot):
                observed = observe_bridge(obj, local_ip(docker, resource.spec))
                observed = _with_sync(observed, obj, resource, docker, snapshot.project or "")
            found.append(resource.evolve(observed=observed))
        return found

    def create(self, ctx: StepContext, resource: Resource) -> None:
        spec = BridgeSpec.model_validate(resource.spec)
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        local_ip = _running_ip(ctx.session.client_of("docker", Engine), spec)
        body = GefyraBridgeSpec(
            target=spec.target,
            namespace=spec.namespace,
            container=spec.container,
            ports=spec.ports,
            client=spec.client,
            local_ip=local_ip,
        ).model_dump(mode="json", by_alias=True, exclude_none=True)
        manifest = {
            "apiVersion": names.API_VERSION,
            "kind": names.BRIDGE_KIND,
            "metadata": {
                "name": spec.object_name,
                "namespace": names.NAMESPACE,
                **object_meta(ctx.project, spec.client, resource, "bridge"),
            },
            "spec": body,
        }
        kube.apply(manifest)
        ctx.log(f"GefyraBridge {spec.object_name}: {describe(spec)} to {local_ip}", str(resource.key))
        self._sync(ctx, resource, spec, self._wait_active(ctx, resource, spec))

    def update(self, ctx: StepContext, previous: Resource, resource: Resource) -> None:
        """Point the bridge at the local container's current IP, then wait until every Pod is bridged."""
        spec = BridgeSpec.model_validate(resource.spec)
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        local_ip = _running_ip(ctx.session.client_of("docker", Engine), spec)
        meta = object_meta(ctx.project, spec.client, resource, "bridge")
        kube.patch(
            names.BRIDGE_KIND,
            spec.object_name,
            {"metadata": {"annotations": meta["annotations"]}, "spec": {"localIp": local_ip}},
            names.NAMESPACE,
        )
        self._sync(ctx, resource, spec, self._wait_active(ctx, resource, spec))

    def _sync(
        self, ctx: StepContext, resource: Resource, spec: BridgeSpec, status: GefyraBridgeStatus
    ) -> None:
        """(Re)start the loop that copies the sync paths from the first bridged Pod in the background; record
        what it copies."""
        engine = ctx.session.client_of("docker", Engine)
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        if not spec.sync:
            sync.stop(engine, ctx.project, resource.name, spec.local, keep_copies=False)
            record = None
        else:
            pod = kube.get("Pod", sorted(p.name for p in status.pods)[0], spec.namespace)
            found = sync.source(pod, status.container or spec.container or "", spec.sync)
            if found.skipped:
                skipped = ", ".join(found.skipped)
                ctx.log(f"not synced: Pod {pod.name} does not mount {skipped}", str(resource.key))
            sync.start(engine, ctx.project, resource.name, spec.local, found)
            if found.paths:
                paths = ", ".join(found.paths)
                ctx.log(f"syncing {paths} from Pod {pod.name} (`gefyra status` shows it)", str(resource.key))
            record = sync.record(found)
        body = {"metadata": {"annotations": {sync.ANNOTATION: record}}}
        kube.patch(names.BRIDGE_KIND, spec.object_name, body, names.NAMESPACE)

    def _wait_active(self, ctx: StepContext, resource: Resource, spec: BridgeSpec) -> GefyraBridgeStatus:
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        seen: set[str] = set()

        def progress(obj: KubeObject) -> None:
            line = _problem(status_of(obj))
            if line and line not in seen:
                seen.add(line)
                ctx.log(f"waiting: {line}", str(resource.key))

        status = wait_object(
            kube,
            names.BRIDGE_KIND,
            spec.object_name,
            names.NAMESPACE,
            _active,
            timeout_s=ACTIVE_TIMEOUT_S,
            what=f"bridge {resource.name} Active ({describe(spec)})",
            progress=progress,
        )
        ctx.log(f"active: {pods_line(status)}", str(resource.key))
        return status

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        name = str(actual.spec.get("object_name") or "")
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        found = kube.find(names.BRIDGE_KIND, name, names.NAMESPACE) if name else None
        if found is not None:
            cleanup.remove_bridge(kube, found, lambda text: ctx.log(text, str(actual.key)))
        local = str(actual.spec.get("local") or "")
        engine = ctx.session.client_of("docker", Engine)
        sync.stop(engine, ctx.project, actual.name, local, keep_copies=not local)  # local: recorded spec


def status_of(obj: KubeObject) -> GefyraBridgeStatus:
    try:
        return GefyraBridgeStatus.model_validate(obj.status)
    except ValueError:
        return GefyraBridgeStatus()


def _problem(status: GefyraBridgeStatus) -> str:
    for condition in status.conditions:
        if condition.type == "Ready" and condition.status != "True":
            return f"{condition.reason}: {condition.message}" if condition.message else condition.reason
    return ""


def pods_line(status: GefyraBridgeStatus) -> str:
    pods = ", ".join(f"{p.name} {p.state}" + (f" ({p.reason})" if p.reason else "") for p in status.pods)
    return f"{len(status.pods)} Pod(s): {pods}" if status.pods else "no Pods"


def _active(obj: KubeObject | None) -> GefyraBridgeStatus | None:
    if obj is None:
        raise ProviderError("the GefyraBridge was deleted while waiting for it")
    status = status_of(obj)
    if status.phase == "Failed":
        raise ProviderError(f"bridge {obj.name} failed: {_problem(status) or 'no reason given'}")
    bridged = status.pods and all(p.state == "Bridged" for p in status.pods)
    return status if status.phase == "Active" and bridged else None


def local_ip(docker: DockerSnapshot, spec: Mapping[str, object]) -> str | None:
    """The local container's address on the project network: with Cargo the app joins its infra
    container's namespace (`network_mode: container:<id>`), so the address is the infra container's."""
    rows = {row.id: row for row in docker.containers}
    for row in docker.containers:
        if row.name == spec.get("local_docker_name"):
            holder = rows.get(row.network_mode.removeprefix("container:"), row)
            endpoint = holder.networks.get(str(spec.get("network")))
            return endpoint.ip if endpoint else None
    return None


def _running_ip(engine: Engine, spec: BridgeSpec) -> str:
    found = engine.find_container(spec.local_docker_name)
    if found is not None and found.network_mode.startswith("container:"):
        holder = engine.find_container(found.network_mode.removeprefix("container:"))
        address = holder.ip_on(spec.network) if holder is not None and found.state.running else ""
    else:
        address = found.ip_on(spec.network) if found is not None and found.state.running else ""
    if not address:
        raise ProviderError(
            f"the local container {spec.local} ({spec.local_docker_name}) is not running on {spec.network}",
            hint="the bridge sends traffic to it: check `gefyra status`",
        )
    return address


def _with_sync(
    observed: Observed, obj: KubeObject, resource: Resource, docker: DockerSnapshot, project: str
) -> Observed:
    """The sync's state in the status line and its drift (only of an Active bridge with sync paths)."""
    if observed.status != "active" or not resource.spec.get("sync"):
        return observed
    bridged = [p.name for p in status_of(obj).pods if p.state == "Bridged"]
    recorded = obj.metadata.annotations.get(sync.ANNOTATION)
    words, drift = sync.loop_state(docker, project, resource.name, recorded, bridged)
    detail = observed.detail + (f"; {words}" if words else "")
    return observed.model_copy(update={"detail": detail, "drift": (*observed.drift, *drift)})


def observe_bridge(obj: KubeObject, local_ip: str | None) -> Observed:
    status = status_of(obj)
    deleting = obj.metadata.deletion_timestamp is not None
    drift: list[str] = []
    if local_ip and obj.spec.get("localIp") != local_ip:
        drift.append(f"the local container moved to {local_ip} (bridge points at {obj.spec.get('localIp')})")
    if status.phase == "Active":
        drift += [f"Pod {p.name} is {p.state}" for p in status.pods if p.state != "Bridged"]
    problem = _problem(status)
    return Observed(
        status="deleting" if deleting else status.phase.lower(),
        healthy=status.phase != "Failed" and not deleting,
        detail=f"{pods_line(status)}" + (f"; {problem}" if problem else ""),
        ref=obj.name,
        info={"local_ip": str(obj.spec.get("localIp") or "")},
        drift=tuple(drift),
    )


def _sync_follows_cargo(ctx: StepContext, resource: Resource, container_id: str) -> None:
    """Post-start hook of Cargo: the sync loops move into the new Cargo's namespace in the same apply (a
    replaced Cargo would otherwise leave them copying nothing until the next plan saw it as drift)."""
    moved = sync.follow_cargo(ctx.session.client_of("docker", Engine), ctx.project, container_id)
    if moved:
        ctx.log(f"sync of bridge(s) {', '.join(moved)} moved into the new Cargo", str(resource.key))


HOOKS = [PostStartHook(name="bridge.sync", kinds=("cargo",), run=_sync_follows_cargo)]
KIND = BridgeKind()

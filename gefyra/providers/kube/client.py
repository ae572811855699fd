"""Kind `client`: this machine's GefyraClient for the project (`<project>-<client id>`).

Its routed subnet is the project network's subnet (read from Docker when it is created), so Stowaway routes
bridge traffic to local containers by IP. Create waits for the Operator through watch events (status Ready
with the tunnel address; Failed names its reason) and reports each reason it passes on the way. The status
line shows the tunnel address and how long ago the tunnel last shook hands.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gefyra.cluster import names
from gefyra.cluster.crds import GefyraClientSpec, GefyraClientStatus
from gefyra.config.model import Config
from gefyra.errors import ProviderError
from gefyra.model.cluster_specs import (
    CLIENT,
    CLIENT_MUTABLE,
    INSTALL,
    INSTALL_ANNOTATION,
    ClientSpec,
    client_name,
)
from gefyra.model.desired import NETWORK, network_name
from gefyra.model.resources import Observed, Resource
from gefyra.providers.base import Kind, Snapshot, StepContext
from gefyra.providers.docker import actions
from gefyra.providers.docker.engine import Engine
from gefyra.providers.kube import cleanup, envfrom, identity
from gefyra.providers.kube.boundary import KubeObject
from gefyra.providers.kube.observe import kube_snapshot, object_meta, resource_from
from gefyra.providers.kube.provider import KubeConnector
from gefyra.providers.kube.waiting import wait_object

READY_TIMEOUT_S = 120


class ClientKind(Kind):
    kind = "client"
    provider = "kube"

    def desired(self, config: Config, snapshot: Snapshot) -> list[Resource]:
        cluster = config.cluster
        if cluster is None:
            return []
        project, client_id = config.project.name, identity.client_id()
        spec = ClientSpec(
            name=client_name(project, client_id),
            project=project,
            client_id=client_id,
            network=network_name(project),
            client_timeout_seconds=int(cluster.client_timeout.total_seconds()),
        )
        deps = (NETWORK, INSTALL) if cluster.install == "auto" else (NETWORK,)
        return [
            Resource(
                kind=self.kind, name=CLIENT.name, spec=spec.dump(), depends_on=deps, mutable=CLIENT_MUTABLE
            )
        ]

    def amend(self, desired: list[Resource], config: Config) -> list[Resource]:
        """App containers with `env_from` carry its references (this client reads the values at create)."""
        return envfrom.with_env_from(desired, config)

    def read(self, snapshot: Snapshot) -> list[Resource]:
        return [resource_from(obj, observe_client(obj)) for obj in kube_snapshot(snapshot).of_kind(self.kind)]

    def create(self, ctx: StepContext, resource: Resource) -> None:
        spec = ClientSpec.model_validate(resource.spec)
        connector = ctx.session.client_of("kube", KubeConnector)
        ref = connector.ref(ctx.project)
        if ref is not None:
            identity.remember(ctx.project, ref)  # before anything exists there: `down` can always find it
        kube = connector.require(ctx.project)
        subnet = actions.network_subnet(ctx.session.client_of("docker", Engine), spec.network)
        body = GefyraClientSpec(
            project=spec.project,
            client_id=spec.client_id,
            routed_subnets=[subnet],
            client_timeout_seconds=spec.client_timeout_seconds,
        ).model_dump(mode="json", by_alias=True)
        meta = object_meta(ctx.project, spec.name, resource, "client")
        install = ctx.config is not None and ctx.config.cluster is not None and ctx.config.cluster.install
        annotations = {**_dict(meta["annotations"]), INSTALL_ANNOTATION: str(install or "never")}
        manifest = {
            "apiVersion": names.API_VERSION,
            "kind": names.CLIENT_KIND,
            "metadata": {"name": spec.name, "namespace": names.NAMESPACE, **meta, "annotations": annotations},
            "spec": body,
        }
        existing = kube.find(names.CLIENT_KIND, spec.name, names.NAMESPACE)
        if existing is not None and existing.metadata.labels.get(names.PROJECT) != ctx.project:
            raise ProviderError(f"GefyraClient {spec.name} exists but was not made for project {ctx.project}")
        kube.apply(manifest)
        ctx.log(f"GefyraClient {spec.name} (routes {subnet}); waiting for the Operator", str(resource.key))
        seen: set[str] = set()

        def progress(obj: KubeObject) -> None:
            for reason in _reasons(obj) - seen:
                seen.add(reason)
                ctx.log(f"waiting: {reason}", str(resource.key))

        status = wait_object(
            kube,
            names.CLIENT_KIND,
            spec.name,
            names.NAMESPACE,
            _ready,
            timeout_s=READY_TIMEOUT_S,
            what=f"GefyraClient {spec.name} Ready (is the Operator running in namespace {names.NAMESPACE}?)",
            progress=progress,
        )
        ctx.log(f"peer ready: tunnel address {status.tunnel_address}", str(resource.key))

    def update(self, ctx: StepContext, previous: Resource, resource: Resource) -> None:
        spec = ClientSpec.model_validate(resource.spec)
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        meta = object_meta(ctx.project, spec.name, resource, "client")
        body = {
            "metadata": {"annotations": meta["annotations"]},
            "spec": {"clientTimeoutSeconds": spec.client_timeout_seconds},
        }
        kube.patch(names.CLIENT_KIND, spec.name, body, names.NAMESPACE)

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        name = str(actual.spec.get("name") or "")
        if not name:
            raise ProviderError(f"{actual.key} has no recorded name")
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        cleanup.remove_client(kube, name, lambda text: ctx.log(text, str(actual.key)))


def _dict(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def status_of(obj: KubeObject) -> GefyraClientStatus:
    try:
        return GefyraClientStatus.model_validate(obj.status)
    except ValueError:
        return GefyraClientStatus()


def _reasons(obj: KubeObject) -> set[str]:
    return {
        f"{c.type} {c.reason}" + (f": {c.message}" if c.message else "")
        for c in status_of(obj).conditions
        if c.status != "True"
    }


def _ready(obj: KubeObject | None) -> GefyraClientStatus | None:
    if obj is None:
        raise ProviderError("the GefyraClient was deleted while waiting for it (by the Operator's lease?)")
    status = status_of(obj)
    if status.phase == "Failed":
        raise ProviderError(f"GefyraClient {obj.name} failed: {'; '.join(sorted(_reasons(obj)))}")
    return status if status.phase == "Ready" and status.tunnel_address else None


def handshake_age(latest: str | None, now: datetime | None = None) -> str:
    """'handshake 12s ago' / 'no handshake yet' from an RFC 3339 time."""
    if not latest:
        return "no handshake yet"
    try:
        then = datetime.fromisoformat(latest.replace("Z", "+00:00"))
    except ValueError:
        return f"handshake at {latest}"
    seconds = int(((now or datetime.now(UTC)) - then).total_seconds())
    return f"handshake {max(seconds, 0)}s ago"


def observe_client(obj: KubeObject) -> Observed:
    status = status_of(obj)
    deleting = obj.metadata.deletion_timestamp is not None
    healthy = status.phase in ("Pending", "Ready") and not deleting
    parts = [f"tunnel {status.tunnel_address}" if status.tunnel_address else "no tunnel address yet"]
    parts.append(handshake_age(status.latest_handshake))
    why = "; ".join(sorted(_reasons(obj)))
    detail = ", ".join(parts) + (f" ({why})" if why else "")
    return Observed(
        status="deleting" if deleting else status.phase.lower(),
        healthy=healthy,
        detail=detail,
        ref=obj.name,
        info={
            "tunnel_address": status.tunnel_address or "",
            "latest_handshake": status.latest_handshake or "",
        },
    )


KIND = ClientKind()

"""Kind `install`: gefyra's cluster side (namespace, CRDs, RBAC, Operator, Stowaway) for `install: auto`.

Desired only with `cluster.install: auto`. Every spec field is mutable, so a change (new images, routes)
is an in-place update that re-applies the manifests (an upgrade) and never deletes the namespace with every
other client in it; a missing part (a Deployment deleted by hand) is drift, repaired the same way. The
install is read back only for a project whose GefyraClient says it asked for it (`gefyra.dev/install:
auto`), so `down` of such a project removes it, and only when no other client is left.
"""

from __future__ import annotations

import json

from gefyra.cluster import names, rbac
from gefyra.cluster.install import InstallSettings, install_manifests
from gefyra.config.model import Config
from gefyra.model.cluster_specs import (
    INSTALL,
    INSTALL_ANNOTATION,
    INSTALL_MUTABLE,
    SPEC_ANNOTATION,
    InstallSpec,
)
from gefyra.model.hashing import canonical_json
from gefyra.model.resources import Observed, Resource
from gefyra.providers.base import Kind, Snapshot, StepContext
from gefyra.providers.docker.engine import Engine
from gefyra.providers.errors import NotFound
from gefyra.providers.kube.boundary import Kube, KubeObject
from gefyra.providers.kube.images import build_local, image_refs
from gefyra.providers.kube.observe import InstallState, kube_snapshot
from gefyra.providers.kube.provider import KubeConnector
from gefyra.providers.kube.waiting import wait_object

READY_TIMEOUT_S = 240  # local images start in seconds; a registry pull may take longer
NODE_PORTS = (30000, 32767)  # the NodePort range


class InstallKind(Kind):
    kind = "install"
    provider = "kube"

    def desired(self, config: Config, snapshot: Snapshot) -> list[Resource]:
        cluster = config.cluster
        facts = kube_snapshot(snapshot).facts
        if cluster is None or cluster.install != "auto" or facts is None:
            return []
        refs = image_refs(cluster.images)
        endpoint = cluster.endpoint if cluster.endpoint != "auto" else None
        node_port = names.DEFAULT_NODE_PORT
        if endpoint is not None and NODE_PORTS[0] <= int(endpoint.rsplit(":", 1)[1]) <= NODE_PORTS[1]:
            node_port = int(endpoint.rsplit(":", 1)[1])  # where the user reaches it: that NodePort
        if endpoint is None and facts.node_address:
            endpoint = f"{facts.node_address}:{node_port}"
        spec = InstallSpec(
            namespace=names.NAMESPACE,
            images=refs,
            image_pull_policy="IfNotPresent",
            node_port=node_port,
            cluster_routes=facts.cluster_routes,
            cluster_dns=facts.cluster_dns,
            endpoint=endpoint,
        )
        summary = f"namespace {names.NAMESPACE}, Stowaway on UDP NodePort {node_port}"
        return [
            Resource(
                kind=self.kind, name=INSTALL.name, spec=spec.dump(), mutable=INSTALL_MUTABLE, summary=summary
            )
        ]

    def read(self, snapshot: Snapshot) -> list[Resource]:
        kube = kube_snapshot(snapshot)
        state = kube.install
        asked = any(c.metadata.annotations.get(INSTALL_ANNOTATION) == "auto" for c in kube.clients)
        if state.namespace is None or not asked:
            return []
        try:
            spec = json.loads(state.namespace.metadata.annotations.get(SPEC_ANNOTATION, "{}"))
        except ValueError:
            spec = {}
        resource = Resource(
            kind=self.kind,
            name=INSTALL.name,
            spec=spec if isinstance(spec, dict) else {},
            mutable=INSTALL_MUTABLE,
        )
        missing = missing_parts(state)
        observed = Observed(
            status="installed" if not missing else "incomplete",
            healthy=True,  # never replaced: what is missing is drift, re-applied in place
            detail="Operator and Stowaway ready" if not missing else "",
            drift=tuple(f"{part} is missing or not ready" for part in missing),
        )
        return [resource.evolve(observed=observed)]

    def create(self, ctx: StepContext, resource: Resource) -> None:
        self._apply(ctx, resource)

    def update(self, ctx: StepContext, previous: Resource, resource: Resource) -> None:
        self._apply(ctx, resource)

    def _apply(self, ctx: StepContext, resource: Resource) -> None:
        spec = InstallSpec.model_validate(resource.spec)
        build_local(ctx.session.client_of("docker", Engine), spec.images)
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        # a namespace still terminating (a `down` a moment ago) would delete again what is created in it
        wait_object(
            kube,
            "Namespace",
            names.NAMESPACE,
            "",
            lambda obj: True if obj is None or obj.metadata.deletion_timestamp is None else None,
            timeout_s=120,
            what=f"namespace {names.NAMESPACE} no longer terminating",
        )
        for manifest in manifests(spec):
            kube.apply(manifest)
        ctx.log("manifests applied; waiting for the Operator and Stowaway", str(resource.key))
        for name in (names.STOWAWAY, names.OPERATOR):
            wait_object(
                kube,
                "Deployment",
                name,
                names.NAMESPACE,
                _ready,
                timeout_s=READY_TIMEOUT_S,
                what=f"Deployment {names.NAMESPACE}/{name} ready",
            )
        ctx.log(f"gefyra installed in namespace {names.NAMESPACE}", str(resource.key))

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        """Remove the whole install, unless another client still uses it."""
        kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
        others = [c.name for c in _clients(kube)]
        if others:
            ctx.log(
                f"install kept: {len(others)} other client(s) use it ({', '.join(others[:3])})",
                str(actual.key),
            )
            return
        uninstall(kube)
        ctx.log(f"namespace {names.NAMESPACE}, CRDs and cluster roles removed", str(actual.key))


def manifests(spec: InstallSpec) -> list[dict[str, object]]:
    settings = InstallSettings(
        namespace=spec.namespace,
        operator_image=spec.images.operator,
        stowaway_image=spec.images.stowaway,
        carrier_image=spec.images.carrier,
        image_pull_policy=spec.image_pull_policy,
        node_port=spec.node_port,
        cluster_routes=spec.cluster_routes,
        cluster_dns=spec.cluster_dns,
        endpoint=spec.endpoint,
    )
    found = install_manifests(settings)
    namespace = found[0]
    namespace["metadata"].setdefault("annotations", {})[SPEC_ANNOTATION] = canonical_json(spec.dump())
    return found


def missing_parts(state: InstallState) -> list[str]:
    missing = [f"CRD {crd}" for crd in rbac.crd_names() if crd not in state.crds]
    missing += [f"Deployment {name}" for name in (names.OPERATOR, names.STOWAWAY) if not state.ready(name)]
    return missing


def _ready(obj: KubeObject | None) -> bool | None:
    """A Deployment whose current generation has a ready replica."""
    if obj is None:
        return None
    ready = int(str(obj.status.get("readyReplicas") or 0))
    seen = int(str(obj.status.get("observedGeneration") or 0))
    return True if ready >= 1 and obj.metadata.generation <= seen else None


def _clients(kube: Kube) -> list[KubeObject]:
    try:
        return kube.list(names.CLIENT_KIND, names.NAMESPACE)
    except NotFound:  # no CRD: no client
        return []


def uninstall(kube: Kube) -> None:
    """Namespace (and with it everything in it), CRDs, the Operator's cluster roles; waits until gone."""
    for crd in rbac.crd_names():
        kube.delete("CustomResourceDefinition", crd)
    for kind in ("ClusterRoleBinding", "ClusterRole"):
        kube.delete(kind, names.OPERATOR)
    kube.delete("Namespace", names.NAMESPACE)
    wait_object(
        kube,
        "Namespace",
        names.NAMESPACE,
        "",
        lambda obj: True if obj is None else None,
        timeout_s=120,
        what=f"namespace {names.NAMESPACE} removed",
    )


KIND = InstallKind()

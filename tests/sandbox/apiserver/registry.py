"""Which kinds the server serves: built-in groups plus the ones CustomResourceDefinitions register."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUB_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceType:
    """One served resource (group, version, plural) and how it behaves."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    verbs: tuple[str, ...] = ALL_VERBS
    categories: tuple[str, ...] = ()
    custom: bool = False
    # scale subresource paths of a CRD: (spec replicas, status replicas, label selector)
    scale_paths: tuple[str, str, str | None] = (".spec.replicas", ".status.replicas", None)
    # additionalPrinterColumns of a CRD version: (name, type, jsonPath) for `kubectl get`
    printer_columns: tuple[tuple[str, str, str], ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        """Storage key: shared by every version of one group resource."""
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def display(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _rt(
    group: str,
    version: str,
    plural: str,
    kind: str,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    sub: tuple[str, ...] = (),
    verbs: tuple[str, ...] = ALL_VERBS,
    categories: tuple[str, ...] = (),
) -> ResourceType:
    return ResourceType(
        group, version, plural, kind, namespaced, kind.lower(), short, frozenset(sub), verbs, categories
    )


ALL = ("all",)
BUILTINS: list[ResourceType] = [
    _rt("", "v1", "namespaces", "Namespace", False, ("ns",), ("status", "finalize")),
    _rt("", "v1", "pods", "Pod", True, ("po",), ("status", "binding", "log"), categories=ALL),
    _rt("", "v1", "services", "Service", True, ("svc",), ("status",), categories=ALL),
    _rt("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    _rt("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    _rt("", "v1", "secrets", "Secret", True),
    _rt("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",), ("token",)),
    _rt("", "v1", "events", "Event", True, ("ev",)),
    _rt("", "v1", "nodes", "Node", False, ("no",), ("status",)),
    _rt("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), ("status",)),
    _rt("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), ("status",)),
    _rt("", "v1", "resourcequotas", "ResourceQuota", True, ("quota",), ("status",)),
    _rt("", "v1", "limitranges", "LimitRange", True, ("limits",)),
    _rt("apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status", "scale"), categories=ALL),
    _rt("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), ("status", "scale"), categories=ALL),
    _rt("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), ("status", "scale"), categories=ALL),
    _rt("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), ("status",), categories=ALL),
    _rt("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    _rt("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _rt("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    _rt("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _rt("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _rt(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        ("status",),
    ),
    _rt("coordination.k8s.io", "v1", "leases", "Lease", True),
    _rt("events.k8s.io", "v1", "events", "Event", True, ("ev",)),
    _rt("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", False, verbs=("create",)),
    _rt("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False, verbs=("create",)),
    _rt(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
    ),
    _rt(
        "authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False, verbs=("create",)
    ),
    _rt("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    _rt("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), ("status",)),
    _rt("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    _rt("batch", "v1", "jobs", "Job", True, (), ("status",), categories=ALL),
    _rt("batch", "v1", "cronjobs", "CronJob", True, ("cj",), ("status",), categories=ALL),
    _rt(
        "autoscaling",
        "v1",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        ("hpa",),
        ("status",),
        categories=ALL,
    ),
    _rt("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), ("status",)),
]

# Kinds whose DELETE answers the object instead of a Status (the typed client deserialises it).
DELETE_RETURNS_OBJECT = {("", "pods"), ("", "services"), ("", "namespaces")}


class Registry:
    """Lookup of served resources, mutable as CRDs come and go."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        # group -> ordered versions; the first is the preferred one
        self._versions: dict[str, list[str]] = {}
        for rt in BUILTINS:
            self.add(rt)

    def add(self, rt: ResourceType) -> None:
        self._types[(rt.group, rt.version, rt.plural)] = rt
        versions = self._versions.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)

    def remove_group_resource(self, group: str, plural: str) -> None:
        for key in [k for k in self._types if k[0] == group and k[2] == plural]:
            del self._types[key]
        remaining = sorted(
            {k[1] for k in self._types if k[0] == group}, key=self._versions.get(group, []).index
        )
        if remaining:
            self._versions[group] = remaining
        else:
            self._versions.pop(group, None)

    def set_version_order(self, group: str, versions: list[str]) -> None:
        served = [v for v in versions if (group, v) in {(k[0], k[1]) for k in self._types}]
        others = [v for v in self._versions.get(group, []) if v not in served]
        self._versions[group] = served + others

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def groups(self) -> dict[str, list[str]]:
        """Group -> versions (preferred first), core group excluded."""
        return {g: list(v) for g, v in self._versions.items() if g}

    def has_group_version(self, group: str, version: str) -> bool:
        return version in self._versions.get(group, [])

    def resources(self, group: str, version: str) -> list[ResourceType]:
        return [rt for (g, v, _), rt in sorted(self._types.items()) if g == group and v == version]

    def by_key(self, key: tuple[str, str]) -> list[ResourceType]:
        return [rt for rt in self._types.values() if rt.key == key]

    def all_keys(self) -> set[tuple[str, str]]:
        return {rt.key for rt in self._types.values()}


def resource_types_from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """Each served version of a CRD as a ResourceType."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    result = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subs = version.get("subresources") or {}
        scale = subs.get("scale") or {}
        result.append(
            ResourceType(
                group=group,
                version=version["name"],
                plural=names.get("plural", ""),
                kind=names.get("kind", ""),
                namespaced=namespaced,
                singular=names.get("singular") or names.get("kind", "").lower(),
                short_names=tuple(names.get("shortNames") or ()),
                subresources=frozenset(k for k in ("status", "scale") if k in subs),
                categories=tuple(names.get("categories") or ()),
                custom=True,
                scale_paths=(
                    scale.get("specReplicasPath", ".spec.replicas"),
                    scale.get("statusReplicasPath", ".status.replicas"),
                    scale.get("labelSelectorPath"),
                ),
                printer_columns=tuple(
                    (c.get("name", ""), c.get("type", "string"), c.get("jsonPath", ""))
                    for c in version.get("additionalPrinterColumns") or []
                ),
            )
        )
    return result


def storage_version(crd: dict[str, Any]) -> str:
    versions = (crd.get("spec") or {}).get("versions") or []
    for version in versions:
        if version.get("storage"):
            return version["name"]
    return versions[0]["name"] if versions else "v1"

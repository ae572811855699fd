"""The live Pods of a workload (`deployment/<name>`, `statefulset/<name>`, `pod/<name>`) and one container.

Workloads are found by their own label selector (matchLabels and matchExpressions), as their controllers do.
"""

from __future__ import annotations

from collections.abc import Mapping

from gefyra.errors import ProviderError
from gefyra.providers.kube.boundary import Kube, KubeObject

KINDS = {"deployment": "Deployment", "statefulset": "StatefulSet", "pod": "Pod"}


def selector_text(selector: Mapping[str, object]) -> str:
    """A LabelSelector (matchLabels, matchExpressions) as the API's `labelSelector` query text."""
    labels = selector.get("matchLabels")
    parts = [f"{k}={v}" for k, v in sorted(labels.items())] if isinstance(labels, Mapping) else []
    expressions = selector.get("matchExpressions")
    for item in expressions if isinstance(expressions, list) else []:
        if not isinstance(item, Mapping):
            continue
        key, operator, values = item.get("key"), item.get("operator"), item.get("values")
        listed = ",".join(str(v) for v in values) if isinstance(values, list) else ""
        if operator == "In":
            parts.append(f"{key} in ({listed})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({listed})")
        elif operator == "Exists":
            parts.append(str(key))
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def live(pod: KubeObject) -> bool:
    """Running and not being deleted."""
    return pod.status.get("phase") == "Running" and pod.metadata.deletion_timestamp is None


def live_pods(kube: Kube, kind: str, name: str, namespace: str) -> list[KubeObject]:
    """The workload's running Pods, sorted by name; ProviderError when the workload does not exist."""
    api_kind = KINDS[kind]
    workload = kube.find(api_kind, name, namespace)
    if workload is None:
        raise ProviderError(f"{kind}/{name} does not exist in namespace {namespace}")
    if api_kind == "Pod":
        return [workload] if live(workload) else []
    selector = workload.spec.get("selector")
    text = selector_text(selector) if isinstance(selector, Mapping) else ""
    if not text:
        raise ProviderError(f"{kind}/{name} in namespace {namespace} has no Pod selector")
    return sorted((p for p in kube.list("Pod", namespace, labels=text) if live(p)), key=lambda p: p.name)


def pod_container(pod: KubeObject, container: str | None) -> Mapping[str, object]:
    """The named container of `pod` (default: its first)."""
    found = pod.spec.get("containers")
    containers = [c for c in found if isinstance(c, Mapping)] if isinstance(found, list) else []
    if container is None and containers:
        return containers[0]
    for item in containers:
        if item.get("name") == container:
            return item
    names = ", ".join(str(c.get("name")) for c in containers) or "none"
    raise ProviderError(f"Pod {pod.name} has no container {container!r} (it has: {names})")

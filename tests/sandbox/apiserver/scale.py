"""The `scale` subresource: an autoscaling/v1 Scale view of workloads and CRDs that declare one."""

from __future__ import annotations

from typing import Any

from .registry import ResourceType
from .selection import selector_to_string


def path_get(obj: dict[str, Any], path: str | None) -> Any:
    node: Any = obj
    for part in (path or "").strip(".").split("."):
        if not part or not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def scale_of(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    spec_path, status_path, selector_path = rt.scale_paths
    if rt.custom:
        selector = path_get(obj, selector_path) or ""
    else:
        selector = selector_to_string((obj.get("spec") or {}).get("selector"))
    md = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: md.get(key) for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        },
        "spec": {"replicas": path_get(obj, spec_path) or 0},
        "status": {"replicas": path_get(obj, status_path) or 0, "selector": selector},
    }


def set_replicas(rt: ResourceType, obj: dict[str, Any], replicas: int) -> None:
    """Write `replicas` at the kind's spec replicas path (in place)."""
    node = obj
    parts = rt.scale_paths[0].strip(".").split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = replicas

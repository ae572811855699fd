"""Server-side printing: `meta.k8s.io/v1 Table` answers for `kubectl get` (`Accept: ...;as=Table`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .registry import ResourceType

Cell = Callable[[dict[str, Any]], Any]


def age(obj: dict[str, Any]) -> str:
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    seconds = int(
        (
            datetime.now(UTC) - datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        ).total_seconds()
    )
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * 2:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _pod_ready(pod: dict[str, Any]) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(pod: dict[str, Any]) -> str:
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return waiting["reason"]
    return (pod.get("status") or {}).get("phase", "Pending")


def _ports(svc: dict[str, Any]) -> str:
    ports = (svc.get("spec") or {}).get("ports") or []
    text = [
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
        for p in ports
    ]
    return ",".join(text) or "<none>"


def _status(obj: dict[str, Any], field: str, default: Any = 0) -> Any:
    return (obj.get("status") or {}).get(field, default)


COLUMNS: dict[tuple[str, str], list[tuple[str, str, Cell]]] = {
    ("", "pods"): [
        ("Ready", "string", _pod_ready),
        ("Status", "string", _pod_status),
        (
            "Restarts",
            "string",
            lambda p: str(sum(s.get("restartCount", 0) for s in _status(p, "containerStatuses", []) or [])),
        ),
    ],
    ("", "services"): [
        ("Type", "string", lambda s: s["spec"].get("type", "ClusterIP")),
        ("Cluster-IP", "string", lambda s: s["spec"].get("clusterIP") or "<none>"),
        ("Port(s)", "string", _ports),
    ],
    ("", "namespaces"): [("Status", "string", lambda n: _status(n, "phase", "Active"))],
    ("apps", "deployments"): [
        ("Ready", "string", lambda d: f"{_status(d, 'readyReplicas')}/{d['spec'].get('replicas', 1)}"),
        ("Up-to-date", "integer", lambda d: _status(d, "updatedReplicas")),
        ("Available", "integer", lambda d: _status(d, "availableReplicas")),
    ],
    ("apps", "replicasets"): [
        ("Desired", "integer", lambda r: r["spec"].get("replicas", 1)),
        ("Current", "integer", lambda r: _status(r, "replicas")),
        ("Ready", "integer", lambda r: _status(r, "readyReplicas")),
    ],
    ("", "configmaps"): [
        ("Data", "integer", lambda c: len(c.get("data") or {}) + len(c.get("binaryData") or {}))
    ],
    ("", "secrets"): [
        ("Type", "string", lambda s: s.get("type", "Opaque")),
        ("Data", "integer", lambda s: len(s.get("data") or {})),
    ],
    ("", "endpoints"): [("Endpoints", "string", lambda e: _endpoints(e))],
    ("", "nodes"): [("Status", "string", lambda n: _node_ready(n))],
}

# Extra columns of `-o wide` (priority 1), printed after Age.
WIDE: dict[tuple[str, str], list[tuple[str, str, Cell]]] = {
    ("", "pods"): [
        ("IP", "string", lambda p: _status(p, "podIP", "") or "<none>"),
        ("Node", "string", lambda p: (p.get("spec") or {}).get("nodeName") or "<none>"),
    ],
    ("", "services"): [
        (
            "Selector",
            "string",
            lambda s: (
                ",".join(f"{k}={v}" for k, v in sorted(((s.get("spec") or {}).get("selector") or {}).items()))
                or "<none>"
            ),
        )
    ],
}


def _endpoints(endpoints: dict[str, Any]) -> str:
    pairs = [
        f"{a.get('ip')}:{p.get('port')}"
        for subset in endpoints.get("subsets") or []
        for a in subset.get("addresses") or []
        for p in subset.get("ports") or [{}]
    ]
    return ",".join(pairs) or "<none>"


def _node_ready(node: dict[str, Any]) -> str:
    ready = [c for c in _status(node, "conditions", []) or [] if c.get("type") == "Ready"]
    return "Ready" if ready and ready[0].get("status") == "True" else "NotReady"


def _custom_columns(rt: ResourceType) -> list[tuple[str, str, Cell]]:
    """additionalPrinterColumns with simple `.a.b` JSONPaths (the common case); Age is added anyway."""
    from .scale import path_get

    def cell(path: str) -> Cell:
        return lambda obj: "" if (value := path_get(obj, path)) is None else value

    return [
        (name, kind, cell(path))
        for name, kind, path in rt.printer_columns
        if path != ".metadata.creationTimestamp"
    ]


def table(
    rt: ResourceType, objects: list[dict[str, Any]], resource_version: str, include_object: str = "Metadata"
) -> dict[str, Any]:
    extra = _custom_columns(rt) if rt.custom else COLUMNS.get(rt.key, [])
    definitions = [{"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}]
    definitions += [
        {"name": n, "type": t, "format": "", "description": n, "priority": 0} for n, t, _ in extra
    ]
    definitions.append({"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0})
    wide = [] if rt.custom else WIDE.get(rt.key, [])
    definitions += [{"name": n, "type": t, "format": "", "description": n, "priority": 1} for n, t, _ in wide]
    rows = []
    for obj in objects:
        cells = [obj["metadata"]["name"], *(cell(obj) for _, _, cell in extra), age(obj)]
        cells += [cell(obj) for _, _, cell in wide]
        if include_object == "Object":
            row_object: dict[str, Any] | None = obj
        elif include_object == "None":
            row_object = None
        else:
            row_object = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            }
        rows.append({"cells": cells, "object": row_object})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }


def wants_table(accept: str) -> bool:
    return "as=Table" in accept

"""CustomResourceDefinitions: validation and status on write, (un)registering their kinds in the registry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import errors
from .registry import Registry, resource_types_from_crd
from .store import Store

KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def _condition(kind: str, reason: str, message: str, stamp: str) -> dict[str, str]:
    return {"type": kind, "status": "True", "reason": reason, "message": message, "lastTransitionTime": stamp}


def prepare(crd: dict[str, Any], old: dict[str, Any] | None = None) -> None:
    """Reject a misnamed CRD and mark it NamesAccepted + Established, as the apiextensions controllers do."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = crd["metadata"]["name"]
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if name != expected:
        message = f'metadata.name: Invalid value: must be spec.names.plural+"."+spec.group ({expected})'
        raise errors.invalid("CustomResourceDefinition", name, message)
    versions = spec.get("versions") or []
    if not versions:
        raise errors.invalid("CustomResourceDefinition", name, "spec.versions: Required value")
    accepted = dict(names)
    accepted.setdefault("singular", names.get("kind", "").lower())
    accepted.setdefault("listKind", f"{names.get('kind')}List")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if old is not None and (old.get("status") or {}).get("conditions"):
        stamp = old["status"]["conditions"][0].get("lastTransitionTime", stamp)  # no change without a reason
    crd["status"] = {
        "acceptedNames": accepted,
        "storedVersions": [v["name"] for v in versions if v.get("storage")] or [versions[0]["name"]],
        "conditions": [
            _condition("NamesAccepted", "NoConflicts", "no conflicts found", stamp),
            _condition("Established", "InitialNamesAccepted", "the initial names have been accepted", stamp),
        ],
    }


def _group_plural(crd: dict[str, Any]) -> tuple[str, str]:
    spec = crd.get("spec") or {}
    return spec.get("group", ""), (spec.get("names") or {}).get("plural", "")


def register(registry: Registry, crd: dict[str, Any]) -> None:
    """Serve every served version of the CRD (replacing what an older revision of it served)."""
    group, plural = _group_plural(crd)
    registry.remove_group_resource(group, plural)
    for rt in resource_types_from_crd(crd):
        registry.add(rt)
    registry.set_version_order(group, [v["name"] for v in (crd.get("spec") or {}).get("versions") or []])


def unregister(registry: Registry, store: Store, crd: dict[str, Any]) -> None:
    """Stop serving the kind and drop its objects (each one a DELETED event)."""
    group, plural = _group_plural(crd)
    registry.remove_group_resource(group, plural)
    store.drop_kind((group, plural))

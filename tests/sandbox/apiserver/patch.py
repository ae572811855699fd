"""PATCH bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and Kubernetes strategic merge patch."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

from .errors import ApiError, bad_request, unsupported_media_type

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# Kubernetes patchMergeKey of list fields (by field name; `ports` depends on its items, see _merge_key).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "secrets": "name",
    "addresses": "type",
    "readinessGates": "conditionType",
    "resourceClaims": "name",
}
# Primitive lists merged as sets (patchStrategy: merge without a key).
SET_LISTS = {"finalizers"}

_DELETE = object()


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        dicts = [i for i in items if isinstance(i, dict) and "$patch" not in i]
        return "containerPort" if any("containerPort" in i for i in dicts) else "port"
    return MERGE_KEYS.get(field)


def _clean(value: Any) -> Any:
    """A patch value with every directive removed (used where it replaces what was there)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")]
    return value


def _order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """Apply `$setElementOrder`: listed elements first in that order, the server's others after them."""

    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) if isinstance(o, dict) and key else o for o in order]
    ranked = {value: index for index, value in enumerate(wanted)}
    listed = sorted((i for i in items if ident(i) in ranked), key=lambda i: ranked[ident(i)])
    return listed + [i for i in items if ident(i) not in ranked]


def _merge_list(field: str, original: list[Any], patch: list[Any]) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [_clean(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    key = _merge_key(field, original + patch)
    if key is None or not all(isinstance(p, dict) for p in patch):
        if field in SET_LISTS:
            return list(original) + [p for p in patch if p not in original]
        return _clean(patch)
    result = [copy.deepcopy(o) for o in original]
    for item in patch:
        position = next(
            (i for i, o in enumerate(result) if isinstance(o, dict) and o.get(key) == item.get(key)), None
        )
        if item.get("$patch") == "delete":
            result = [o for o in result if not (isinstance(o, dict) and o.get(key) == item.get(key))]
        elif position is None:
            merged = _merge_map({}, item)
            if merged is not _DELETE:
                result.append(merged)
        else:
            merged = _merge_map(result[position], item)
            if merged is _DELETE:
                del result[position]
            else:
                result[position] = merged
    return result


def _merge_map(original: dict[str, Any], patch: dict[str, Any]) -> Any:
    patch = dict(patch)
    directive = patch.pop("$patch", None)
    if directive == "replace":
        return _clean(patch)
    if directive == "delete":
        return _DELETE
    result = copy.deepcopy(original)
    retain = patch.pop("$retainKeys", None)
    if retain is not None:
        result = {k: v for k, v in result.items() if k in retain}
    orders: dict[str, list[Any]] = {}
    removals: dict[str, list[Any]] = {}
    for name in [k for k in patch if k.startswith("$")]:
        prefix, _, field = name.partition("/")
        value = patch.pop(name)
        if prefix == "$setElementOrder":
            orders[field] = value
        elif prefix == "$deleteFromPrimitiveList":
            removals[field] = value
    for name, value in patch.items():
        current = result.get(name)
        if value is None:
            result.pop(name, None)
        elif isinstance(value, dict):
            merged = _merge_map(current if isinstance(current, dict) else {}, value)
            if merged is _DELETE:
                result.pop(name, None)
            else:
                result[name] = merged
        elif isinstance(value, list):
            result[name] = _merge_list(name, current if isinstance(current, list) else [], value)
        else:
            result[name] = value
    for field, values in removals.items():
        if isinstance(result.get(field), list):
            result[field] = [v for v in result[field] if v not in values]
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _order(result[field], order, _merge_key(field, result[field]))
    return result


def strategic_merge(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = _merge_map(original, patch)
    return {} if merged is _DELETE else merged


def merge_patch(original: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def json_patch(original: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    try:
        return jsonpatch.apply_patch(original, operations)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
        # a failed `test` op (JsonPatchTestFailed) lands here too: 422, as upstream
        message = f"the server rejected our request due to an error in our request: {error}"
        raise ApiError(422, "Invalid", message) from error


def apply_patch(original: dict[str, Any], body: Any, content_type: str, custom: bool) -> dict[str, Any]:
    """Dispatch on the request's Content-Type; no strategic merge for custom resources."""
    accepted = [JSON_PATCH, MERGE_PATCH] + ([] if custom else [STRATEGIC_PATCH])
    if content_type == JSON_PATCH:
        return json_patch(original, body)
    if content_type == MERGE_PATCH:
        if not isinstance(body, dict):
            raise bad_request("merge patch must be a JSON object")
        return merge_patch(original, body)
    if content_type == STRATEGIC_PATCH and not custom:
        if not isinstance(body, dict):
            raise bad_request("strategic merge patch must be a JSON object")
        return strategic_merge(original, body)
    raise unsupported_media_type(content_type, accepted)

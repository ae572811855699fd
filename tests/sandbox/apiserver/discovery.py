"""Discovery documents: /version, /api, /apis, /apis/{group} and each group version's resource list."""

from __future__ import annotations

import hashlib
from typing import Any

from .registry import Registry, ResourceType

VERSION = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.0-gefyra-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-04-17T00:00:00Z",
    "goVersion": "go1.22.2",
    "compiler": "gc",
    "platform": "linux/amd64",
}

SUB_KINDS = {
    "scale": ("autoscaling", "v1", "Scale", ["get", "patch", "update"]),
    "token": ("authentication.k8s.io", "v1", "TokenRequest", ["create"]),
    "finalize": ("", "", "", ["update"]),
    "status": ("", "", "", ["get", "patch", "update"]),
    "binding": ("", "", "Binding", ["create"]),
    "log": ("", "", "Pod", ["get"]),
}


def api_versions(address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def group_list(registry: Registry) -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, versions) for name, versions in sorted(registry.groups().items())],
    }


def group(registry: Registry, name: str) -> dict[str, Any] | None:
    versions = registry.groups().get(name)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _entry(rt: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
        "storageVersionHash": hashlib.sha256(f"{rt.group}/{rt.plural}".encode()).hexdigest()[:12],
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def resource_list(registry: Registry, group_name: str, version: str) -> dict[str, Any]:
    resources = []
    for rt in registry.resources(group_name, version):
        resources.append(_entry(rt))
        for sub in sorted(rt.subresources):
            sub_group, sub_version, sub_kind, verbs = SUB_KINDS[sub]
            entry = {
                "name": f"{rt.plural}/{sub}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": sub_kind or rt.kind,
                "verbs": verbs,
            }
            if sub_group:
                entry.update(group=sub_group, version=sub_version)
            resources.append(entry)
    group_version = f"{group_name}/{version}" if group_name else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }

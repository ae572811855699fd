"""What a kubelet computes for a container before it starts it: environment (env, envFrom, valueFrom, service
links, $(VAR) expansion) and the downward API values. Pure functions over dicts; lookups are passed in.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Lookup = Callable[[str, str], Obj | None]  # (namespace, name) -> object or None


class ConfigError(Exception):
    """A referenced ConfigMap/Secret/key is missing: the container waits with CreateContainerConfigError."""


def field_value(pod: Obj, path: str, pod_ip: str, host_ip: str) -> str:
    """The value of a fieldRef (the downward API)."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return simple[path]
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return (meta.get(match.group(1)) or {}).get(match.group(2), "")
    if path in ("metadata.labels", "metadata.annotations"):
        items = sorted((meta.get(path.split(".")[1]) or {}).items())
        return "\n".join(f'{k}="{v}"' for k, v in items)
    raise ConfigError(f"unsupported fieldPath {path!r}")


def decoded(secret: Obj) -> dict[str, str]:
    return {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes $(VAR) expansion: known names are replaced, unknown ones stay, $$ escapes a dollar."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", replace, text)


def service_links(services: list[Obj]) -> dict[str, str]:
    """The docker-links style variables a kubelet injects for every Service of the Pod's namespace."""
    env: dict[str, str] = {}
    for service in services:
        spec = service.get("spec") or {}
        ip = spec.get("clusterIP")
        if not ip or ip == "None" or not spec.get("ports"):
            continue
        prefix = service["metadata"]["name"].upper().replace("-", "_")
        first = spec["ports"][0]
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(first["port"])
        for port in spec["ports"]:
            proto = port.get("protocol", "TCP").lower()
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
            base = f"{prefix}_PORT_{port['port']}_{proto.upper()}"
            env[base] = f"{proto}://{ip}:{port['port']}"
            env[f"{base}_PROTO"] = proto
            env[f"{base}_PORT"] = str(port["port"])
            env[f"{base}_ADDR"] = ip
        env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
    return env


def required(lookup: Lookup, namespace: str, name: str, optional: Any, kind: str) -> Obj | None:
    """The named ConfigMap or Secret; None when it is missing and `optional`, else missing is an error."""
    found = lookup(namespace, name)
    if found is None and not optional:
        raise ConfigError(f'{kind} "{name}" not found')
    return found


def _from_source(source: Obj, namespace: str, configmap: Lookup, secret: Lookup) -> dict[str, str]:
    if "configMapRef" in source:
        ref = source["configMapRef"]
        found = required(configmap, namespace, ref["name"], ref.get("optional"), "configmap")
        if found is None:
            return {}
        data = dict(found.get("data") or {})
    elif "secretRef" in source:
        ref = source["secretRef"]
        found = required(secret, namespace, ref["name"], ref.get("optional"), "secret")
        if found is None:
            return {}
        data = decoded(found)
    else:
        return {}
    prefix = source.get("prefix", "")
    return {prefix + k: v for k, v in data.items()}


def _value_from(
    ref: Obj, pod: Obj, pod_ip: str, host_ip: str, configmap: Lookup, secret: Lookup
) -> str | None:
    namespace = pod["metadata"].get("namespace", "default")
    if "fieldRef" in ref:
        return field_value(pod, ref["fieldRef"]["fieldPath"], pod_ip, host_ip)
    if "resourceFieldRef" in ref:
        return "0"  # no resource accounting in the sandbox; real kubelets report node capacity when unset
    kind, lookup, field = (
        ("configmap", configmap, "configMapKeyRef")
        if "configMapKeyRef" in ref
        else ("secret", secret, "secretKeyRef")
    )
    key_ref = ref[field]
    found = lookup(namespace, key_ref["name"])
    values = None if found is None else (decoded(found) if kind == "secret" else (found.get("data") or {}))
    if values is None or key_ref["key"] not in values:
        if key_ref.get("optional"):
            return None
        what = f'{kind} "{key_ref["name"]}"' if values is None else f'key "{key_ref["key"]}" in {kind}'
        raise ConfigError(f"{what} not found")
    return values[key_ref["key"]]


def container_env(
    container: Obj,
    pod: Obj,
    pod_ip: str,
    host_ip: str,
    services: list[Obj],
    configmap: Lookup,
    secret: Lookup,
) -> dict[str, str]:
    """The final environment of one container, in the kubelet's order of precedence."""
    namespace = pod["metadata"].get("namespace", "default")
    env: dict[str, str] = {}
    if (pod.get("spec") or {}).get("enableServiceLinks", True):
        env.update(service_links([s for s in services if s["metadata"].get("namespace") == namespace]))
    api = [
        s
        for s in services
        if s["metadata"].get("namespace") == "default" and s["metadata"]["name"] == "kubernetes"
    ]
    env.update({k: v for k, v in service_links(api).items()})
    if api:
        env["KUBERNETES_SERVICE_PORT_HTTPS"] = env.get("KUBERNETES_SERVICE_PORT", "443")
    for source in container.get("envFrom") or []:
        env.update(_from_source(source, namespace, configmap, secret))
    for item in container.get("env") or []:
        if "valueFrom" in item:
            value = _value_from(item["valueFrom"], pod, pod_ip, host_ip, configmap, secret)
            if value is None:
                continue
            env[item["name"]] = value
        else:
            env[item["name"]] = expand(item.get("value", ""), env)
    return env

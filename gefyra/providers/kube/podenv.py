"""A container's environment as its kubelet computes it, from the Pod spec and the objects it names (pure).

Order of precedence (later wins): service links (`<SERVICE>_SERVICE_HOST`, ..., with `enableServiceLinks`,
the default) and the API server's `KUBERNETES_SERVICE_*`, then each `envFrom` source in order (ConfigMaps and
Secrets, with `prefix`), then each `env` entry in order: `value` (with `$(VAR)` expansion over what is defined
so far, `$$` for a literal dollar) or `valueFrom` (`configMapKeyRef`, `secretKeyRef`, `fieldRef`). A missing
object or key is an EnvProblem unless the reference is `optional`. Messages name objects, keys and variables,
never a value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gefyra.errors import ProviderError

Json = Mapping[str, object]
# (kind "ConfigMap" | "Secret", name) -> its data as text, or None when the object does not exist.
Lookup = Callable[[str, str], Mapping[str, str] | None]
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")  # what the API server accepts as a variable name
_EXPAND = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class EnvProblem(ProviderError):
    """A reference of the Pod's environment cannot be resolved (the object, the key or the field)."""


def _map(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _list(value: object) -> list[Json]:
    return [_map(item) for item in value] if isinstance(value, list) else []


@dataclass(frozen=True)
class PodFacts:
    """The parts of a live Pod the downward API reads."""

    metadata: Json
    spec: Json
    status: Json

    @property
    def namespace(self) -> str:
        return _text(self.metadata.get("namespace")) or "default"


def field_value(pod: PodFacts, path: str) -> str:
    """A `fieldRef` (the downward API) of the live Pod."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": status.get("podIP"),
        "status.hostIP": status.get("hostIP"),
    }
    if path in simple:
        return _text(simple[path])
    if path in ("status.podIPs", "status.hostIPs"):
        items = _list(status.get(path.split(".")[1]))
        return ",".join(_text(item.get("ip")) for item in items) or _text(status.get(path[:-1]))
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return _text(_map(meta.get(match.group(1))).get(match.group(2)))
    raise EnvProblem(f"fieldRef {path!r} is not supported")


def expand(text: str, env: Mapping[str, str]) -> str:
    """`$(VAR)` -> the value defined so far (unknown names stay as written), `$$` -> `$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _EXPAND.sub(replace, text)


def decode_secret(data: Mapping[str, str], where: str) -> dict[str, str]:
    """A Secret's `data` (base64, as the API returns it) as text."""
    try:
        return {key: base64.b64decode(value).decode() for key, value in data.items()}
    except (binascii.Error, UnicodeDecodeError):
        raise EnvProblem(f"{where} holds a value that is not base64 UTF-8 text") from None


def service_links(services: Sequence[Json], namespace: str) -> dict[str, str]:
    """The docker-links style variables a kubelet sets for each Service of the Pod's namespace."""
    env: dict[str, str] = {}
    for service in services:
        meta, spec = _map(service.get("metadata")), _map(service.get("spec"))
        ip, ports = _text(spec.get("clusterIP")), _list(spec.get("ports"))
        if _text(meta.get("namespace")) != namespace or not ip or ip == "None" or not ports:
            continue
        prefix = _text(meta.get("name")).upper().replace("-", "_")
        first = ports[0]
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(first.get("port"))
        for port in ports:
            proto, number = (_text(port.get("protocol")) or "TCP").lower(), str(port.get("port"))
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_text(port.get('name')).upper().replace('-', '_')}"] = number
            base = f"{prefix}_PORT_{number}_{proto.upper()}"
            env.update({base: f"{proto}://{ip}:{number}", f"{base}_PROTO": proto})
            env.update({f"{base}_PORT": number, f"{base}_ADDR": ip})
        env[f"{prefix}_PORT"] = (
            f"{(_text(first.get('protocol')) or 'TCP').lower()}://{ip}:{first.get('port')}"
        )
    return env


def _required(lookup: Lookup, kind: str, name: str, optional: object, namespace: str) -> Mapping[str, str]:
    found = lookup(kind, name)
    if found is None and not optional:
        raise EnvProblem(f"{kind} {namespace}/{name} does not exist")
    return found or {}


def _from_source(source: Json, lookup: Lookup, namespace: str) -> dict[str, str]:
    for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
        if field in source:
            ref = _map(source.get(field))
            data = _required(lookup, kind, _text(ref.get("name")), ref.get("optional"), namespace)
            prefix = _text(source.get("prefix"))
            # Like the kubelet: keys that are no variable name are left out.
            return {prefix + k: v for k, v in data.items() if _ENV_NAME.match(prefix + k)}
    return {}


def _value_from(name: str, ref: Json, pod: PodFacts, lookup: Lookup) -> str | None:
    if "fieldRef" in ref:
        return field_value(pod, _text(_map(ref.get("fieldRef")).get("fieldPath")))
    for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
        if field in ref:
            key_ref = _map(ref.get(field))
            object_name, key = _text(key_ref.get("name")), _text(key_ref.get("key"))
            found = lookup(kind, object_name)
            if found is not None and key in found:
                return found[key]
            if key_ref.get("optional"):
                return None
            where = f"{kind} {pod.namespace}/{object_name}"
            raise EnvProblem(f"{where} does not exist" if found is None else f"{where} has no key {key!r}")
    what = next(iter(ref), "valueFrom")
    raise EnvProblem(f"variable {name}: {what} is not supported (set the value with env in gefyra.yaml)")


def container_env(
    container: Json, pod: PodFacts, services: Sequence[Json], lookup: Lookup, *, api_service: Json | None
) -> dict[str, str]:
    """The environment of `container` in `pod`, in the kubelet's order of precedence."""
    env: dict[str, str] = {}
    if pod.spec.get("enableServiceLinks", True) is not False:
        env.update(service_links(services, pod.namespace))
    if api_service is not None:
        env.update(service_links([api_service], "default"))
        if "KUBERNETES_SERVICE_PORT" in env:
            env["KUBERNETES_SERVICE_PORT_HTTPS"] = env["KUBERNETES_SERVICE_PORT"]
    for source in _list(container.get("envFrom")):
        env.update(_from_source(source, lookup, pod.namespace))
    for item in _list(container.get("env")):
        name = _text(item.get("name"))
        if "valueFrom" in item:
            try:
                value = _value_from(name, _map(item.get("valueFrom")), pod, lookup)
            except EnvProblem as problem:
                raise EnvProblem(f"variable {name}: {problem.message}") from None
            if value is not None:
                env[name] = value
        else:
            env[name] = expand(_text(item.get("value")), env)
    return env

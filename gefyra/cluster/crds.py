"""GefyraClient and GefyraBridge: pydantic models of spec and status, and their CRD manifests (generated).

The models are the single source: `schemas/crds/*.yaml` is `crd_manifest(kind)` written by
`python -m gefyra.cluster.crds --write` (a test fails when the files are stale). Field names are camelCase in
the cluster (aliases), snake_case in Python.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from gefyra.cluster import names

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
TARGET = r"^(deployment|statefulset|pod)/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
REASON = r"^[A-Za-z]([A-Za-z0-9_]*[A-Za-z0-9])?$"


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )


class Condition(_Model):
    """A Kubernetes-style condition (`kubectl wait --for=condition=Ready` works on it)."""

    type: str = Field(description="Ready, PeerProvisioned, TunnelUp, Bridged, ...")
    status: Literal["True", "False", "Unknown"]
    reason: str = Field(pattern=REASON, description="One CamelCase word.")
    message: str = Field("", description="What happened, for humans.")
    last_transition_time: str = Field(description="RFC 3339 time of the last status change.")


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.IPv4Network(value, strict=True))
    except ValueError as error:
        raise ValueError(f"{value!r} is not an IPv4 network: {error}") from None


# ---------------------------------------------------------------------------------------------- GefyraClient
class GefyraClientSpec(_Model):
    """A developer's machine: one WireGuard peer at Stowaway, reaped when its tunnel stays silent."""

    project: str = Field(pattern=DNS_LABEL, max_length=63, description="The project name of gefyra.yaml.")
    client_id: str = Field(
        pattern=DNS_LABEL, max_length=63, description="Stable id of the machine (kept in ~/.gefyra)."
    )
    routed_subnets: list[str] = Field(
        default_factory=list,
        description="The project's Docker network(s): routed into this client's tunnel (bridges reach apps).",
    )
    client_timeout_seconds: int = Field(
        600, ge=10, le=7 * 24 * 3600, description="Silence of the tunnel after which the client is gone."
    )

    @field_validator("routed_subnets")
    @classmethod
    def _subnets(cls, value: list[str]) -> list[str]:
        return [_cidr(v) for v in value]


class GefyraClientStatus(_Model):
    phase: Literal["Pending", "Ready", "Failed", "Gone"] = Field(
        "Pending", description="Summary of conditions."
    )
    conditions: list[Condition] = Field(default_factory=list)
    tunnel_address: str | None = Field(None, description="The client's address in the tunnel subnet.")
    latest_handshake: str | None = Field(None, description="RFC 3339 time of the last WireGuard handshake.")
    peer_secret: str | None = Field(
        None, description="Secret in the gefyra namespace holding the peer config."
    )
    observed_generation: int | None = Field(None, description="metadata.generation this status describes.")


# ---------------------------------------------------------------------------------------------- GefyraBridge
class GefyraBridgeSpec(_Model):
    """Send the traffic of one container of a workload's Pods to a local container through a tunnel."""

    target: str = Field(
        pattern=TARGET, description="'deployment/<name>', 'statefulset/<name>' or 'pod/<name>'."
    )
    namespace: str = Field(pattern=DNS_LABEL, description="Namespace of the target.")
    container: str | None = Field(
        None, pattern=DNS_LABEL, description="Container to replace; default: the Pod's only container."
    )
    ports: dict[str, int] = Field(
        default_factory=dict,
        description="Container port -> local port (keys are port numbers); empty: every port, same number.",
    )
    client: str = Field(
        pattern=DNS_LABEL, description="Name of the GefyraClient whose tunnel gets the traffic."
    )
    local_ip: str = Field(
        description="IPv4 address of the local container (in a routed subnet of the client)."
    )

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: dict[str, int]) -> dict[str, int]:
        for key, local in value.items():
            if not re.fullmatch(r"[0-9]{1,5}", key) or not 1 <= int(key) <= 65535:
                raise ValueError(f"port key {key!r} is not a port number (1-65535)")
            if not 1 <= local <= 65535:
                raise ValueError(f"local port {local} of port {key} is out of range (1-65535)")
        return value

    @field_validator("local_ip")
    @classmethod
    def _ip(cls, value: str) -> str:
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IPv4 address: {error}") from None

    def kind_and_name(self) -> tuple[str, str]:
        kind, _, name = self.target.partition("/")
        return kind, name


PodState = Literal["Pending", "Bridged", "Failed", "Restored"]


class BridgedPod(_Model):
    """One Pod of the target: its original image (restore it exactly) and where it stands."""

    name: str
    uid: str
    container: str
    original_image: str | None = Field(
        None, description="The container's image before Carrier took its place."
    )
    state: PodState = "Pending"
    reason: str = Field("", description="Why the Pod is not bridged (empty when it is).")


class RoutePort(_Model):
    """A port of the bridged container: Carrier -> Stowaway's proxy port -> tunnel -> local container."""

    port: int = Field(ge=1, le=65535, description="The container's port (Carrier listens here).")
    local_port: int = Field(ge=1, le=65535, description="Port of the local container.")
    listen_port: int = Field(ge=1, le=65535, description="Stowaway's proxy port of this route.")
    route: str = Field(pattern=DNS_LABEL, description="Name of the route at Stowaway.")


class GefyraBridgeStatus(_Model):
    phase: Literal["Pending", "Active", "Failed", "Removing"] = Field("Pending", description="Summary.")
    conditions: list[Condition] = Field(default_factory=list)
    container: str | None = Field(None, description="The bridged container (resolved).")
    routes: list[RoutePort] = Field(default_factory=list)
    pods: list[BridgedPod] = Field(default_factory=list)
    stowaway_address: str | None = Field(
        None, description="Stowaway's Pod IP the Carriers were configured with (a change reloads them)."
    )
    observed_generation: int | None = None


# ---------------------------------------------------------------------------------------------- CRDs
KINDS: dict[str, tuple[str, str, type[BaseModel], type[BaseModel], list[dict[str, str]]]] = {
    names.CLIENT_KIND: (
        names.CLIENT_PLURAL,
        names.CLIENT_SINGULAR,
        GefyraClientSpec,
        GefyraClientStatus,
        [
            {"name": "Project", "type": "string", "jsonPath": ".spec.project"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Address", "type": "string", "jsonPath": ".status.tunnelAddress"},
            {"name": "Handshake", "type": "date", "jsonPath": ".status.latestHandshake"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    ),
    names.BRIDGE_KIND: (
        names.BRIDGE_PLURAL,
        names.BRIDGE_SINGULAR,
        GefyraBridgeSpec,
        GefyraBridgeStatus,
        [
            {"name": "Target", "type": "string", "jsonPath": ".spec.target"},
            {"name": "Namespace", "type": "string", "jsonPath": ".spec.namespace"},
            {"name": "Client", "type": "string", "jsonPath": ".spec.client"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    ),
}
SHORT_NAMES = {names.CLIENT_KIND: ["gfc"], names.BRIDGE_KIND: ["gfb"]}


def crd_manifest(kind: str) -> dict[str, Any]:
    """The CustomResourceDefinition of `kind`: v1, namespaced, status subresource, printer columns."""
    plural, singular, spec, status, columns = KINDS[kind]
    schema = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": structural_schema(spec),
            "status": structural_schema(status),
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{names.GROUP}", "labels": names.labels("crd")},
        "spec": {
            "group": names.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": singular,
                "shortNames": SHORT_NAMES[kind],
                "categories": ["gefyra"],
            },
            "versions": [
                {
                    "name": names.VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                }
            ],
        },
    }


def crd_manifests() -> list[dict[str, Any]]:
    return [crd_manifest(kind) for kind in KINDS]


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A Kubernetes structural schema from a model's JSON schema: `$ref`s inlined, `X | None` as
    `nullable`, no titles, no `additionalProperties: false` beside `properties` (Kubernetes prunes unknown
    fields instead), no `propertyNames` (unsupported; the model checks keys)."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    schema: dict[str, Any] = _structural(raw, defs)
    return schema


def _structural(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_structural(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
        extra = {k: v for k, v in node.items() if k != "$ref"}
        return _structural({**target, **extra}, defs)
    options = node.get("anyOf")
    if options and any(o == {"type": "null"} for o in options):
        rest = [o for o in options if o != {"type": "null"}]
        if len(rest) == 1:
            merged = {**{k: v for k, v in node.items() if k != "anyOf"}, **rest[0], "nullable": True}
            return _structural(merged, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "propertyNames") or (key == "default" and value is None):
            continue
        if key == "additionalProperties" and value is False:
            continue
        if key == "const":
            out["enum"] = [value]
            continue
        out[key] = _structural(value, defs) if key not in ("enum", "required", "default") else value
    return out


def crd_path(kind: str) -> str:
    return f"schemas/crds/{KINDS[kind][0]}.{names.GROUP}.yaml"


def crd_texts() -> dict[str, str]:
    """Path (relative to the repository) -> YAML text of every CRD, as committed."""
    from gefyra.cluster.yamltext import dump_all

    header = "# Generated from gefyra/cluster/crds.py: python -m gefyra.cluster.crds --write\n"
    return {crd_path(kind): header + dump_all([crd_manifest(kind)]) for kind in KINDS}


def main(argv: list[str]) -> int:
    """`--write`: regenerate schemas/crds/ under the current directory; `--check`: exit 1 when stale."""
    from pathlib import Path

    texts = crd_texts()
    if argv == ["--write"]:
        for path, text in texts.items():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
        return 0
    if argv == ["--check"]:
        stale = [p for p, t in texts.items() if not Path(p).is_file() or Path(p).read_text() != t]
        for path in stale:
            print(f"stale: {path}")
        return 1 if stale else 0
    print("usage: python -m gefyra.cluster.crds --write | --check")
    return 2


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))

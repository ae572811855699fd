"""The protobuf body decoder of the sandbox API server (pure: bytes in, JSON-shaped dicts out).

The bodies are written here by a tiny encoder that follows the wire format and the field numbers of the
Kubernetes generated.proto files; test_kubectl_versions.py proves the same against real kubectl binaries.
"""

from __future__ import annotations

import pytest

from tests.sandbox.apiserver.errors import ApiError
from tests.sandbox.apiserver.pbschema import MESSAGES, parse_table
from tests.sandbox.apiserver.protobuf import decode_body


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative numbers as 64-bit two's complement, as Go writes them
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def num(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def sub(field: int, *parts: bytes | str) -> bytes:
    data = b"".join(p.encode() if isinstance(p, str) else p for p in parts)
    return varint(field << 3 | 2) + varint(len(data)) + data


def entry(field: int, key: str, value: bytes | str) -> bytes:
    return sub(field, sub(1, key), value if isinstance(value, bytes) else sub(2, value))


def envelope(api_version: str, kind: str, raw: bytes, encoding: str = "") -> bytes:
    type_meta = sub(1, sub(1, api_version), sub(2, kind))
    return b"k8s\x00" + type_meta + sub(2, raw) + sub(3, encoding) + sub(4, "")


def test_configmap_with_maps_zero_values_and_unknown_fields() -> None:
    meta = sub(1, "settings") + sub(2, "") + sub(3, "dev") + entry(11, "app", "web") + num(7, 0)
    unknown = sub(99, "future") + varint(98 << 3 | 5) + b"\x01\x02\x03\x04" + num(97, 7)
    raw = sub(1, meta) + entry(2, "greeting", "hello") + entry(2, "empty", "") + unknown
    raw += entry(3, "blob", sub(2, b"\x00\xff"))
    assert decode_body(envelope("v1", "ConfigMap", raw)) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "dev", "labels": {"app": "web"}},
        "data": {"greeting": "hello", "empty": ""},
        "binaryData": {"blob": "AP8="},
    }


def test_deployment_pointers_int_or_string_quantities_and_time() -> None:
    meta = sub(1, sub(1, "web"), sub(8, num(1, 1_700_000_000)), sub(9, b""))
    port = sub(6, num(3, 8080), sub(4, "TCP"))
    resources = sub(8, entry(2, "cpu", sub(2, sub(1, "250m"))))
    container = sub(2, sub(1, "app"), sub(2, "echo:1"), port, resources, sub(3, "sleep"), sub(3, "1"))
    security = sub(14, sub(4, varint(1000) + varint(2000)), num(2, 0))
    template = sub(3, sub(1, b""), sub(2, container, security))
    strategy = sub(4, sub(1, "RollingUpdate"), sub(2, sub(1, num(1, 1), sub(3, "25%")), sub(2, num(2, 3))))
    spec = num(1, 0) + num(5, 0) + num(6, -1) + template + strategy
    body = decode_body(envelope("apps/v1", "Deployment", meta + sub(2, spec)))
    assert body["metadata"] == {"name": "web", "creationTimestamp": "2023-11-14T22:13:20Z"}
    assert body["spec"]["replicas"] == 0  # a pointer: 0 was asked for
    assert "minReadySeconds" not in body["spec"]  # not a pointer: 0 means unset
    assert body["spec"]["revisionHistoryLimit"] == -1
    assert body["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": 3}
    pod = body["spec"]["template"]
    assert pod["metadata"] == {}
    assert pod["spec"]["securityContext"] == {"supplementalGroups": [1000, 2000], "runAsUser": 0}
    assert pod["spec"]["containers"] == [
        {
            "name": "app",
            "image": "echo:1",
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "250m"}},
            "command": ["sleep", "1"],
        }
    ]


def test_inlined_messages_merge_into_their_parent() -> None:
    volume = sub(1, sub(1, "cfg"), sub(2, sub(19, sub(1, sub(1, "settings")), num(3, 0o644))))
    key_ref = sub(3, sub(4, sub(1, sub(1, "creds")), sub(2, "password")))
    container = sub(2, sub(1, "app"), sub(7, sub(1, "PASSWORD"), key_ref))
    body = decode_body(envelope("v1", "Pod", sub(1, sub(1, "p")) + sub(2, volume, container)))
    config_map = {"name": "settings", "defaultMode": 0o644}
    assert body["spec"]["volumes"] == [{"name": "cfg", "configMap": config_map}]
    env = body["spec"]["containers"][0]["env"]
    assert env == [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}]


def test_a_kind_without_a_table_is_415_naming_it_and_json() -> None:
    with pytest.raises(ApiError) as caught:
        decode_body(envelope("apps/v1", "StatefulSet", sub(1, sub(1, "db"))))
    assert caught.value.code == 415
    assert "apps/v1 StatefulSet" in caught.value.status()["message"]
    assert "application/json" in caught.value.status()["message"]


def test_an_encoded_envelope_is_415() -> None:
    with pytest.raises(ApiError) as caught:
        decode_body(envelope("v1", "ConfigMap", b"", encoding="gzip"))
    assert caught.value.code == 415
    assert "gzip" in caught.value.status()["message"]


@pytest.mark.parametrize(
    "body",
    [b'{"kind": "ConfigMap"}', envelope("v1", "ConfigMap", sub(1, sub(1, "x")))[:-8], b"k8s\x00\x0a\xff"],
    ids=["no magic", "truncated", "bad length"],
)
def test_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        decode_body(body)
    assert caught.value.code == 400


def test_the_table_names_only_messages_it_defines() -> None:
    with pytest.raises(ValueError, match=r"Broken\.spec names unknown message Missing"):
        parse_table({"Broken": "1 spec:Missing"})
    assert parse_table(MESSAGES)  # the shipped table is consistent

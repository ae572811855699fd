"""The CRD manifests are generated from the models, structural, current, and agree with the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from gefyra.cluster import names
from gefyra.cluster.crds import (
    KINDS,
    GefyraBridgeSpec,
    GefyraBridgeStatus,
    GefyraClientSpec,
    crd_manifest,
    crd_texts,
)
from gefyra.cluster.yamltext import load_all

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = {"$ref", "anyOf", "oneOf", "allOf", "propertyNames", "title", "const", "$defs"}


def _walk(node, path="schema"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


@pytest.mark.parametrize("path", sorted(crd_texts()))
def test_committed_crds_are_current(path):
    committed = (REPO / path).read_text(encoding="utf-8")
    assert committed == crd_texts()[path], f"{path} is stale: run `python -m gefyra.cluster.crds --write`"


def test_generator_check_command_reports_a_stale_file(tmp_path):
    env_path = {"PYTHONPATH": str(REPO)}
    run = [sys.executable, "-m", "gefyra.cluster.crds"]
    assert subprocess.run([*run, "--write"], cwd=tmp_path, env=env_path).returncode == 0
    assert subprocess.run([*run, "--check"], cwd=tmp_path, env=env_path).returncode == 0
    stale = tmp_path / "schemas/crds/gefyraclients.gefyra.dev.yaml"
    stale.write_text(stale.read_text().replace("tunnelAddress", "tunnelAddr"))
    done = subprocess.run([*run, "--check"], cwd=tmp_path, env=env_path, capture_output=True, text=True)
    assert done.returncode == 1 and "gefyraclients.gefyra.dev.yaml" in done.stdout


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_is_structural(kind):
    schema = crd_manifest(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        assert not FORBIDDEN & set(node), f"{path} has {FORBIDDEN & set(node)}"
        if "properties" in node and path.split(".")[-1] != "properties":
            assert node.get("type") == "object", path
            assert "additionalProperties" not in node, path


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_crd_has_status_subresource_printer_columns_and_labels(kind):
    crd = crd_manifest(kind)
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert {c["name"] for c in version["additionalPrinterColumns"]} >= {"Phase", "Age"}
    assert crd["metadata"]["labels"][names.COMPONENT] == "crd"
    assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.gefyra.dev"


def _openapi(kind: str) -> dict:
    """The CRD's schema as JSON Schema (nullable -> a null type) for jsonschema."""
    schema = crd_manifest(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for _, node in _walk(schema):
        if node.pop("nullable", False):
            node["type"] = [node["type"], "null"]
    return schema


def test_bridge_object_from_the_model_validates_against_the_crd_schema():
    spec = GefyraBridgeSpec(
        target="deployment/web", namespace="shop", ports={"8080": 8000}, client="alice", local_ip="172.30.0.5"
    )
    status = GefyraBridgeStatus.model_validate(
        {
            "phase": "Active",
            "container": "web",
            "pods": [{"name": "web-1", "uid": "u", "container": "web", "originalImage": "web:1"}],
            "routes": [{"port": 8080, "localPort": 8000, "listenPort": 10100, "route": "alice-web-8080"}],
        }
    )
    body = {
        "apiVersion": names.API_VERSION,
        "kind": names.BRIDGE_KIND,
        "metadata": {"name": "web"},
        "spec": spec.model_dump(exclude_none=True),
        "status": status.model_dump(),
    }
    assert body["spec"]["localIp"] == "172.30.0.5" and body["status"]["pods"][0]["originalImage"] == "web:1"
    jsonschema.validate(body, _openapi(names.BRIDGE_KIND))


def test_crd_schema_rejects_what_the_model_rejects():
    bad = {"target": "job/x", "namespace": "shop", "client": "alice", "localIp": "172.30.0.5"}
    with pytest.raises(ValidationError, match="target"):
        GefyraBridgeSpec.model_validate(bad)
    with pytest.raises(jsonschema.ValidationError, match="job/x"):
        jsonschema.validate({"spec": bad}, _openapi(names.BRIDGE_KIND))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("ports", {"http": 80}, "not a port number"),
        ("ports", {"80": 70000}, "out of range"),
        ("local_ip", "300.1.1.1", "IPv4"),
    ],
)
def test_bridge_spec_errors_name_the_field(field, value, message):
    data = {"target": "pod/x", "namespace": "n", "client": "c", "local_ip": "10.0.0.1", field: value}
    with pytest.raises(ValidationError, match=message):
        GefyraBridgeSpec.model_validate(data)


def test_client_spec_normalises_and_checks_routed_subnets():
    spec = GefyraClientSpec(project="shop", client_id="abc123", routed_subnets=["172.30.0.0/24"])
    assert spec.model_dump()["routedSubnets"] == ["172.30.0.0/24"]
    with pytest.raises(ValidationError, match="not an IPv4 network"):
        GefyraClientSpec(project="shop", client_id="abc", routed_subnets=["172.30.0.1/24"])


def test_committed_yaml_parses_to_the_manifest():
    for kind in KINDS:
        from gefyra.cluster.crds import crd_path

        assert load_all((REPO / crd_path(kind)).read_text()) == [crd_manifest(kind)]

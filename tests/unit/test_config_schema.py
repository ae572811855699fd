"""The committed JSON schema is current; gefyra.example.yaml and examples/*/gefyra.yaml are valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from gefyra.config import load
from gefyra.config.schema import SCHEMA_PATH, json_schema, schema_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "gefyra.example.yaml"
PROJECTS = sorted(REPO.glob("examples/*/gefyra.yaml"))
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def test_committed_schema_is_current():
    committed = (REPO / SCHEMA_PATH).read_text(encoding="utf-8")
    assert committed == schema_text(), (
        "schemas/gefyra.schema.json is stale: run `gefyra schema > " + SCHEMA_PATH + "`"
    )


def test_schema_forbids_unknown_keys_everywhere():
    schema = json_schema()
    objects = [schema, *schema["$defs"].values()]
    assert all(o.get("additionalProperties") is False for o in objects)
    assert schema["properties"]["containers"]["additionalProperties"] is False


def test_example_loads(monkeypatch):
    config = load(EXAMPLE, environ={})
    assert config.project.name == "shop"
    assert config.cluster is not None and config.cluster.context == "dev-cluster"
    assert config.containers["web"].resolved_env()["GREETING"] == "hello developer"
    assert str(config.bridges["worker"].target) == "statefulset/worker"


def test_example_uses_every_key_of_the_schema():
    used = _keys(YAML(typ="safe").load(EXAMPLE.read_text(encoding="utf-8")))
    schema = json_schema()
    defined = set(schema["properties"])
    for definition in schema["$defs"].values():
        defined |= set(definition.get("properties", {}))
    assert sorted(defined - used) == []


def test_example_comments_every_key():
    for number, line in enumerate(EXAMPLE.read_text(encoding="utf-8").splitlines(), start=1):
        if re.match(r"^\s*(- )?[a-z_]+:", line):
            assert "#" in line, f"gefyra.example.yaml:{number}: a key without a comment: {line.strip()}"


@pytest.mark.parametrize("path", [EXAMPLE, *PROJECTS], ids=lambda p: str(p.relative_to(REPO)))
def test_modeline_points_at_the_schema(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path}: first line must be the yaml-language-server modeline"
    target = (path.parent / match.group(1)).resolve()
    assert target == (REPO / SCHEMA_PATH).resolve()
    assert json.loads(target.read_text(encoding="utf-8"))["title"] == "gefyra.yaml"


def test_there_is_a_runnable_example_project():
    assert PROJECTS, "examples/ must hold at least one project with its gefyra.yaml"


CLUSTER_EXAMPLES = {"bridge", "shop"}  # need a cluster (the e2e tests run them against the sandbox)


@pytest.mark.parametrize("path", PROJECTS, ids=lambda p: p.parent.name)
def test_example_projects_are_valid_and_build_from_the_base_image(path):
    config = load(path, environ={})
    assert (config.cluster is None and not config.bridges) or path.parent.name in CLUSTER_EXAMPLES
    for container in config.containers.values():
        if container.build is not None:
            dockerfile = container.build.context / container.build.dockerfile
            lines = [line for line in dockerfile.read_text(encoding="utf-8").splitlines() if line.strip()]
            assert [line for line in lines if not line.startswith("#")][0] == "FROM debian:bookworm-slim"


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        return {str(k) for k in node} | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_examples_validate_against_the_json_schema():
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads((REPO / SCHEMA_PATH).read_text()))
    for path in [EXAMPLE, *PROJECTS]:
        document = YAML(typ="safe").load(path.read_text())
        assert [error.message for error in validator.iter_errors(document)] == [], path


def test_json_schema_rejects_what_the_loader_rejects():
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads((REPO / SCHEMA_PATH).read_text()))
    bad = {"version": 1, "containers": {"web": {"image": "x", "portz": ["80:80"]}}}
    assert any("portz" in error.message for error in validator.iter_errors(bad))

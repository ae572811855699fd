"""Whatever bytes are in gefyra.yaml, loading it either works or raises ConfigError with sane positions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gefyra.config import Config, load
from gefyra.errors import ConfigError

VALID = """\
version: 1
project: {name: shop}
cluster:
  namespace: dev
  endpoint: 127.0.0.1:31820
  mtu: 1380
  client_timeout: 1h30m
network: {subnet: 172.30.0.0/24}
containers:
  web:
    image: "nginx:${TAG:-1}"
    command: [nginx, -g, daemon off;]
    env: {A: 1, B: "x"}
    ports: ["8080:80", 9000, {host_port: 1, container_port: 2, protocol: udp}]
    mounts: ["./src:/app:ro"]
    watch: [{path: src, action: restart, ignore: ["*.tmp"]}]
    env_from: [deployment/api/main]
  db:
    build: {context: ., dockerfile: Dockerfile, args: {V: 1}, target: dev}
    watch: [{path: ., action: rebuild}]
bridges:
  web:
    target: deployment/web
    ports: {80: 8080}
    match: [{header: x-user, exact: me}]
"""
KEYS = [
    "[key]",
    "version",
    "project",
    "name",
    "cluster",
    "namespace",
    "endpoint",
    "mtu",
    "client_timeout",
    "network",
    "subnet",
    "containers",
    "web",
    "image",
    "build",
    "context",
    "ports",
    "mounts",
    "env",
    "env_file",
    "watch",
    "bridges",
    "target",
    "local",
    "match",
    "header",
    "<<",
    "&a",
    "*a",
    "${X}",
    "imgae",
    "",
]
YAML_LINE_BREAKS = (b"\n", b"\r", "\x85".encode(), "\u2028".encode(), "\u2029".encode())
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz")
    (path / "src").mkdir()
    (path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    return path


def check(folder: Path, content: bytes | str) -> None:
    """The property: a Config or a ConfigError whose problems point inside the file, nothing else."""
    path = folder / "gefyra.yaml"
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    path.write_bytes(data)
    try:
        config = load("gefyra.yaml", cwd=folder, environ={"TAG": "2"})
    except ConfigError as error:
        assert error.problems, "a problem in the file must come with a position"
        lines = sum(data.count(brk) for brk in YAML_LINE_BREAKS) + 2  # a lone \r ends a line in YAML
        for problem in error.problems:
            assert problem.file == "gefyra.yaml"
            assert 1 <= problem.line <= lines and problem.column >= 1, problem
            assert problem.message and "\n" not in problem.message, problem
    else:
        assert isinstance(config, Config)


def test_the_base_document_is_valid(folder):
    check(folder, VALID)
    assert load("gefyra.yaml", cwd=folder, environ={"TAG": "2"}).containers["web"].image == "nginx:2"


@FUZZ
@given(data=st.data())
def test_mutated_and_truncated_yaml(folder, data):
    text = VALID
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        operation = data.draw(st.sampled_from(["truncate", "delete", "insert", "duplicate-line", "key"]))
        if operation == "truncate":
            text = text[:position]
        elif operation == "delete":
            text = text[:position] + text[position + data.draw(st.integers(1, 20)) :]
        elif operation == "insert":
            text = text[:position] + data.draw(st.text(max_size=8)) + text[position:]
        elif operation == "duplicate-line":
            lines = text.splitlines(keepends=True) or [""]
            index = position % len(lines)
            text = "".join(lines[: index + 1] + lines[index:])
        else:
            text = text[:position] + data.draw(st.sampled_from(KEYS)) + ": " + text[position:]
    check(folder, text)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["auto", "30s", "8080:80", "./a:/b:ro", "deployment/x", "${NOPE}", "$${X}", "1e400"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5),
    ),
    max_leaves=30,
)


@FUZZ
@given(document=documents)
def test_random_documents_with_real_and_random_keys(folder, document):
    check(folder, json.dumps(document, allow_nan=True))  # JSON is YAML


@FUZZ
@given(path_choice=st.integers(0, 10_000), value=documents)
def test_wrong_types_anywhere_in_a_valid_document(folder, path_choice, value):
    from ruamel.yaml import YAML

    base = YAML(typ="safe").load(VALID)
    slots = list(_slots(base))
    container, key = slots[path_choice % len(slots)]
    container[key] = value
    check(folder, json.dumps(base, allow_nan=True))


def _slots(node):
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        yield node, key
        yield from _slots(child)


@FUZZ
@given(garbage=st.binary(max_size=200), prefix=st.booleans())
def test_binary_garbage(folder, garbage, prefix):
    check(folder, (VALID.encode() if prefix else b"") + garbage)


@pytest.mark.parametrize("depth", [10, 63, 64, 65, 200, 3000, 50_000])
@pytest.mark.parametrize("shape", ["[", "{a: ", "block"])
def test_deep_nesting(folder, depth, shape):
    if shape == "block":
        text = "".join(f"{' ' * i}k:\n" for i in range(min(depth, 1000)))
    else:
        closing = "]" if shape == "[" else "}"
        text = shape * depth + "1" + closing * depth
    check(folder, "version: 1\nproject: " + text if shape == "block" else text)


def test_huge_file(folder):
    check(folder, "version: 1\n" + "# padding\n" * 500_000)


def test_recursive_alias_and_billion_laughs(folder):
    check(folder, "version: 1\ncontainers: &a {web: *a}\n")
    laughs = "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 10):
        laughs += (
            f"{'b' * level}: &{'b' * level} [" + ", ".join([f"*{'b' * (level - 1) or 'a'}"] * 10) + "]\n"
        )
    check(folder, laughs)

"""Loading valid files: search, -f, interpolation, defaults, short forms and absolute paths."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from gefyra.config import Config, find_config, load
from gefyra.config.interpolate import InterpolationError, interpolate
from gefyra.errors import ConfigError
from tests.unit.config_helpers import write

MINIMAL = "version: 1\n"


def test_file_is_found_in_a_parent_folder_like_git(tmp_path):
    write(tmp_path, MINIMAL)
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    config = load(cwd=deep, environ={})
    assert config.source == tmp_path / "gefyra.yaml"
    assert config.base_dir == tmp_path
    assert find_config(deep) == tmp_path / "gefyra.yaml"


def test_nearest_file_wins(tmp_path):
    write(tmp_path, "version: 1\nproject: {name: outer}\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    write(inner, "version: 1\nproject: {name: inner}\n")
    assert load(cwd=inner / ".", environ={}).project.name == "inner"


def test_no_file_anywhere_is_a_config_error_with_a_hint(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(cwd=tmp_path, environ={})
    assert info.value.message == f"no gefyra.yaml in {tmp_path} or any parent folder"
    assert info.value.hint and "-f" in info.value.hint


def test_explicit_file_is_used_and_named_as_given(tmp_path):
    write(tmp_path, "version: 1\nbad: 1\n", name="other.yaml")
    with pytest.raises(ConfigError) as info:
        load("other.yaml", cwd=tmp_path, environ={})
    assert [str(p) for p in info.value.problems] == ["other.yaml:2:1: unknown key 'bad'"]


def test_explicit_folder_means_its_gefyra_yaml(tmp_path):
    write(tmp_path, MINIMAL)
    assert load(tmp_path, environ={}).source == tmp_path / "gefyra.yaml"


def test_explicit_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="^nope.yaml: no such file$"):
        load("nope.yaml", cwd=tmp_path, environ={})


def test_interpolation_with_values_defaults_and_escapes(tmp_path):
    write(
        tmp_path,
        """
        version: 1
        containers:
          web:
            image: "registry.local/web:${TAG:-latest}"
            env:
              URL: "http://${HOST}:${PORT:-80}/"
              EMPTY_DEFAULTED: "${EMPTY:-fallback}"
              PRICE: "$$5"
            ports: ["${PORT:-8080}:80"]
        """,
    )
    config = load(cwd=tmp_path, environ={"HOST": "db", "EMPTY": ""})
    web = config.containers["web"]
    assert web.image == "registry.local/web:latest"
    assert web.env == {"URL": "http://db:80/", "EMPTY_DEFAULTED": "fallback", "PRICE": "$5"}
    assert web.ports[0].host_port == 8080


def test_interpolate_rejects_a_malformed_reference():
    with pytest.raises(InterpolationError, match=r"'\$\{1X\}' is not a valid reference"):
        interpolate("${1X}", {})
    assert interpolate("a $b ${", {}) == "a $b ${"


def test_defaults(tmp_path):
    folder = tmp_path / "My_Shop App"
    folder.mkdir()
    write(folder, "version: 1\n")
    config = load(cwd=folder, environ={})
    assert config.project.name == "my-shop-app"
    assert config.cluster is None
    assert config.network.subnet == "auto"
    assert config.containers == {} and config.bridges == {}


def test_cluster_defaults_and_bridge_defaults(tmp_path):
    write(
        tmp_path,
        """
        version: 1
        cluster: {namespace: shop}
        containers:
          api: {image: api}
        bridges:
          api: {target: deployment/api}
          other: {target: pod/api-0, namespace: elsewhere, local: api, ports: {80: 8080}}
        """,
    )
    config = load(cwd=tmp_path, environ={})
    assert config.cluster is not None
    assert (config.cluster.endpoint, config.cluster.mtu, config.cluster.install) == ("auto", "auto", "auto")
    assert config.cluster.client_timeout == timedelta(minutes=10)
    api = config.bridges["api"]
    assert (str(api.target), api.namespace, api.local, api.container, api.ports) == (
        "deployment/api",
        "shop",
        "api",
        None,
        {},
    )
    assert api.sync == ["/var/run/secrets/kubernetes.io/serviceaccount"]
    other = config.bridges["other"]
    assert (other.target.kind, other.target.name, other.namespace, other.ports) == (
        "pod",
        "api-0",
        "elsewhere",
        {80: 8080},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1500ms", timedelta(seconds=1.5)),
    ],
)
def test_durations(tmp_path, text, expected):
    write(tmp_path, f"version: 1\ncluster: {{client_timeout: {text}}}\n")
    assert load(cwd=tmp_path, environ={}).cluster.client_timeout == expected


def test_short_forms_of_ports_mounts_env_from_and_watch(tmp_path):
    for folder in ("app", "src", "data"):
        (tmp_path / folder).mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    write(
        tmp_path,
        """
        version: 1
        cluster: {}
        network: {subnet: 172.30.0.0/24}
        containers:
          web:
            build: ./app
            command: python3 -m http.server 80
            user: 1000
            env: {N: 5, B: true}
            env_from: statefulset/db/postgres
            ports: [8080, "8081:81", "127.0.0.1:53:53/udp", "[::1]:8443:443"]
            mounts: ["./src:/app:ro", "data:/data"]
            watch: [src, {path: Dockerfile, action: rebuild, ignore: ["*.pyc"]}]
        """,
    )
    config = load(cwd=tmp_path, environ={})
    web = config.containers["web"]
    assert config.network.subnet == IPv4Network("172.30.0.0/24")
    assert (
        web.build is not None
        and web.build.context == tmp_path / "app"
        and web.build.dockerfile == "Dockerfile"
    )
    assert web.command == ["python3", "-m", "http.server", "80"]
    assert web.user == "1000" and web.env == {"N": "5", "B": "true"}
    assert [(e.kind, e.name, e.container) for e in web.env_from] == [("statefulset", "db", "postgres")]
    assert [(p.host_ip, p.host_port, p.container_port, p.protocol) for p in web.ports] == [
        (None, 8080, 8080, "tcp"),
        (None, 8081, 81, "tcp"),
        ("127.0.0.1", 53, 53, "udp"),
        ("::1", 8443, 443, "tcp"),
    ]
    assert [(m.source, m.target, m.read_only) for m in web.mounts] == [
        (tmp_path / "src", "/app", True),
        (tmp_path / "data", "/data", False),
    ]
    assert [(w.path, w.action, w.ignore) for w in web.watch] == [
        (tmp_path / "src", "restart", []),
        (tmp_path / "Dockerfile", "rebuild", ["*.pyc"]),
    ]


def test_env_files_come_first_and_env_wins(tmp_path):
    (tmp_path / "base.env").write_text('# comment\nA=from-file\nexport B="quoted"\n\nC=c\n')
    write(
        tmp_path,
        """
        version: 1
        containers:
          web:
            image: nginx
            env_file: base.env
            env: {A: from-env}
        """,
    )
    web = load(cwd=tmp_path, environ={}).containers["web"]
    assert web.env_file == [tmp_path / "base.env"]
    assert web.resolved_env() == {"A": "from-env", "B": "quoted", "C": "c"}


def test_malformed_env_file_line_is_named(tmp_path):
    (tmp_path / "bad.env").write_text("A=1\nnot a pair\n")
    write(tmp_path, "version: 1\ncontainers:\n  web: {image: x, env_file: bad.env}\n")
    with pytest.raises(ConfigError) as info:
        load(cwd=tmp_path, environ={})
    assert [str(p) for p in info.value.problems] == [
        f"gefyra.yaml:3:29: containers.web.env_file: {tmp_path / 'bad.env'}:2: "
        "expected KEY=VALUE (the line has no '=')"  # never the line: it may be a secret
    ]


def test_model_is_frozen_and_validates_without_the_loader(tmp_path):
    config = Config.model_validate(
        {"version": 1, "containers": {"web": {"image": "x", "mounts": ["a:/a"]}}},
        context={"base_dir": tmp_path},
    )
    assert config.containers["web"].mounts[0].source == tmp_path / "a"
    with pytest.raises(Exception, match="frozen"):
        config.containers["web"].image = "y"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        _ = config.source


def test_paths_outside_the_folder_and_home_are_resolved(tmp_path):
    (tmp_path.parent / "ctx").mkdir(exist_ok=True)
    (tmp_path.parent / "ctx" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    write(tmp_path, "version: 1\ncluster: {kubeconfig: ~/.kube/other}\ncontainers:\n  w: {build: ../ctx}\n")
    config = load(cwd=tmp_path, environ={})
    assert config.cluster.kubeconfig == Path.home() / ".kube" / "other"
    assert config.containers["w"].build.context == tmp_path.parent / "ctx"


def test_empty_sections_are_empty_and_dates_in_env_become_text(tmp_path):
    write(
        tmp_path,
        "version: 1\nproject:\nnetwork:\nbridges:\ncontainers:\n  w: {image: x, env: {D: 2024-01-31}}\n",
    )
    config = load(cwd=tmp_path, environ={})
    assert config.bridges == {} and config.network.subnet == "auto"
    assert config.containers["w"].env == {"D": "2024-01-31"}

"""env_from needs a cluster: without a `cluster:` section it is an error at the env_from key."""

from __future__ import annotations

from gefyra.config import load
from tests.unit.config_helpers import problems, write


def test_env_from_without_cluster_is_an_error_at_its_key(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: nginx
        env_from:
          - deployment/web
      db:
        image: postgres
        env_from: deployment/db/main
    """
    message = (
        "env_from reads the environment of a workload in the cluster, so it needs a 'cluster' section "
        "(add one, or use env / env_file instead)"
    )
    assert problems(tmp_path, text) == [
        f"gefyra.yaml:5:5: containers.web.env_from: {message}",
        f"gefyra.yaml:9:5: containers.db.env_from: {message}",
    ]


def test_env_from_without_cluster_is_reported_with_other_problems(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: nginx
        env_from: {kind: deployment, name: web}
        ports: ["nope"]
    """
    found = problems(tmp_path, text)
    assert found[0].startswith("gefyra.yaml:5:5: containers.web.env_from: env_from reads the environment")
    assert found[1].startswith("gefyra.yaml:6:")


def test_env_from_with_a_cluster_and_an_empty_env_from_without_one_load(tmp_path):
    write(tmp_path, "version: 1\ncluster: {}\ncontainers:\n  web: {image: nginx, env_from: deployment/web}\n")
    assert load("gefyra.yaml", cwd=tmp_path).containers["web"].env_from[0].name == "web"
    write(tmp_path, "version: 1\ncontainers:\n  web: {image: nginx, env_from: []}\n")
    assert load("gefyra.yaml", cwd=tmp_path).containers["web"].env_from == []

"""The one boundary to the Docker engine: an engine that is down, refuses us or fails is a clear one-line
error, never "missing"; a no-op plan reads over the socket without importing the docker SDK. Real HTTP
throughout: a socket nobody listens on, and a proxy socket in front of the real engine that answers chosen
requests with an error status."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gefyra import api
from gefyra.model import labels
from gefyra.providers.docker.engine import Engine
from gefyra.providers.errors import EngineFailure, EnginePermission, EngineUnavailable, NotFound
from tests.dataplane.engine_proxy import Rule, engine_proxy, tcp_engine_proxy

pytestmark = [pytest.mark.docker]

SLEEPER = {"image": "debian:bookworm-slim", "args": ["sleep", "infinity"]}


@pytest.fixture
def project(tmp_path, monkeypatch, base_image):
    """A gefyra.yaml with one container in a temp folder; everything it made is downed afterwards."""
    monkeypatch.setenv("GEFYRA_LOCK_DIR", str(tmp_path / "locks"))
    name = f"t-bnd-{secrets.token_hex(3)}"
    folder = tmp_path / "project"
    folder.mkdir()
    write(folder, name, {"a": SLEEPER})
    yield folder, name
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    api.down(name, images=True)


def write(folder: Path, name: str, containers: dict) -> None:
    document = {"version": 1, "project": {"name": name}, "containers": containers}
    (folder / "gefyra.yaml").write_text(json.dumps(document))


def gefyra(folder: Path, *args: str, host: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"DOCKER_HOST": host} if host else {})}
    return subprocess.run(
        [sys.executable, "-m", "gefyra", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error the CLI printed: exit 1, no traceback, the message on one line."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[0]


def test_an_engine_nobody_listens_on_is_unavailable(project, tmp_path):
    folder, _ = project
    missing = tmp_path / "nobody.sock"
    line = error_line(gefyra(folder, "plan", host=f"unix://{missing}"))
    assert f"Docker engine not reachable: no socket at unix://{missing}" in line, line
    # A socket file that is there but not listening (a dead engine's leftover): connection refused.
    dead = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as leftover:
        leftover.bind(str(dead))
        line = error_line(gefyra(folder, "plan", host=f"unix://{dead}"))
    assert f"Docker engine not reachable: connection refused at unix://{dead}" in line, line


def test_an_engine_that_refuses_us_is_a_permission_error(project, tmp_path):
    folder, _ = project
    proxy = tmp_path / "forbidden.sock"
    with engine_proxy(proxy, Rule(r"\w+ .*", 403, "authorization denied by plugin x")):
        line = error_line(gefyra(folder, "status", host=f"unix://{proxy}"))
        with pytest.raises(EnginePermission, match="authorization denied by plugin x"):
            Engine(_unix(proxy)).ping()
    assert "authorization denied by plugin x (HTTP 403" in line, line


def test_an_engine_error_while_listing_is_never_an_empty_project(project, tmp_path):
    folder, name = project
    assert gefyra(folder, "apply", "--yes").returncode == 0
    proxy = tmp_path / "broken.sock"
    with engine_proxy(proxy, Rule(r"GET (/v[\d.]+)?/containers/json", 500, "database is locked")):
        line = error_line(gefyra(folder, "plan", host=f"unix://{proxy}"))
    assert "listing containers: database is locked (HTTP 500" in line, line


def test_an_image_inspect_that_fails_is_an_error_not_a_build(project, tmp_path):
    """Only a real 404 means "not built yet": a 500 or 403 on the image inspect stops the step, and
    nothing is built."""
    folder, name = project
    (folder / "app").mkdir()
    (folder / "app" / "Dockerfile").write_text('FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n')
    write(folder, name, {"a": {"build": {"context": "app"}}})
    for status, message in ((500, "engine hiccup"), (403, "no images for you")):
        proxy = tmp_path / f"image-{status}.sock"
        rule = Rule(rf"GET (/v[\d.]+)?/images/gefyra-{name}-a:[^/]+/json", status, message)
        with engine_proxy(proxy, rule) as seen:
            result = gefyra(folder, "apply", "--yes", host=f"unix://{proxy}")
        assert result.returncode == 1, result.stderr
        assert f"{message} (HTTP {status}" in result.stderr, result.stderr
        assert not [request for request in seen if "/build" in request], seen
    assert not Engine.from_env().images(labels=[labels.project_filter(name)])  # nothing was built


def test_the_boundary_tells_missing_from_failing(tmp_path, base_image):
    engine = Engine.from_env()
    assert engine.find_container(f"t-bnd-none-{secrets.token_hex(3)}") is None
    with pytest.raises(NotFound):
        engine.inspect_image("t-bnd-none:nothing")
    proxy = tmp_path / "inspect.sock"
    with engine_proxy(proxy, Rule(r"GET (/v[\d.]+)?/containers/.*/json", 500, "boom")):
        broken = Engine(_unix(proxy))
        with pytest.raises(EngineFailure, match="boom"):
            broken.find_container("anything")
    with pytest.raises(EngineUnavailable, match="no socket"):
        Engine(_unix(tmp_path / "gone.sock")).containers()


def test_an_engine_at_a_tcp_address_is_read_through_the_sdk_session(project):
    """DOCKER_HOST=tcp://... (here a loopback port in front of the real engine): reads and writes go over
    TCP, and an error answer there is translated the same way."""
    folder, name = project
    with tcp_engine_proxy() as (host, seen):
        assert gefyra(folder, "apply", "--yes", host=host).returncode == 0
        assert gefyra(folder, "plan", host=host).stdout.strip().endswith("No changes.")
    assert any("/containers/json" in request for request in seen), seen
    with tcp_engine_proxy(Rule(r"GET (/v[\d.]+)?/networks", 500, "tcp hiccup")) as (host, _):
        line = error_line(gefyra(folder, "plan", host=host))
    assert "listing networks: tcp hiccup (HTTP 500" in line, line


def test_a_no_op_plan_reads_over_the_socket_without_the_docker_sdk(project):
    folder, name = project
    assert gefyra(folder, "apply", "--yes").returncode == 0
    probe = (
        "import sys; from gefyra.cli.app import main; sys.argv = ['gefyra', 'plan']\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert done.code in (0, None), done.code\n"
        "print('sdk imported' if 'docker' in sys.modules else 'no sdk')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-2:] == ["No changes.", "no sdk"], result.stderr


def _unix(path: Path):
    from gefyra.providers.docker.engine.transport import UnixTransport

    return UnixTransport(str(path), timeout=10)

"""The Kubernetes boundary against real HTTP: a port nobody listens on, a server answering 403/404/500, the
kubeconfig and context chosen at call time (not when `kubernetes` was imported), and the machine identity."""

from __future__ import annotations

import json
import socket
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kubernetes  # noqa: F401 - imported first on purpose: KUBECONFIG below is set after it
import pytest

from gefyra.errors import ProviderError
from gefyra.providers.errors import EngineFailure, EnginePermission, EngineUnavailable, NotFound
from gefyra.providers.kube import identity
from gefyra.providers.kube.boundary import ClusterRef, Kube


def _kubeconfig(path, servers: dict[str, str], current: str) -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": url}} for n, url in servers.items()],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": n, "context": {"cluster": n, "user": "u"}} for n in servers],
        "current-context": current,
    }
    path.write_text(json.dumps(config))
    return str(path)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        status = int(self.path.rsplit("/", 1)[-1]) if self.path.rsplit("/", 1)[-1].isdigit() else 200
        body = json.dumps({"kind": "Status", "message": f"answer {status}"}).encode()
        if status == 200:
            body = json.dumps({"metadata": {"name": "default"}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_nobody_listening_is_unavailable(tmp_path):
    path = _kubeconfig(tmp_path / "kc", {"a": f"http://127.0.0.1:{_free_port()}"}, "a")
    kube = Kube.connect(ClusterRef(path))
    with pytest.raises(EngineUnavailable, match="does not answer"):
        kube.list("Pod", "default")


def test_answers_are_translated_once(tmp_path, server):
    kube = Kube.connect(ClusterRef(_kubeconfig(tmp_path / "kc", {"a": server}, "a")))
    assert kube.get("Namespace", "default").name == "default"
    assert kube.find("Namespace", "404") is None  # only a real 404 reads as missing
    with pytest.raises(NotFound):
        kube.get("Namespace", "404")
    with pytest.raises(EnginePermission, match="403 answer 403"):
        kube.find("Namespace", "403")
    with pytest.raises(EngineFailure, match="500"):
        kube.find("Namespace", "500")


def test_kubeconfig_and_context_are_read_at_call_time(tmp_path, server, monkeypatch):
    dead = f"http://127.0.0.1:{_free_port()}"
    path = _kubeconfig(tmp_path / "kc", {"dead": dead, "live": server}, "dead")
    monkeypatch.setenv("KUBECONFIG", path)  # after `kubernetes` was imported
    ref = ClusterRef.resolve(None, "live")
    assert ref.kubeconfig == path
    kube = Kube.connect(ref)
    assert kube.host == server and kube.get("Namespace", "default").name == "default"
    assert Kube.connect(ClusterRef.resolve(None, None)).host == dead


def test_a_missing_kubeconfig_or_context_is_a_clear_error(tmp_path):
    with pytest.raises(ProviderError, match="does not exist"):
        Kube.connect(ClusterRef(str(tmp_path / "nope")))
    path = _kubeconfig(tmp_path / "kc", {"a": "http://127.0.0.1:1"}, "a")
    with pytest.raises(ProviderError, match="cannot use kubeconfig"):
        Kube.connect(ClusterRef(path, "missing"))


def test_client_id_is_stable_and_private(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv(identity.CLIENT_ID_ENV, raising=False)
    first = identity.client_id()
    assert first == identity.client_id() and len(first) == 6
    path = tmp_path / "gefyra" / "client-id"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_cluster_of_a_project_is_remembered_until_forgotten(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    ref = ClusterRef("/k/config", "ctx")
    identity.remember("shop", ref)
    assert identity.recorded("shop") == ref and identity.recorded_projects() == ["shop"]
    identity.forget("shop")
    assert identity.recorded("shop") is None and identity.recorded_projects() == []

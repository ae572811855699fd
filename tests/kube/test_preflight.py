"""`gefyra check`'s parts: the permissions a gefyra.yaml needs, a denied one against a real HTTP API answering
SelfSubjectAccessReviews, subnet clashes (pure), and the UDP probe on loopback (closed port, silent one)."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gefyra.config import load
from gefyra.providers.kube.boundary import ClusterRef, Kube
from gefyra.providers.kube.endpoint import probe_udp
from gefyra.providers.kube.preflight import check_access, needs, subnet_checks

DENIED = {"customresourcedefinitions", "patch:pods"}


class _Api(BaseHTTPRequestHandler):
    """An API server that knows /version and answers each access review: denied for DENIED."""

    def _send(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200 if "kind" not in payload or payload["kind"] != "Status" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._send({"gitVersion": "v1.30.0"} if self.path == "/version" else {"kind": "Status"})

    def do_POST(self) -> None:  # noqa: N802
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        attributes = review["spec"]["resourceAttributes"]
        denied = (
            attributes["resource"] in DENIED or f"{attributes['verb']}:{attributes['resource']}" in DENIED
        )
        self._send({**review, "status": {"allowed": not denied}})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    (tmp_path / "kubeconfig").write_text(json.dumps(config))
    kube = Kube.connect(ClusterRef(str(tmp_path / "kubeconfig")))
    yield kube
    kube.close()
    server.shutdown()


def _config(tmp_path, cluster: str = "{namespace: shop}"):
    (tmp_path / "gefyra.yaml").write_text(
        f"version: 1\nproject: {{name: shop}}\ncluster: {cluster}\n"
        "containers:\n  web: {image: nginx, env_from: deployment/api}\n"
        "bridges:\n  web: {target: deployment/web, namespace: front}\n"
    )
    return load(tmp_path / "gefyra.yaml")


def test_what_a_gefyra_yaml_needs(tmp_path):
    wanted = [str(need) for need in needs(_config(tmp_path))]
    assert "create gefyraclients.gefyra.dev in namespace gefyra" in wanted
    assert "create customresourcedefinitions.apiextensions.k8s.io" in wanted
    assert "patch pods in namespace front" in wanted
    assert "get secrets in namespace shop" in wanted  # env_from reads the workload's Secrets
    never = [str(need) for need in needs(_config(tmp_path, "{namespace: shop, install: never}"))]
    assert "create customresourcedefinitions.apiextensions.k8s.io" not in never


def test_each_permission_denied_is_a_failure_with_what_to_do(api, tmp_path):
    assert api.server_version() == "v1.30.0"
    checks = check_access(api, _config(tmp_path))
    assert [(c.status, c.detail) for c in checks] == [
        ("fail", "may not create customresourcedefinitions.apiextensions.k8s.io (for the install)"),
        ("fail", "may not patch pods in namespace front (for `down` restoring Pods when no Operator runs)"),
    ]
    assert "gefyra install --print" in checks[0].hint and "cluster.install: never" in checks[0].hint


def test_subnet_clashes_are_named_with_a_free_range():
    routes = ["10.244.0.0/16", "10.96.0.0/16"]
    inside = subnet_checks(
        ipaddress.IPv4Network("10.244.3.0/24"), routes, "100.87.0.0/24", None, "network.subnet"
    )
    assert [c.status for c in inside] == ["fail"]
    assert inside[0].detail.startswith(
        "network.subnet 10.244.3.0/24 overlaps the cluster range 10.244.0.0/16"
    )
    assert inside[0].hint == "set network.subnet to a range outside 10.244.0.0/16, e.g. 172.30.0.0/24"
    tunnel = subnet_checks(ipaddress.IPv4Network("100.87.0.0/16"), routes, "100.87.0.0/24", None, "x")
    assert "overlaps the tunnel's subnet 100.87.0.0/24" in tunnel[0].detail
    endpoint = subnet_checks(None, routes, "100.87.0.0/24", "10.244.0.1:31820", "the project network")
    assert [c.status for c in endpoint] == ["ok"]  # Cargo keeps such an endpoint off the tunnel
    assert "endpoint 10.244.0.1 lies in 10.244.0.0/16: Cargo keeps it off the tunnel" in endpoint[0].detail
    fine = subnet_checks(
        ipaddress.IPv4Network("172.30.0.0/24"), routes, "100.87.0.0/24", "192.0.2.1:31820", "n"
    )
    assert [c.status for c in fine] == ["ok"]


def test_the_udp_probe_tells_a_closed_port_from_a_silent_one():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert probe_udp("127.0.0.1", port) == "refused"  # nobody bound there any more: port unreachable
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        assert probe_udp("127.0.0.1", silent.getsockname()[1], timeout_s=0.3) == "silent"
        assert silent.recv(8) == b"\x00"  # the probe arrived
    assert probe_udp("no-such-host.invalid", 1) == "unresolved"

"""Runner acceptance: a Pod from a locally built image serves HTTP to another Pod by ClusterIP and by DNS
name,
to the host and to other Docker networks by NodePort; a ClusterIP without endpoints fails fast, locally."""

from __future__ import annotations

import ipaddress
import random
import shutil
import socket
import subprocess
import threading
import time

import pytest

from tests.sandbox.fixtures import echo_info, fetch_from_pod, http_get, wait_for
from tests.sandbox.runner import proxy

pytest_plugins = ("tests.sandbox.fixtures",)  # sandbox, sandbox_kube, sandbox_ns, echo_image
pytestmark = [pytest.mark.docker, pytest.mark.cluster]


def echo_pod(name: str, image: str, labels: dict[str, str], message: str) -> dict:
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "containers": [
                {
                    "name": "echo",
                    "image": image,
                    "env": [{"name": "MESSAGE", "value": message}],
                    "ports": [{"name": "http", "containerPort": 8080}],
                }
            ]
        },
    }


@pytest.fixture
def web(sandbox, sandbox_kube, sandbox_ns, echo_image):
    """A web Pod, its NodePort Service (random port, so parallel sandboxes do not collide) and a client
    Pod."""
    core = sandbox_kube.core
    core.create_namespaced_pod(
        sandbox_ns, echo_pod("web", echo_image, {"app": "web"}, f"from-web-{sandbox.instance}")
    )
    core.create_namespaced_pod(sandbox_ns, echo_pod("client", echo_image, {"app": "client"}, "from-client"))
    node_port = random.randint(30000, 32767)
    service = core.create_namespaced_service(
        sandbox_ns,
        {
            "metadata": {"name": "web"},
            "spec": {
                "type": "NodePort",
                "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": node_port}],
            },
        },
    )
    web_pod = sandbox_kube.wait_running(sandbox_ns, "web")
    client_pod = sandbox_kube.wait_running(sandbox_ns, "client")
    return service, web_pod, client_pod


def test_pod_reaches_service_by_cluster_ip_and_dns(sandbox, sandbox_kube, sandbox_ns, web):
    service, web_pod, client_pod = web
    endpoints = wait_for(
        lambda: sandbox_kube.core.read_namespaced_endpoints("web", sandbox_ns).subsets,
        what="endpoints of web",
    )
    assert [a.ip for a in endpoints[0].addresses] == [web_pod.status.pod_ip]
    assert endpoints[0].ports[0].port == 8080  # the named targetPort resolved
    for url in (
        f"http://{service.spec.cluster_ip}/",
        f"http://web.{sandbox_ns}.svc.cluster.local/",
        "http://web/",
    ):
        answer = echo_info(wait_for(lambda u=url: fetch_from_pod(client_pod.status.pod_ip, u), what=url))
        assert answer["message"] == f"from-web-{sandbox.instance}", url
        assert answer["hostname"] == "web"


def test_pod_reaches_itself_through_its_service(sandbox, sandbox_kube, sandbox_ns, web):
    service, web_pod, _ = web
    answer = echo_info(
        wait_for(
            lambda: fetch_from_pod(web_pod.status.pod_ip, f"http://{service.spec.cluster_ip}/"),
            what="hairpin",
        )
    )
    assert answer["message"] == f"from-web-{sandbox.instance}"


def test_node_port_from_host_and_other_docker_network(sandbox, sandbox_ns, web, docker_client, echo_image):
    service, _, _ = web
    node_port = service.spec.ports[0].node_port
    for host in (sandbox.node_ip, "127.0.0.1"):
        answer = echo_info(
            wait_for(lambda h=host: http_get(f"http://{h}:{node_port}/"), what=f"{host} NodePort")
        )
        assert answer["message"] == f"from-web-{sandbox.instance}"
    # A container on Docker's default bridge reaches the NodePort through its own gateway, as on a real node.
    script = (
        "import socket, struct, urllib.request\n"
        "route = [l.split() for l in open('/proc/net/route') if l.split()[1] == '00000000'][0]\n"
        "gateway = socket.inet_ntoa(struct.pack('<L', int(route[2], 16)))\n"
        f"print(urllib.request.urlopen(f'http://{{gateway}}:{node_port}/', timeout=5).read().decode())\n"
    )
    output = docker_client.containers.run(
        echo_image, ["python3", "-c", script], remove=True, labels=sandbox.settings.labels
    )
    assert echo_info(output)["message"] == f"from-web-{sandbox.instance}"


def test_cluster_ip_without_endpoints_fails_fast(sandbox, sandbox_kube, sandbox_ns, web):
    _, _, client_pod = web
    lonely = sandbox_kube.core.create_namespaced_service(
        sandbox_ns,
        {"metadata": {"name": "lonely"}, "spec": {"selector": {"app": "nobody"}, "ports": [{"port": 80}]}},
    )
    assert ipaddress.ip_address(lonely.spec.cluster_ip) in sandbox.settings.service_cidr
    wait_for(lambda: http_get(f"http://{client_pod.status.pod_ip}:8080/"), what="client Pod serving")
    with pytest.raises(Exception) as failure:
        fetch_from_pod(client_pod.status.pod_ip, f"http://{lonely.spec.cluster_ip}/")
    assert "502" in str(failure.value)  # the client Pod's fetch failed (No route to host), not the client Pod
    # From the host, the unreachable route answers at once: nothing leaves the machine.
    with pytest.raises(OSError) as error:
        socket.create_connection((lonely.spec.cluster_ip, 80), timeout=3)
    assert "unreachable" in str(error.value).lower() or "no route" in str(error.value).lower()


UDP_ECHO = (
    "import socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.bind(('0.0.0.0', 5353))\n"
    "while True:\n"
    "    data, peer = s.recvfrom(2048)\n"
    "    s.sendto(b'pong:' + data, peer)\n"
)


def test_udp_node_port_from_host(sandbox, sandbox_kube, sandbox_ns, echo_image):
    """UDP NodePorts (Stowaway's WireGuard port is one) reach the Pod and the answer comes back - also for a
    client that kept sending from one source port since before the Service existed (stale conntrack entry)."""
    assert shutil.which("conntrack"), "the runner needs the conntrack tool (Debian package conntrack)"
    core = sandbox_kube.core
    node_port = random.randint(30000, 32767)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", 0))
        sock.settimeout(0.3)
        sock.sendto(b"early", (sandbox.node_ip, node_port))  # no rule yet: conntrack remembers "to the host"
        core.create_namespaced_pod(
            sandbox_ns,
            {
                "metadata": {"name": "udp", "labels": {"app": "udp"}},
                "spec": {
                    "containers": [
                        {"name": "main", "image": echo_image, "command": ["python3", "-u", "-c", UDP_ECHO]}
                    ]
                },
            },
        )
        core.create_namespaced_service(
            sandbox_ns,
            {
                "metadata": {"name": "udp"},
                "spec": {
                    "type": "NodePort",
                    "selector": {"app": "udp"},
                    "ports": [{"port": 5353, "protocol": "UDP", "nodePort": node_port}],
                },
            },
        )
        sandbox_kube.wait_running(sandbox_ns, "udp")

        def exchange():
            sock.sendto(b"ping", (sandbox.node_ip, node_port))
            try:
                return sock.recvfrom(2048)[0]
            except OSError:  # timeout, or the ICMP error of an earlier packet
                return None

        assert wait_for(exchange, timeout=10, what="UDP answer through the NodePort") == b"pong:ping"


UDP_WHO = (
    "import os, socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.bind(('0.0.0.0', 5353))\n"
    "while True:\n"
    "    data, peer = s.recvfrom(2048)\n"
    "    s.sendto(os.environ['WHO'].encode(), peer)\n"
)


class SteadyClient:
    """Sends to one address from one source port every 50 ms (as WireGuard does) and keeps every answer."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.answers, self.sent = target, [], 0
        self.stopping = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.settimeout(0.05)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.sock.sendto(b"ping", self.target)
            self.sent += 1
            try:
                self.answers.append((time.monotonic(), self.sock.recvfrom(2048)[0]))
            except OSError:  # timeout, or the ICMP error of an earlier packet
                pass

    def first_answer_after(self, since: float, who: bytes) -> float | None:
        return next((t for t, data in list(self.answers) if t >= since and data == who), None)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()


def _unnated_flow(address: str, node_port: int) -> bool:
    """A conntrack entry of a flow to address:node_port that no DNAT rule caught (it went to the host)."""
    listed = subprocess.run(
        ["conntrack", "-L", "-p", "udp", "--orig-dst", address, "--orig-port-dst", str(node_port)],
        capture_output=True,
        text=True,
    ).stdout
    return any(f"src={address} " in line.split("dport=", 1)[-1] for line in listed.splitlines())


def test_udp_node_port_follows_a_replaced_pod_on_every_node_address(
    sandbox, sandbox_kube, sandbox_ns, echo_image
):
    """Stowaway's Pod deleted and recreated (new Pod IP, same NodePort) while a client keeps sending from one
    source port to a node address other than the Node IP and 127.0.0.1: while the Service has no endpoints
    the client's flow goes to the host; once the new Pod is ready that flow must be forgotten (as kube-proxy
    does on every node address), so traffic reaches the new Pod within seconds, not after the client pauses
    for 30 s."""
    core = sandbox_kube.core
    shown = subprocess.run(["ip", "-4", "-o", "address", "show"], capture_output=True, text=True).stdout
    address = next(a for a in proxy.node_addresses(shown) if not a.startswith("127."))
    node_port = random.randint(30000, 32767)
    core.create_namespaced_service(
        sandbox_ns,
        {
            "metadata": {"name": "wg"},
            "spec": {
                "type": "NodePort",
                "selector": {"app": "wg"},
                "ports": [{"port": 5353, "protocol": "UDP", "nodePort": node_port}],
            },
        },
    )

    def pod(name: str) -> dict:
        command = ["python3", "-u", "-c", UDP_WHO]
        container = {
            "name": "main",
            "image": echo_image,
            "command": command,
            "env": [{"name": "WHO", "value": name}],
        }
        return {"metadata": {"name": name, "labels": {"app": "wg"}}, "spec": {"containers": [container]}}

    core.create_namespaced_pod(sandbox_ns, pod("first"))
    first = sandbox_kube.wait_running(sandbox_ns, "first")
    client = SteadyClient((address, node_port))
    try:
        wait_for(
            lambda: client.first_answer_after(0, b"first"), timeout=10, what="an answer of the first Pod"
        )
        core.delete_namespaced_pod("first", sandbox_ns)

        def no_endpoints() -> bool:
            subsets = core.read_namespaced_endpoints("wg", sandbox_ns).subsets or []
            return not any(s.addresses for s in subsets)

        wait_for(no_endpoints, timeout=20, what="the Service without endpoints")
        wait_for(lambda: _unnated_flow(address, node_port), timeout=10, what="the client's flow to the host")
        core.create_namespaced_pod(sandbox_ns, pod("second"))
        second = sandbox_kube.wait_running(sandbox_ns, "second")
        assert second.status.pod_ip != first.status.pod_ip or second.metadata.uid != first.metadata.uid
        ready = time.monotonic()
        answered = wait_for(
            lambda: client.first_answer_after(ready - 5, b"second"),
            timeout=5,
            what="an answer of the new Pod",
        )
        print(f"udp: the new Pod answered {answered - ready:.2f}s after it was Ready")
        assert answered - ready < 5
    finally:
        client.close()

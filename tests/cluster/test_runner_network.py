"""Runner acceptance: a Pod from a locally built image serves HTTP to another Pod by ClusterIP and by DNS
name,
to the host and to other Docker networks by NodePort; a ClusterIP without endpoints fails fast, locally."""

from __future__ import annotations

import ipaddress
import random
import shutil
import socket

import pytest

from tests.sandbox.fixtures import echo_info, fetch_from_pod, http_get, wait_for

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

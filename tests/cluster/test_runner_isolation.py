"""Runner network isolation: sandboxes side by side keep their own NodePorts, and NodePorts / ClusterIPs
answer only to this machine (loopback, sandbox and Docker bridges), never to packets coming in from another
interface (the LAN)."""

from __future__ import annotations

import ipaddress
import random
import secrets
import socket
import subprocess
import threading

import pytest

from tests.sandbox.fixtures import Kube, echo_info, http_get, wait_for

pytest_plugins = ("tests.sandbox.fixtures",)  # sandbox, sandbox_kube, sandbox_ns, echo_image
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]


def serve_node_port(kube: Kube, namespace: str, image: str, message: str, node_port: int) -> None:
    kube.core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "web", "labels": {"app": "web"}},
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
        },
    )
    kube.core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "web"},
            "spec": {
                "type": "NodePort",
                "selector": {"app": "web"},
                "ports": [{"port": 80, "targetPort": "http", "nodePort": node_port}],
            },
        },
    )
    kube.wait_running(namespace, "web")


def test_same_node_port_on_two_sandboxes_stays_with_each_node_ip(
    sandbox, sandbox_kube, sandbox_ns, echo_image, docker_client
):
    """The newer sandbox's chains come first in PREROUTING/OUTPUT; they must not catch the older sandbox's
    Node IP just because it is a local address."""
    from kubernetes import client

    from tests.sandbox.cluster import Sandbox, random_instance

    node_port = random.randint(30000, 32767)
    serve_node_port(sandbox_kube, sandbox_ns, echo_image, f"from-{sandbox.instance}", node_port)
    other = Sandbox(instance=random_instance()).start()
    try:
        api = other.api_client()
        other_kube = Kube(api, client.CoreV1Api(api), client.AppsV1Api(api))
        serve_node_port(other_kube, "default", echo_image, f"from-{other.instance}", node_port)
        for box in (other, sandbox):
            answer = echo_info(
                wait_for(
                    lambda b=box: http_get(f"http://{b.node_ip}:{node_port}/"),
                    what=f"{box.instance} NodePort",
                )
            )
            assert answer["message"] == f"from-{box.instance}", box.node_ip
        api.close()
    finally:
        left = other.stop()
    assert left == []


def prerouting_jumps(instance: str) -> list[str]:
    rules = subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True, check=True).stdout
    return [
        line
        for line in rules.splitlines()
        if line.startswith("-A PREROUTING") and f"-j GEFYRA-SANDBOX-{instance.upper()}-SVC" in line
    ]


def free_link_net() -> ipaddress.IPv4Network:
    """A /30 for a veth pair that no route of this host touches (so nothing of it can leave the machine)."""
    from tests.sandbox.runner.netsetup import host_routes

    used = host_routes()
    for _ in range(50):
        net = ipaddress.ip_network(f"10.241.{random.randint(0, 255)}.{4 * random.randint(0, 63)}/30")
        if not any(net.overlaps(r) for r in used):
            return net
    raise AssertionError("no free /30 in 10.241.0.0/16")


def answer_forever(listener: socket.socket) -> None:
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:  # closed at the end of the test
            return
        with connection:
            connection.sendall(b"host")


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def test_node_ports_answer_local_interfaces_only(
    sandbox, sandbox_kube, sandbox_ns, echo_image, docker_client
):
    """A packet that comes in on another interface (here: a veth from a network namespace of our own, standing
    in for the LAN on eth0) does not reach a NodePort; loopback and a user-defined Docker network do."""
    jumps = prerouting_jumps(sandbox.instance)
    assert jumps and all(" -i " in line for line in jumps), jumps
    assert {line.split(" -i ")[1].split()[0] for line in jumps} == {"lo", "gsbx-+", "docker0", "br-+"}

    node_port = random.randint(30000, 32767)
    message = f"from-{sandbox.instance}"
    serve_node_port(sandbox_kube, sandbox_ns, echo_image, message, node_port)
    answer = wait_for(lambda: http_get(f"http://127.0.0.1:{node_port}/"), what="NodePort on 127.0.0.1")
    assert echo_info(answer)["message"] == message

    # A user-defined Docker network (bridge br-<id>) reaches the NodePort on its own gateway.
    tag = secrets.token_hex(3)
    network = docker_client.networks.create(f"gefyra-sbxtest-{tag}", labels=sandbox.settings.labels)
    try:
        gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
        script = f"import urllib.request; print(urllib.request.urlopen('http://{gateway}:{node_port}/').read().decode())"
        output = docker_client.containers.run(
            echo_image,
            ["python3", "-c", script],
            network=network.name,
            remove=True,
            labels=sandbox.settings.labels,
        )
        assert echo_info(output)["message"] == message
    finally:
        network.remove()

    # "The LAN": a namespace behind a veth pair whose host end is neither loopback nor a bridge.
    net = free_link_net()
    host_ip, peer_ip = (str(a) for a in net.hosts())
    namespace, host_end = f"gsbxt{tag}", f"gtlan{tag}"
    listener = None  # bound once the address exists
    try:
        run("ip", "netns", "add", namespace)
        run("ip", "link", "add", host_end, "type", "veth", "peer", "name", "lan0", "netns", namespace)
        run("ip", "addr", "add", f"{host_ip}/30", "dev", host_end)
        run("ip", "link", "set", host_end, "up")
        run("ip", "-n", namespace, "addr", "add", f"{peer_ip}/30", "dev", "lan0")
        run("ip", "-n", namespace, "link", "set", "lan0", "up")
        # Control: the path from the namespace to the host works (a listener of ours on the host end answers).
        listener = socket.create_server((host_ip, 0))
        threading.Thread(target=answer_forever, args=(listener,), daemon=True).start()

        def connect(port: int) -> str:
            code = (
                "import socket, sys\n"
                f"s = socket.create_connection(({host_ip!r}, {port}), timeout=3)\n"
                "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); print(s.recv(4096).decode(errors='replace'))\n"
            )
            done = subprocess.run(
                ["ip", "netns", "exec", namespace, "python3", "-c", code], capture_output=True, text=True
            )
            return done.stdout + done.stderr

        port = listener.getsockname()[1]
        wait_for(lambda: "host" in connect(port), what="the veth path from the namespace to the host")
        # The NodePort must not answer there: nothing listens on the host at that port, so the connection is
        # refused (with the old unrestricted PREROUTING jump it was DNAT-ed to the Pod).
        outcome = connect(node_port)
        assert message not in outcome and "refused" in outcome.lower(), outcome
    finally:
        if listener is not None:
            listener.close()
        subprocess.run(["ip", "link", "del", host_end], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)

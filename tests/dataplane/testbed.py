"""A test stand for the data plane on the real engine (used by tests/dataplane and bench/tunnel.py).

Two Docker networks of our own: a "cluster" network with Stowaway, an HTTP/TCP "cluster service" and a
dnsmasq cluster DNS; a "project" network with Cargo and app containers. Stowaway's UDP port is published on
the host at the project network's gateway address only (like a NodePort, never on an outside interface); its
control API on 127.0.0.1 only. Every object carries the label `dev.gefyra.test=<run id>` and is removed by it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from gefyra.dataplane.render import app_dns_settings, render_cargo_wg_config, render_dnsmasq_conf
from gefyra.model import labels
from gefyra.providers.docker.dataplane.cargo import container_ip, create_cargo, wait_tunnel
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.gateway import patch_default_route
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.engine import Engine
from gefyra.stowaway.client import StowawayClient

TEST_LABEL = labels.TEST
TESTKIT = Path(__file__).with_name("testkit.py")
TESTKIT_PATH = "/tmp/testkit.py"
SVC_NAME = "svc-a.default.svc.cluster.local"
HTTP_PORT, TCP_PORT = 8080, 9000


@dataclass
class Testbed:
    __test__ = False  # not a test class, despite the name
    client: object  # the docker SDK: the stand's own objects are made with it
    run_id: str
    engine: Engine = field(default_factory=Engine.from_env, repr=False)  # what gefyra's helpers take
    cluster_net: str = ""
    project_net: str = ""
    cluster_subnet: str = ""
    project_subnet: str = ""
    project_gateway: str = ""
    wg_port: int = 0
    publish_ip: str = ""  # where Stowaway's UDP port is published; default: the project network's gateway
    # True: a kube-proxy-like iptables DNAT instead of Docker's publishing (which relays container-to-host
    # traffic through the userland docker-proxy); used by the benchmark, removed again by teardown.
    nodeport: bool = False
    _iptables: list[list[str]] = field(default_factory=list)
    _ports: dict = field(default_factory=dict)  # Stowaway's published ports, kept for a replacement
    api: StowawayClient | None = None
    token: str = field(default="", repr=False)
    containers: dict[str, object] = field(default_factory=dict)
    ips: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ naming
    def name(self, role: str) -> str:
        return f"gefyra-dp-{self.run_id}-{role}"

    @property
    def labels(self) -> dict[str, str]:
        return {TEST_LABEL: self.run_id}

    # ------------------------------------------------------------------ parts
    def network(self, role: str) -> tuple[str, str, str]:
        name = self.name(role)
        net = self.client.networks.create(name, driver="bridge", labels=self.labels)
        net.reload()
        config = net.attrs["IPAM"]["Config"][0]
        return name, config["Subnet"], config["Gateway"]

    def workload(self, role: str, network: str | None, *args: str, **create) -> object:
        """A testkit container (Carrier image has python3) running `testkit.py <args>`.

        `network=None` with `network_mode="container:<id>"` in `create`: in another container's namespace."""
        container = self.client.containers.create(
            image_tag("carrier"),
            name=self.name(role),
            entrypoint=["python3", TESTKIT_PATH],
            command=list(args),
            network=network,
            labels=self.labels,
            healthcheck={"test": ["NONE"]},
            environment={"TESTKIT_NAME": role},
            detach=True,
            **create,
        )
        put_files(self.engine, container.id, {TESTKIT_PATH: TESTKIT.read_text()}, mode=0o644)
        container.start()
        container.reload()
        self.containers[role] = container
        if network:
            self.ips[role] = container_ip(self.engine, container.id, network)
        return container

    def start_cluster(self) -> None:
        self.cluster_net, self.cluster_subnet, _ = self.network("cluster")
        self.project_net, self.project_subnet, self.project_gateway = self.network("project")
        self.workload("svc", self.cluster_net, "serve", "--http", str(HTTP_PORT), "--tcp", str(TCP_PORT))
        dns = self.client.containers.create(
            image_tag("cargo"),
            name=self.name("dns"),
            entrypoint=["dnsmasq", "--keep-in-foreground", "--conf-file=/etc/cluster-dns.conf"],
            network=self.cluster_net,
            labels=self.labels,
            healthcheck={"test": ["NONE"]},
            detach=True,
        )
        conf = render_dnsmasq_conf({SVC_NAME: self.ips["svc"]})
        put_files(self.engine, dns.id, {"/etc/cluster-dns.conf": conf}, mode=0o644)
        dns.start()
        self.containers["dns"] = dns
        self.ips["dns"] = container_ip(self.engine, dns.id, self.cluster_net)
        self.start_stowaway()

    def start_stowaway(self, state: bytes | None = None) -> None:
        """Stowaway on the cluster network. `state`: a tar of /var/lib/stowaway (keys, peers, routes) to start
        with, as a Pod does that mounts its state (see `remove_stowaway`); the token and the published ports
        stay those of the first start (a NodePort does not move with its Pod)."""
        self.token = self.token or secrets.token_urlsafe(32)
        stowaway = self.client.containers.create(
            image_tag("stowaway"),
            name=self.name("stowaway"),
            network=self.cluster_net,
            cap_add=["NET_ADMIN"],
            devices=["/dev/net/tun:/dev/net/tun:rwm"],
            sysctls={"net.ipv4.ip_forward": "1"},
            environment={
                "STOWAWAY_CLUSTER_ROUTES": self.cluster_subnet,
                "STOWAWAY_DNS": self.ips["dns"],
            },
            ports=self._published_ports(),
            labels=self.labels,
            detach=True,
        )
        put_files(self.engine, stowaway.id, {"/run/secrets/stowaway/token": self.token})
        if state is not None:
            self.engine.put_archive(stowaway.id, "/var/lib", state)
        stowaway.start()
        stowaway.reload()
        self.containers["stowaway"] = stowaway
        self.ips["stowaway"] = container_ip(self.engine, stowaway.id, self.cluster_net)
        ports = stowaway.attrs["NetworkSettings"]["Ports"]
        if self.nodeport:
            self.wg_port = self.add_nodeport(
                self.publish_ip or self.project_gateway, self.ips["stowaway"], self.wg_port or None
            )
        else:
            self.wg_port = int(ports["51820/udp"][0]["HostPort"])
        api_port = int(ports["8080/tcp"][0]["HostPort"])
        self.api = StowawayClient(f"http://127.0.0.1:{api_port}", self.token)
        try:
            self.api.wait_ready(30)
        except Exception as error:
            stowaway.reload()
            logs = stowaway.logs(tail=30).decode(errors="replace")
            raise RuntimeError(f"{error}; Stowaway is {stowaway.status}:\n{logs}") from error

    def start_cargo(
        self,
        peer: str = "dev1",
        role: str = "cargo",
        *,
        routed: bool = True,
        mtu: str | None = None,
        env: dict[str, str] | None = None,
    ) -> object:
        """The seed's way: Stowaway makes the keys; the client fetches the peer config, copies it to Cargo.

        `routed`: Stowaway routes the project subnet to this peer (needed for proxy routes toward apps).
        """
        network = self.project_net
        config = self.api.put_peer(peer, routed_subnets=[self.project_subnet] if routed else [])
        endpoint = f"{self.publish_ip or self.project_gateway}:{self.wg_port}"
        text = render_cargo_wg_config(config, endpoint, mtu=mtu, local_subnets=[self.project_subnet])
        since = time.time() - 1
        cargo = create_cargo(
            self.engine, name=self.name(role), network=network, wg_config=text, labels=self.labels, env=env
        )
        self.containers[role] = self.client.containers.get(cargo)
        wait_tunnel(self.engine, cargo, 30, since=int(since))
        self.ips[role] = container_ip(self.engine, cargo, network)
        return self.containers[role]

    def start_app(self, role: str = "app", cargo_role: str = "cargo") -> object:
        dns = app_dns_settings(self.ips[cargo_role], "default")
        app = self.workload(
            role,
            self.project_net,
            "serve",
            "--http",
            str(HTTP_PORT),
            "--tcp",
            str(TCP_PORT),
            dns=dns.dns,
            dns_search=dns.dns_search,
            dns_opt=dns.dns_opt,
        )
        patch_default_route(self.engine, app.id, self.ips[cargo_role])
        return app

    def remove_stowaway(self) -> bytes:
        """Delete Stowaway's container like a deleted Pod (its NodePort stays, pointing nowhere) and return
        its state (a tar of /var/lib/stowaway) for `start_stowaway(state)`: the replacement keeps the keys
        and peers, and gets a new address (Docker hands out addresses in sequence)."""
        old = self.containers.pop("stowaway")
        stream, _ = old.get_archive("/var/lib/stowaway")
        state = b"".join(stream)
        old.remove(force=True)
        # Docker would hand the freed address to the next container: something else takes it, as another
        # Pod may, so the replacement's address is new and a client still bound to the old one reaches
        # nothing.
        self.workload(f"stowaway-old-ip-{len(self.containers)}", self.cluster_net, "serve")
        return state

    def _published_ports(self) -> dict:
        """Fixed host ports (a NodePort does not move when its Pod restarts; Docker's random ones may), the
        same again for a replaced Stowaway."""
        if self._ports:
            return dict(self._ports)
        ports: dict = {"8080/tcp": ("127.0.0.1", free_port("127.0.0.1", socket.SOCK_STREAM))}
        if not self.nodeport:
            host = self.publish_ip or self.project_gateway
            ports["51820/udp"] = (host, free_port(host, socket.SOCK_DGRAM))
        self._ports = dict(ports)
        return ports

    def add_nodeport(self, host_ip: str, target_ip: str, port: int | None = None) -> int:
        """DNAT udp host_ip:<port> -> target_ip:51820 in the kernel, like kube-proxy for a NodePort, and
        let exactly that flow pass Docker's bridge isolation (DOCKER-USER). Called again for a replaced
        Stowaway (same port, new target), it swaps the rules but keeps the host's conntrack entries: a
        client that keeps sending from the same source port stays bound to the old address (the worst
        case of a kube-proxy that does not flush UDP flows)."""
        for rule in reversed(self._iptables):
            subprocess.run(rule, capture_output=True)
        self._iptables.clear()
        port = port or free_port(host_ip, socket.SOCK_DGRAM)
        comment = ["-m", "comment", "--comment", f"gefyra-dp-{self.run_id}"]
        rules = [
            (
                "nat",
                "PREROUTING",
                ["-d", host_ip, "-p", "udp", "--dport", str(port)],
                ["-j", "DNAT", "--to-destination", f"{target_ip}:51820"],
            ),
            ("filter", "DOCKER-USER", ["-d", target_ip, "-p", "udp", "--dport", "51820"], ["-j", "ACCEPT"]),
            ("filter", "DOCKER-USER", ["-s", target_ip, "-p", "udp", "--sport", "51820"], ["-j", "ACCEPT"]),
        ]
        for table, chain, match, target in rules:
            subprocess.run(["iptables", "-t", table, "-I", chain, "1", *match, *comment, *target], check=True)
            self._iptables.append(["iptables", "-t", table, "-D", chain, *match, *comment, *target])
        return port

    # ------------------------------------------------------------------ use
    def run_in(self, role: str, *args: str) -> tuple[int, str]:
        result = self.containers[role].exec_run(["python3", TESTKIT_PATH, *args])
        return result.exit_code, (result.output or b"").decode(errors="replace")

    def teardown(self) -> None:
        for rule in reversed(self._iptables):
            subprocess.run(rule, capture_output=True)
        self._iptables.clear()
        mine = {"label": f"{TEST_LABEL}={self.run_id}"}
        for container in self.client.containers.list(all=True, filters=mine):
            container.remove(force=True)
        for network in self.client.networks.list(filters=mine):
            network.remove()
        self.engine.close()


@contextlib.contextmanager
def stowaway_settings(stand: Testbed, folder: Path):
    """GEFYRA_STOWAWAY_URL / GEFYRA_STOWAWAY_TOKEN_FILE pointing the engine at this stand's Stowaway for the
    duration of the block (the token in `folder`, mode 600)."""
    token_file = folder / "stowaway.token"
    token_file.write_text(stand.token)
    token_file.chmod(0o600)
    settings = {"GEFYRA_STOWAWAY_URL": stand.api.base_url, "GEFYRA_STOWAWAY_TOKEN_FILE": str(token_file)}
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def project_containers(client, project: str) -> dict:
    """The engine's containers of `project` by `<kind>/<name>`."""
    found = client.api.containers(all=True, filters={"label": [f"{labels.PROJECT}={project}"]})
    key = lambda c: f"{c['Labels'][labels.KIND]}/{c['Labels'][labels.NAME]}"  # noqa: E731
    return {key(c): client.containers.get(c["Id"]) for c in found}


def free_port(host: str, kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def host_bridge_ip(client) -> str:
    """The host's address on Docker's default bridge: reachable from every project network, and never inside
    a cluster range (a NodePort-like endpoint for networks that do not exist yet)."""
    config = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    return config.get("Gateway") or str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


def new_run_id(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def subnet_of(ip: str, subnet: str) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(subnet)

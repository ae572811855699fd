"""The Docker side of the tunnel bench: the data-plane stand (tests/dataplane/testbed.py) with the knobs the
latency experiments need, and the Docker-hosted wireguard-go pair.

Knobs of a stand (`--tunnel KEY=VALUE,...`; without knobs a stand is the product as shipped):

  gomaxprocs=N        CARGO_GOMAXPROCS and STOWAWAY_GOMAXPROCS (the entry points' override; default: half
                      the CPUs, at least 1)
  endpoint=nodeport   (default) Cargo reaches Stowaway's UDP port through a kernel DNAT on the host, like a
                      NodePort
  endpoint=shared     Stowaway is attached to the project network too and Cargo names its address there: no
                      host routing, no DNAT (Stowaway then routes no project subnet: the bench needs no proxy
                      routes)
  endpoint=published  Docker publishes Stowaway's UDP port (container-to-host traffic then goes through the
                      userland docker-proxy: about 14 MB/s; shows why the stand DNATs in the kernel)
  shares=N            `docker update --cpu-shares N` on Cargo and Stowaway (default 1024, like every
                      container)
  health=off          Cargo and Stowaway without the images' HEALTHCHECK (default `image`: Docker runs it
                      every 5 s inside them; Stowaway's is a python3 start, Cargo's a shell script)
  gso=off             `ip link set wg0 gso_max_segs 1` in Cargo and Stowaway: the kernel hands wireguard-go
                      single segments instead of TSO batches (wireguard-go itself has no batch-size setting;
                      bulk throughput falls to about 13 MB/s)
  cpus=A[/B]          `docker update --cpuset-cpus` on Cargo (A) and Stowaway (B, default A): e.g. `cpus=0`
                      puts both wireguard-go on CPU 0, `cpus=0/1` one on each
  app-shares=N        the same on the endpoints: app, service (and the core variant's client and server)
  nat=off             Cargo without its MASQUERADE toward the tunnel; Stowaway (which routes the project
                      subnet to Cargo) masquerades that subnet into the cluster instead: one NAT step less
                      per packet (conntrack stays). Not a product option: two clients may share a subnet
"""

from __future__ import annotations

import secrets
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bench._tunnel_latency import PROBE, PROBE_PATH, Variant, container_probe
from gefyra.dataplane.cargo_layout import CARGO_CONFIG_PATH
from gefyra.dataplane.render import render_cargo_wg_config
from gefyra.providers.docker.dataplane.cargo import container_ip, create_cargo, wait_tunnel
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.engine import ContainerCreate
from gefyra.stowaway.client import StowawayClient
from tests.dataplane.testbed import HTTP_PORT, Testbed, new_run_id

CORE_PORT = 18081  # the core variant's server in Stowaway's namespace (8080 is Stowaway's API)
PAIR_SERVER = "10.254.79.2"
PYTHON_VERSION = "import platform; print(platform.python_version())"


class StandOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    gomaxprocs: int | None = Field(default=None, ge=1)
    endpoint: Literal["nodeport", "shared", "published"] = "nodeport"
    shares: int | None = Field(default=None, ge=2, le=262144)
    app_shares: int | None = Field(default=None, ge=2, le=262144, alias="app-shares")
    health: Literal["image", "off"] = "image"
    gso: Literal["on", "off"] = "on"
    cpus: str | None = Field(default=None, pattern=r"^[0-9,-]+(/[0-9,-]+)?$")
    nat: Literal["on", "off"] = "on"

    @model_validator(mode="after")
    def _routed(self) -> StandOptions:
        if self.nat == "off" and self.endpoint == "shared":
            raise ValueError("nat=off needs the project subnet routed to Cargo; endpoint=shared has none")
        return self

    @property
    def label(self) -> str:
        """`gomaxprocs=2,endpoint=shared` (only what differs from the defaults), '' for the defaults."""
        knobs = self.model_dump(exclude_defaults=True, by_alias=True)
        return ",".join(f"{key}={value}" for key, value in knobs.items())


def parse_stand(text: str) -> StandOptions:
    """`KEY=VALUE,...` (see the module doc) -> StandOptions; a clear ValueError naming the bad part."""
    pairs: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--tunnel {text!r}: {part!r} is not KEY=VALUE")
        pairs[key.strip()] = value.strip()
    try:
        return StandOptions.model_validate(pairs)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ValueError(f"--tunnel {text!r}: {problems}") from error


@dataclass
class BenchBed(Testbed):
    """Testbed whose Stowaway gets extra environment (the parent's start_stowaway takes none)."""

    stowaway_env: dict[str, str] = field(default_factory=dict)
    stowaway_health: bool = True

    def start_stowaway(self, state: bytes | None = None) -> None:
        if state is not None:
            raise ValueError("the bench's Stowaway starts without saved state")
        self.token = secrets.token_urlsafe(32)
        stowaway = engine(self).containers.create(
            image_tag("stowaway"),
            name=self.name("stowaway"),
            network=self.cluster_net,
            cap_add=["NET_ADMIN"],
            devices=["/dev/net/tun:/dev/net/tun:rwm"],
            sysctls={"net.ipv4.ip_forward": "1"},
            environment={
                "STOWAWAY_CLUSTER_ROUTES": self.cluster_subnet,
                "STOWAWAY_DNS": self.ips["dns"],
                **self.stowaway_env,
            },
            ports=self._published_ports(),
            labels=self.labels,
            detach=True,
            **health(self.stowaway_health),
        )
        put_files(self.engine, stowaway.id, {"/run/secrets/stowaway/token": self.token})
        stowaway.start()
        stowaway.reload()
        self.containers["stowaway"] = stowaway
        self.ips["stowaway"] = container_ip(self.engine, stowaway.id, self.cluster_net)
        ports = stowaway.attrs["NetworkSettings"]["Ports"]
        if self.nodeport:
            self.wg_port = self.add_nodeport(self.project_gateway, self.ips["stowaway"])
        else:
            self.wg_port = int(ports["51820/udp"][0]["HostPort"])
        api_port = int(ports["8080/tcp"][0]["HostPort"])
        self.api = StowawayClient(f"http://127.0.0.1:{api_port}", self.token)
        self.api.wait_ready(30)


class Stand:
    """One data-plane stand: cluster network (service, DNS, Stowaway) + project network (Cargo, app)."""

    def __init__(self, client: Any, options: StandOptions, mtu: str) -> None:
        self.options, self.mtu = options, mtu
        env = {} if options.gomaxprocs is None else {"STOWAWAY_GOMAXPROCS": str(options.gomaxprocs)}
        nodeport = options.endpoint != "published"
        self.bed = BenchBed(
            client,
            new_run_id("bench"),
            nodeport=nodeport,
            stowaway_env=env,
            stowaway_health=options.health == "image",
        )

    def start(self, *, plain: bool, core: bool, loop: bool) -> None:
        bed = self.bed
        bed.start_cluster()
        self._start_cargo()
        bed.start_app()
        if plain:
            bed.workload("direct", bed.cluster_net, "serve", "--http", "18080")
        if core:
            for role, of in (("core-server", "stowaway"), ("core-client", "cargo")):
                port = str(CORE_PORT if role == "core-server" else CORE_PORT + 1)
                mode = f"container:{box(bed, of).id}"
                bed.workload(role, None, "serve", "--http", port, network_mode=mode)
        self._tune()
        for role in ("app", "direct", "core", "cargo-ns", *(["loop"] if loop else [])):
            container, host, target = self._where(role)
            if container in bed.containers:
                put_files(bed.engine, box(bed, container).id, {PROBE_PATH: PROBE.read_text()}, mode=0o644)
                wait_http(in_container(bed, container), f"http://{host}:{target}/")

    def _tune(self) -> None:
        """The knobs that act on running containers: CPU weights and sets, GSO."""
        bed, options = self.bed, self.options
        endpoints = [role for role in ("svc", "app", "core-server", "core-client") if role in bed.containers]
        for roles, shares in ((["cargo", "stowaway"], options.shares), (endpoints, options.app_shares)):
            for role in roles if shares is not None else []:
                box(bed, role).update(cpu_shares=shares)
        if options.cpus is not None:
            cargo_cpus, _, stowaway_cpus = options.cpus.partition("/")
            box(bed, "cargo").update(cpuset_cpus=cargo_cpus)
            box(bed, "stowaway").update(cpuset_cpus=stowaway_cpus or cargo_cpus)
        for role in ("cargo", "stowaway") if options.gso == "off" else ():
            tune_in(bed, role, "gso=off", ["ip", "link", "set", "wg0", "gso_max_segs", "1"])
        if options.nat == "off":
            masquerade = ["-s", bed.project_subnet, "!", "-o", "wg0", "-j", "MASQUERADE"]
            tune_in(bed, "stowaway", "nat=off", ["iptables", "-t", "nat", "-A", "POSTROUTING", *masquerade])
            own = ["-t", "nat", "-D", "POSTROUTING", "-o", "wg0", "-j", "MASQUERADE"]
            tune_in(bed, "cargo", "nat=off", ["iptables", *own])

    def _where(self, role: str) -> tuple[str, str, int]:
        """The client container and the server address of a variant."""
        svc = self.bed.ips["svc"]
        return {
            "app": ("app", svc, HTTP_PORT),
            "direct": ("direct", svc, HTTP_PORT),
            "core": ("core-client", STOWAWAY_TUNNEL_IP, CORE_PORT),
            "cargo-ns": ("core-client", svc, HTTP_PORT),
            "loop": ("svc", "127.0.0.1", HTTP_PORT),
        }[role]

    def _start_cargo(self) -> None:
        """Like Testbed.start_cargo, plus CARGO_GOMAXPROCS and the `endpoint` knob."""
        bed, client = self.bed, engine(self.bed)
        if self.options.endpoint == "shared":
            client.networks.get(bed.project_net).connect(box(bed, "stowaway"))
            endpoint = f"{container_ip(bed.engine, box(bed, 'stowaway').id, bed.project_net)}:51820"
            routed: list[str] = []  # Stowaway now sits on the project subnet: it must not route it to wg0
        else:
            endpoint, routed = f"{bed.project_gateway}:{bed.wg_port}", [bed.project_subnet]
        assert bed.api is not None
        config = bed.api.put_peer("dev1", routed_subnets=routed)
        text = render_cargo_wg_config(config, endpoint, mtu=self.mtu, local_subnets=[bed.project_subnet])
        env = {} if self.options.gomaxprocs is None else {"CARGO_GOMAXPROCS": str(self.options.gomaxprocs)}
        since = time.time() - 1
        name = bed.name("cargo")
        if self.options.health == "image":  # the product's own create
            cargo = create_cargo(
                bed.engine, name=name, network=bed.project_net, wg_config=text, labels=bed.labels, env=env
            )
        else:  # create_cargo's container without the image's HEALTHCHECK
            cargo = bed.engine.create_container(
                ContainerCreate(
                    image=image_tag("cargo"),
                    name=name,
                    labels=bed.labels,
                    env=env,
                    network=bed.project_net,
                    cap_add=["NET_ADMIN"],
                    devices=["/dev/net/tun:/dev/net/tun:rwm"],
                    sysctls={"net.ipv4.ip_forward": "1"},
                    healthcheck_off=True,
                )
            )
            put_files(bed.engine, cargo, {CARGO_CONFIG_PATH: text})
            bed.engine.start(cargo)
        bed.containers["cargo"] = client.containers.get(cargo)
        wait_tunnel(bed.engine, cargo, 30, since=int(since))
        bed.ips["cargo"] = container_ip(bed.engine, cargo, bed.project_net)

    def variant(self, name: str, role: str = "app") -> Variant:
        """`app` (the tunnel: app -> Cargo -> Stowaway -> service), `direct` (the same service over the
        cluster network, no tunnel), `core` (Cargo's namespace -> Stowaway's: no app or service hop),
        `cargo-ns` (Cargo's namespace -> service: no app hop) or `loop` (the service to itself over
        loopback: no network hop at all)."""
        container, host, port = self._where(role)
        probe = container_probe(name, box(self.bed, container).id, host, port)
        return Variant(in_container(self.bed, container), host, port, probe)

    def python_version(self) -> str:
        """The clients' and servers' Python (the Carrier image's)."""
        code, out = box(self.bed, "app").exec_run(["python3", "-c", PYTHON_VERSION])
        return out.decode().strip() if code == 0 else "unknown"

    def gomaxprocs_log(self) -> str:
        """What Cargo and Stowaway logged about their wireguard-go runtime (or the kernel module)."""
        found = []
        for role in ("cargo", "stowaway"):
            lines = box(self.bed, role).logs().decode(errors="replace").splitlines()
            marks = ("GOMAXPROCS", "kernel WireGuard")
            runtime = [line.split(": ", 1)[-1] for line in lines if any(mark in line for mark in marks)]
            found.append(f"{role} {runtime[-1] if runtime else 'unknown'}")
        return ", ".join(found)


STOWAWAY_TUNNEL_IP = "100.87.0.1"  # the first address of Stowaway's default tunnel subnet


def tune_in(bed: Testbed, role: str, knob: str, command: list[str]) -> None:
    """Run a knob's command in a running container; a failure names the knob."""
    code, out = box(bed, role).exec_run(command)
    if code != 0:
        raise RuntimeError(f"{knob} in {role}: {out.decode(errors='replace')}")


def health(image: bool) -> dict[str, Any]:
    """Create options: the image's HEALTHCHECK, or none."""
    return {} if image else {"healthcheck": {"test": ["NONE"]}}


def engine(bed: Testbed) -> Any:
    """The Docker client of a testbed (typed `object` there)."""
    return bed.client


def box(bed: Testbed, role: str) -> Any:
    """A testbed's container by role (typed `object` there)."""
    return bed.containers[role]


def in_container(bed: Testbed, role: str) -> Any:
    def run(*args: str) -> str:
        code, out = bed.run_in(role, *args)
        if code != 0:
            raise RuntimeError(f"testkit {args[0]} in {role} failed: {out}")
        return out

    return run


PAIR_ENTRY = """set -e
WG_PROCESS_FOREGROUND=1 wireguard-go wg0 &
for _ in $(seq 400); do [ -S /var/run/wireguard/wg0.sock ] && break; sleep 0.05; done
wg setconf wg0 /etc/gefyra/pair.conf
ip address add "$PAIR_ADDRESS" dev wg0
ip link set wg0 mtu "$PAIR_MTU" up
wait
"""


def start_docker_pair(bed: Testbed, mtu: str, go_env: dict[str, str]) -> Variant:
    """Baseline `pair`: wireguard-go in two Cargo-image containers on their own Docker network (B learns
    A's endpoint from the handshake), a testkit client in A's and a server in B's network namespace."""
    network, _, _ = bed.network("pair")
    keys = {}
    for side in ("a", "b"):
        private = subprocess.run(["wg", "genkey"], check=True, capture_output=True, text=True).stdout.strip()
        public = subprocess.run(["wg", "pubkey"], input=private, check=True, capture_output=True, text=True)
        keys[side] = (private, public.stdout.strip())
    addresses = {"a": "10.254.79.1/24", "b": f"{PAIR_SERVER}/24"}
    endpoint = ""
    for side, other in (("b", "a"), ("a", "b")):
        peer = engine(bed).containers.create(
            image_tag("cargo"),
            name=bed.name(f"pair-{side}"),
            entrypoint=["bash", "-c", PAIR_ENTRY],
            network=network,
            cap_add=["NET_ADMIN"],
            devices=["/dev/net/tun:/dev/net/tun:rwm"],
            environment={
                "PAIR_ADDRESS": addresses[side],
                "PAIR_MTU": "1420" if mtu == "auto" else mtu,
                **go_env,
            },
            healthcheck={"test": ["NONE"]},
            labels=bed.labels,
            detach=True,
        )
        conf = f"[Interface]\nPrivateKey = {keys[side][0]}\nListenPort = 51820\n\n"
        conf += f"[Peer]\nPublicKey = {keys[other][1]}\nAllowedIPs = 10.254.79.0/24\n{endpoint}"
        put_files(bed.engine, peer.id, {"/etc/gefyra/pair.conf": conf})
        peer.start()
        bed.containers[f"pair-{side}"] = peer
        peer.reload()
        if peer.status != "running":
            raise RuntimeError(f"pair-{side} exited: {peer.logs(tail=20).decode(errors='replace')}")
        bed.ips[f"pair-{side}"] = ip = container_ip(bed.engine, peer.id, network)
        endpoint = f"Endpoint = {ip}:51820\n"
    for role, side, port in (("pair-server", "b", HTTP_PORT), ("pair-client", "a", 18080)):
        mode = f"container:{box(bed, f'pair-{side}').id}"
        bed.workload(role, None, "serve", "--http", str(port), network_mode=mode)
    put_files(bed.engine, box(bed, "pair-client").id, {PROBE_PATH: PROBE.read_text()}, mode=0o644)
    run = in_container(bed, "pair-client")
    wait_http(run, f"http://{PAIR_SERVER}:{HTTP_PORT}/")
    probe = container_probe("pair", box(bed, "pair-client").id, PAIR_SERVER, HTTP_PORT)
    return Variant(run, PAIR_SERVER, HTTP_PORT, probe)


def wait_http(run: Any, url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            run("get", url)
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)

"""kube-proxy in iptables mode: every Service port becomes DNAT rules in GEFYRA-SANDBOX-<I>-SVC (ClusterIP)
and -NP (NodePort: this instance's Node IP and local addresses outside every sandbox's Pod range), spread over
the ready endpoints with `statistic random`. A ClusterIP without endpoints has no rule, so its packets hit the
unreachable route and fail fast.
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

from .informer import Informer
from .netsetup import iptables_restore
from .settings import POD_SUPERNET, Settings
from .workqueue import Workers

log = logging.getLogger(__name__)
Obj = dict[str, Any]
ALL = "all"


def _targets(endpoints: Obj | None, port: Obj) -> list[str]:
    found = []
    for subset in (endpoints or {}).get("subsets") or []:
        for ep_port in subset.get("ports") or []:
            if ep_port.get("name", "") == port.get("name", "") and ep_port.get("protocol", "TCP") == port.get(
                "protocol", "TCP"
            ):
                found += [f"{a['ip']}:{ep_port['port']}" for a in subset.get("addresses") or []]
    return sorted(found)


def _spread(match: str, targets: list[str]) -> list[str]:
    rules = []
    for index, target in enumerate(targets):
        left = len(targets) - index
        chance = f"-m statistic --mode random --probability {1 / left:.5f} " if left > 1 else ""
        rules.append(f"{match} {chance}-j DNAT --to-destination {target}")
    return rules


def _service_ports(services: list[Obj]) -> Iterator[tuple[tuple[str, str], Obj, str, Obj]]:
    """((namespace, name), spec, ClusterIP, port) for each port of each Service that has a ClusterIP."""
    for service in services:
        spec = service.get("spec") or {}
        ip = spec.get("clusterIP")
        if not ip or ip == "None":
            continue
        key = (service["metadata"]["namespace"], service["metadata"]["name"])
        for port in spec.get("ports") or []:
            yield key, spec, ip, port


def render(settings: Settings, services: list[Obj], endpoints: dict[tuple[str, str], Obj]) -> str:
    """The iptables-restore text for both chains; deterministic so an unchanged cluster writes nothing."""
    svc, nodeport = settings.chain("SVC"), settings.chain("NP")
    rules: list[str] = []
    np_rules: list[str] = []
    ordered = sorted(services, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"]))
    for key, spec, ip, port in _service_ports(ordered):
        proto = port.get("protocol", "TCP").lower()
        targets = _targets(endpoints.get(key), port)
        comment = f'-m comment --comment "{key[0]}/{key[1]}:{port.get("name", port["port"])}"'
        rules += _spread(
            f"-A {svc} -d {ip}/32 -p {proto} -m {proto} --dport {port['port']} {comment}", targets
        )
        if port.get("nodePort") and spec.get("type") in ("NodePort", "LoadBalancer"):
            np_rules += _spread(
                f"-A {nodeport} -p {proto} -m {proto} --dport {port['nodePort']} {comment}", targets
            )
    # NodePorts answer on this instance's own Node IP, and on local addresses that belong to no sandbox
    # (127.0.0.1, Docker gateways, the host's addresses). Another sandbox's Node IP is left to that sandbox's
    # chain even when both use the same nodePort: the newest instance's jumps come first, so a catch-all over
    # every local address would take the other's NodePorts over.
    rules.append(f"-A {svc} -d {settings.gateway}/32 -j {nodeport}")
    rules.append(f"-A {svc} ! -d {POD_SUPERNET} -m addrtype --dst-type LOCAL -j {nodeport}")
    return "\n".join(["*nat", f":{svc} - [0:0]", f":{nodeport} - [0:0]", *rules, *np_rules, "COMMIT", ""])


def udp_targets(services: list[Obj], endpoints: dict[tuple[str, str], Obj]) -> dict[tuple, tuple[str, ...]]:
    """(ClusterIP, port, nodePort) of every UDP Service port -> its endpoints."""
    found = {}
    for key, _spec, ip, port in _service_ports(services):
        if port.get("protocol", "TCP") == "UDP":
            found[(ip, port["port"], port.get("nodePort"))] = tuple(_targets(endpoints.get(key), port))
    return found


def node_addresses(ip_output: str) -> list[str]:
    """Local IPv4 addresses NodePorts answer on besides the Node IP (`ip -4 -o address show` output): every
    one outside the sandboxes' Pod ranges - 127.0.0.1, Docker gateways, the host's own (pure)."""
    found = set()
    for line in ip_output.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[2] == "inet":
            address = ipaddress.ip_interface(fields[3]).ip
            if address not in POD_SUPERNET:
                found.add(str(address))
    return sorted(found, key=ipaddress.ip_address)


def flush_commands(
    settings: Settings, key: tuple, old_targets: tuple[str, ...], local: list[str]
) -> list[list[str]]:
    """conntrack deletions for one UDP Service port whose endpoints changed, scoped to what this instance
    owns, like kube-proxy: its ClusterIP:port, its Node IP:nodePort, flows DNAT-ed to its old endpoints (Pod
    IPs are this instance's own) and, on every other node address in `local`, the un-NATed flows to the
    nodePort (reply source = original destination: made while no rule matched, so they reached no sandbox).
    Another sandbox's flows on the same nodePort number stay."""
    cluster_ip, port, node_port = key
    udp = ["conntrack", "-D", "-p", "udp"]
    commands = [[*udp, "--orig-dst", cluster_ip, "--orig-port-dst", str(port)]]
    if node_port:
        np = ["--orig-port-dst", str(node_port)]
        commands.append([*udp, "--orig-dst", settings.gateway, *np])
        commands += [[*udp, *np, "--reply-src", ip] for ip in sorted({t.split(":")[0] for t in old_targets})]
        commands += [[*udp, "--orig-dst", ip, *np, "--reply-src", ip] for ip in local]
    return commands


def flush_udp(settings: Settings, key: tuple, old_targets: tuple[str, ...]) -> None:
    """Forget conntrack entries of a UDP Service whose endpoints changed (as kube-proxy does): a client that
    kept sending from one source port (WireGuard does) would otherwise stick to the old, or to no,
    destination.
    """
    if shutil.which("conntrack") is None:
        log.warning("conntrack not installed: UDP flows to changed Services may stay stale for a while")
        return
    shown = subprocess.run(["ip", "-4", "-o", "address", "show"], capture_output=True, text=True)
    for command in flush_commands(settings, key, old_targets, node_addresses(shown.stdout)):
        subprocess.run(command, capture_output=True)  # exit 1 just means "nothing to delete"


class Proxy:
    def __init__(self, settings: Settings, services: Informer, endpoints: Informer) -> None:
        self.settings, self.services, self.endpoints = settings, services, endpoints
        self.workers = Workers("proxy")
        self.queue = self.workers.queue
        self._written = ""
        self._udp: dict[tuple, tuple[str, ...]] = {}
        for informer in (services, endpoints):
            informer.add_handler(lambda _k, _o: self.queue.add(ALL))

    def start(self) -> None:
        self.workers.run(self.sync, 1)

    def stop(self) -> None:
        self.workers.stop()

    def sync(self, _key: str) -> None:
        if not (self.services.synced.is_set() and self.endpoints.synced.is_set()):
            self.queue.add_after(ALL, 0.1)
            return
        endpoints = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in self.endpoints.list()}
        text = render(self.settings, self.services.list(), endpoints)
        if text != self._written:
            iptables_restore(text)
            self._written = text
        udp = udp_targets(self.services.list(), endpoints)
        for key, targets in udp.items():
            if self._udp.get(key) != targets:
                flush_udp(self.settings, key, self._udp.get(key, ()))
        self._udp = udp

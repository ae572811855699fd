"""The bench's `bare` baseline: a wireguard-go pair between two network namespaces made here (veth
underneath), with the very binary of the Cargo image; testkit server in one namespace, clients in the other.

Each of its processes gets a CPU cgroup of its own next to the containers' (or stays in the root cgroup):
see CpuCgroups. Everything made here (namespaces, cgroups, the key folder, processes) goes again on exit.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench._tunnel_latency import PROBE, Probe, Variant

SERVER, PORT = "10.254.78.2", 8080


def wireguard_go_from_image(client: Any, image: str, folder: Path) -> Path:
    """Copy /usr/bin/wireguard-go out of `image` (a static Go binary), so the bare pair runs the very same
    WireGuard implementation as Cargo and Stowaway."""
    holder = client.containers.create(image, entrypoint=["true"], network_disabled=True)
    try:
        stream, _ = holder.get_archive("/usr/bin/wireguard-go")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.extractfile(tar.getmembers()[0])
            assert member is not None, "wireguard-go is not a regular file in the image"
            data = member.read()
    finally:
        holder.remove(force=True)
    binary = folder / "wireguard-go"
    binary.write_bytes(data)
    binary.chmod(0o700)
    return binary


def sh(*args: str, ns: str | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    prefix = ["ip", "netns", "exec", ns] if ns else []
    done = subprocess.run([*prefix, *args], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr.strip())
    return done


def docker_cpu_cgroup_parent(container: Any) -> Path:
    """The CPU cgroup directory holding the engine's containers (cgroup v1 `cpu` hierarchy, else v2)."""
    container.reload()
    lines = Path(f"/proc/{container.attrs['State']['Pid']}/cgroup").read_text().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return Path("/sys/fs/cgroup", controllers, path.lstrip("/")).parent
    path = next(line.split(":", 2)[2] for line in lines if line.startswith("0::"))
    return Path("/sys/fs/cgroup", path.lstrip("/")).parent


class CpuCgroups:
    """One CPU cgroup per bare-pair process, next to the containers' own (`parent`), or none (`None`).

    Why: on this machine (cgroup v1) every container sits in `/docker/<id>` and all of them together weigh as
    much as ONE task of the root cgroup. Bare processes left in the root cgroup each weigh as much as the
    whole Docker group, so on a machine busy with containers the bare pair got about 40 % more CPU than the
    same pair in containers (measured: 260 vs 183 MB/s; 232-300 vs 257-331 MB/s once placed like this)."""

    def __init__(self, parent: Path | None, tag: str) -> None:
        self.parent, self.tag = parent, tag
        self.made: list[Path] = []

    def join(self, role: str) -> Callable[[], None] | None:
        """A preexec_fn moving the child into its own cgroup (None when disabled)."""
        if self.parent is None:
            return None
        folder = self.parent / f"gefyra-bench-{self.tag}-{role}"
        if folder not in self.made:
            folder.mkdir()
            self.made.append(folder)
        procs = folder / "cgroup.procs"

        def enter() -> None:
            procs.write_text("0")  # "0": the writing process itself

        return enter

    def remove(self) -> None:
        for folder in self.made:
            for _ in range(50):  # a just-killed process leaves its cgroup a moment later
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


class BarePair:
    """The pair's client side: testkit runs (downloads) and the latency probe, in the client namespace."""

    def __init__(self, ns_client: str, cgroups: CpuCgroups, testkit: Path, python: str) -> None:
        self.ns_client, self.cgroups, self.testkit, self.python = ns_client, cgroups, testkit, python

    def run(self, *args: str) -> str:
        return sh(
            self.python,
            str(self.testkit),
            *args,
            ns=self.ns_client,
            timeout=300,
            preexec_fn=self.cgroups.join("client"),
        ).stdout

    def variant(self, name: str) -> Variant:
        argv = ["ip", "netns", "exec", self.ns_client, self.python, "-u", str(PROBE), SERVER, str(PORT)]
        return Variant(self.run, SERVER, PORT, Probe(name, argv, self.cgroups.join("client")))


def _keys(folder: Path, names: tuple[str, ...]) -> dict[str, tuple[Path, str]]:
    """A key pair per name: the private key in a mode-600 file (never on a command line), the public key."""
    keys = {}
    for name in names:
        private = subprocess.run(["wg", "genkey"], check=True, capture_output=True, text=True).stdout
        key_file = folder / name
        key_file.touch(mode=0o600)
        key_file.write_text(private)
        public = subprocess.run(["wg", "pubkey"], input=private, check=True, capture_output=True, text=True)
        keys[name] = (key_file, public.stdout.strip())
    return keys


def _start_wireguard(
    ns: str, wg: str, binary: str, env: dict[str, str], preexec: Callable[[], None] | None
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, binary, wg],
        env={**os.environ, "WG_PROCESS_FOREGROUND": "1", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=preexec,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/var/run/wireguard/{wg}.sock").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("wireguard-go did not start")
        time.sleep(0.05)
    return proc


def _underlay(ns_a: str, ns_b: str, tag: str) -> None:
    """Both namespaces (loopback up) and a veth pair between them with a /30."""
    veth_a, veth_b = f"gbva{tag}", f"gbvb{tag}"
    for ns in (ns_a, ns_b):
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
    sh("ip", "link", "add", veth_a, "netns", ns_a, "type", "veth", "peer", "name", veth_b, "netns", ns_b)
    for ns, addr, dev in ((ns_a, "10.254.77.1/30", veth_a), (ns_b, "10.254.77.2/30", veth_b)):
        sh("ip", "addr", "add", addr, "dev", dev, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)


def _wait_ready(pair: BarePair, timeout: float = 10) -> None:
    """Poll a GET through the pair until it answers (handshake, server start)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pair.run("get", f"http://{SERVER}:{PORT}/")
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def bare_pair(
    mtu: str,
    wireguard_go: str,
    testkit: Path,
    cgroup_parent: Path | None = None,
    go_env: dict[str, str] | None = None,
    python: str = sys.executable,
) -> Iterator[BarePair]:
    """Two netns joined by a veth pair, a wireguard-go interface in each, addresses only inside them;
    `python` runs the testkit server and the clients."""
    tag = uuid.uuid4().hex[:6]
    cgroups = CpuCgroups(cgroup_parent, tag)
    ns_a, ns_b = f"gefyra-bench-a-{tag}", f"gefyra-bench-b-{tag}"
    # wireguard-go's control socket is /var/run/wireguard/<name>.sock on the shared filesystem: unique names.
    wg_names = {ns_a: f"gbwa{tag}", ns_b: f"gbwb{tag}"}
    procs: list[subprocess.Popen[bytes]] = []
    secrets_dir = Path(tempfile.mkdtemp(prefix="gefyra-bench-"))
    os.chmod(secrets_dir, 0o700)
    try:
        _underlay(ns_a, ns_b, tag)
        keys = _keys(secrets_dir, (ns_a, ns_b))
        tunnel = {ns_a: ("10.254.78.1/24", ns_b, "10.254.77.2"), ns_b: (f"{SERVER}/24", ns_a, "10.254.77.1")}
        for ns, (addr, other, other_underlay) in tunnel.items():
            wg = wg_names[ns]
            procs.append(_start_wireguard(ns, wg, wireguard_go, go_env or {}, cgroups.join(f"wg-{ns[13]}")))
            peer = ["peer", keys[other][1], "allowed-ips", "10.254.78.0/24"]
            peer += ["endpoint", f"{other_underlay}:51820"]
            sh("wg", "set", wg, "listen-port", "51820", "private-key", str(keys[ns][0]), *peer, ns=ns)
            sh("ip", "addr", "add", addr, "dev", wg, ns=ns)
            sh("ip", "link", "set", wg, "mtu", str(1420 if mtu == "auto" else mtu), "up", ns=ns)
        procs.append(
            subprocess.Popen(
                ["ip", "netns", "exec", ns_b, python, str(testkit), "serve", "--http", str(PORT)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=cgroups.join("server"),
            )
        )
        pair = BarePair(ns_a, cgroups, testkit, python)
        _wait_ready(pair)
        yield pair
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        for ns in (ns_a, ns_b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(secrets_dir, ignore_errors=True)
        cgroups.remove()

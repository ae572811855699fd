"""Benchmark: app -> service through Cargo + WireGuard + Stowaway, against three baselines.

  tunnel  the real data plane (tests/dataplane/testbed.py: Stowaway, service and DNS on a "cluster" network,
          Cargo and the app on a "project" network; the app's default route is Cargo)
  plain   the same client and server containers on one plain Docker network (no tunnel)
  bare    a bare wireguard-go pair between two network namespaces created here (veth underneath)
  pair    the same wireguard-go pair hosted like the tunnel: two containers from the Cargo image on a Docker
          network of their own, client and server in their network namespaces (the Carrier image's python3),
          so it pays what every Docker container pays (bridge + br_netfilter, conntrack for Docker's DNS
          rules, seccomp, one cgroup each) and the ratio tunnel/pair isolates the data plane's own hops

Each variant: a 200 MB HTTP download (median of --runs) and --requests sequential small HTTP requests (a new
connection each; median latency). The same client/server program (tests/dataplane/testkit.py) runs
everywhere. Prints medians and the ratios tunnel/bare, tunnel/pair and tunnel/plain. Needs root (netns)
and Docker.

    python3 bench/tunnel.py [--mb 200] [--requests 1000] [--runs 3] [--mtu 1420] [--bare-cgroup docker|root]
                            [--baseline-gomaxprocs N] [--docker-publish]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gefyra.providers.docker.dataplane.cargo import container_ip  # noqa: E402
from gefyra.providers.docker.dataplane.images import ensure_images  # noqa: E402
from tests.dataplane.testbed import HTTP_PORT, TESTKIT, Testbed, new_run_id  # noqa: E402


def measure(variants: dict, mb: int, requests: int, runs: int) -> dict:
    """variants: name -> (run, server_ip) where `run(*testkit_args) -> stdout` executes the testkit client
    next to the app. Runs are interleaved (tunnel, plain, bare, tunnel, ...) so a busy moment of the
    machine hits every variant alike."""
    rates: dict[str, list[float]] = {name: [] for name in variants}
    latencies: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (run, server_ip) in variants.items():
            out = json.loads(run("download", f"http://{server_ip}:{HTTP_PORT}/bytes/{mb * 1024 * 1024}"))
            assert out["bytes"] == mb * 1024 * 1024, out
            rates[name].append(out["bytes"] / out["seconds"] / 1e6)
        for name, (run, server_ip) in variants.items():
            url = f"http://{server_ip}:{HTTP_PORT}/"
            latencies[name].append(json.loads(run("latency", url, str(requests))))
    return {
        name: {
            "mb_per_s": statistics.median(rates[name]),
            "latency_ms": statistics.median(r["median_ms"] for r in latencies[name]),
            "p90_ms": statistics.median(r["p90_ms"] for r in latencies[name]),
            "runs_mb_per_s": rates[name],
            "runs_latency_ms": [r["median_ms"] for r in latencies[name]],
        }
        for name in variants
    }


def in_container(bed: Testbed, role: str):
    def run(*args: str) -> str:
        code, out = bed.run_in(role, *args)
        if code != 0:
            raise RuntimeError(f"testkit {args[0]} in {role} failed: {out}")
        return out

    return run


@contextlib.contextmanager
def docker_variants(client, nodeport: bool, mtu: str, baseline_env: dict[str, str] | None = None):
    """The tunnel stand and, on its cluster network, a plain client container (baseline a); yields
    (variants, testbed)."""
    bed = Testbed(client, new_run_id("bench"), nodeport=nodeport)
    try:
        bed.start_cluster()
        bed.start_cargo(mtu=mtu)
        bed.start_app()
        bed.workload("direct", bed.cluster_net, "serve", "--http", "18080")
        pair_ip = start_docker_pair(bed, mtu, baseline_env or {})
        yield (
            {
                "tunnel": (in_container(bed, "app"), bed.ips["svc"]),
                "plain": (in_container(bed, "direct"), bed.ips["svc"]),
                "pair": (in_container(bed, "pair-client"), pair_ip),
            },
            bed,
        )
    finally:
        bed.teardown()


PAIR_ENTRY = """set -e
WG_PROCESS_FOREGROUND=1 wireguard-go wg0 &
for _ in $(seq 400); do [ -S /var/run/wireguard/wg0.sock ] && break; sleep 0.05; done
wg setconf wg0 /etc/gefyra/pair.conf
ip address add "$PAIR_ADDRESS" dev wg0
ip link set wg0 mtu "$PAIR_MTU" up
wait
"""


def start_docker_pair(bed: Testbed, mtu: str, go_env: dict[str, str]) -> str:
    """Baseline `pair`: wireguard-go in two Cargo-image containers on their own Docker network (B learns
    A's endpoint from the handshake), a testkit client in A's and a server in B's network namespace.
    Returns the server's tunnel address."""
    from gefyra.providers.docker.dataplane.files import put_files
    from gefyra.providers.docker.dataplane.images import image_tag

    network, _, _ = bed.network("pair")
    keys = {}
    for side in ("a", "b"):
        private = subprocess.run(["wg", "genkey"], check=True, capture_output=True, text=True).stdout.strip()
        public = subprocess.run(["wg", "pubkey"], input=private, check=True, capture_output=True, text=True)
        keys[side] = (private, public.stdout.strip())
    addresses = {"a": "10.254.79.1/24", "b": "10.254.79.2/24"}
    endpoint = ""
    for side, other in (("b", "a"), ("a", "b")):
        box = bed.client.containers.create(
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
        put_files(box, {"/etc/gefyra/pair.conf": conf})
        box.start()
        bed.containers[f"pair-{side}"] = box
        box.reload()
        if box.status != "running":
            raise RuntimeError(f"pair-{side} exited: {box.logs(tail=20).decode(errors='replace')}")
        bed.ips[f"pair-{side}"] = ip = container_ip(box, network)
        endpoint = f"Endpoint = {ip}:51820\n"
    bed.workload(
        "pair-server",
        None,
        "serve",
        "--http",
        str(HTTP_PORT),
        network_mode=f"container:{bed.containers['pair-b'].id}",
    )
    bed.workload(
        "pair-client",
        None,
        "serve",
        "--http",
        "18080",
        network_mode=f"container:{bed.containers['pair-a'].id}",
    )
    run = in_container(bed, "pair-client")
    deadline = time.monotonic() + 20
    while True:
        try:
            run("get", f"http://10.254.79.2:{HTTP_PORT}/")
            return "10.254.79.2"
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wireguard_go_from_image(client, folder: Path) -> Path:
    """Copy /usr/bin/wireguard-go out of the Cargo image (a static Go binary), so the bare pair runs the very
    same WireGuard implementation as Cargo and Stowaway."""
    import io
    import tarfile

    from gefyra.providers.docker.dataplane.images import image_tag

    holder = client.containers.create(image_tag("cargo"), entrypoint=["true"], network_disabled=True)
    try:
        stream, _ = holder.get_archive("/usr/bin/wireguard-go")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            data = tar.extractfile(tar.getmembers()[0]).read()
    finally:
        holder.remove(force=True)
    binary = folder / "wireguard-go"
    binary.write_bytes(data)
    binary.chmod(0o700)
    return binary


def sh(*args: str, ns: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["ip", "netns", "exec", ns] if ns else []
    done = subprocess.run([*prefix, *args], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr.strip())
    return done


def docker_cpu_cgroup_parent(container) -> Path:
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
        self.parent, self.tag, self.made = parent, tag, []

    def join(self, role: str):
        """A preexec_fn moving the child into its own cgroup (None when disabled)."""
        if self.parent is None:
            return None
        folder = self.parent / f"gefyra-bench-{self.tag}-{role}"
        if folder not in self.made:
            folder.mkdir()
            self.made.append(folder)
        procs = folder / "cgroup.procs"
        return lambda: procs.write_text("0")  # "0": the writing process itself

    def remove(self) -> None:
        for folder in self.made:
            for _ in range(50):  # a just-killed process leaves its cgroup a moment later
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


@contextlib.contextmanager
def bare_variant(
    mtu: str, wireguard_go: str, cgroup_parent: Path | None = None, go_env: dict[str, str] | None = None
):
    """Two netns joined by a veth pair, a wireguard-go interface in each, addresses only inside them."""
    tag = uuid.uuid4().hex[:6]
    cgroups = CpuCgroups(cgroup_parent, tag)
    ns_a, ns_b = f"gefyra-bench-a-{tag}", f"gefyra-bench-b-{tag}"
    veth_a, veth_b = f"gbva{tag}", f"gbvb{tag}"
    # wireguard-go's control socket is /var/run/wireguard/<name>.sock on the shared filesystem: unique names.
    wg_names = {ns_a: f"gbwa{tag}", ns_b: f"gbwb{tag}"}
    procs: list[subprocess.Popen] = []
    secrets_dir = Path(tempfile.mkdtemp(prefix="gefyra-bench-"))
    os.chmod(secrets_dir, 0o700)
    try:
        for ns in (ns_a, ns_b):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "add", veth_a, "netns", ns_a, "type", "veth", "peer", "name", veth_b, "netns", ns_b)
        underlay = {ns_a: ("10.254.77.1/30", veth_a), ns_b: ("10.254.77.2/30", veth_b)}
        for ns, (addr, dev) in underlay.items():
            sh("ip", "addr", "add", addr, "dev", dev, ns=ns)
            sh("ip", "link", "set", dev, "up", ns=ns)
        keys = {}
        for ns in (ns_a, ns_b):
            private = subprocess.run(["wg", "genkey"], check=True, capture_output=True, text=True).stdout
            key_file = secrets_dir / ns
            key_file.touch(mode=0o600)
            key_file.write_text(private)
            public = subprocess.run(
                ["wg", "pubkey"], input=private, check=True, capture_output=True, text=True
            )
            keys[ns] = (key_file, public.stdout.strip())
        tunnel = {
            ns_a: ("10.254.78.1/24", ns_b, "10.254.77.2"),
            ns_b: ("10.254.78.2/24", ns_a, "10.254.77.1"),
        }
        for ns, (addr, other, other_underlay) in tunnel.items():
            env = {**os.environ, "WG_PROCESS_FOREGROUND": "1", **(go_env or {})}
            wg = wg_names[ns]
            procs.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", ns, wireguard_go, wg],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    preexec_fn=cgroups.join(f"wg-{ns[13]}"),
                )
            )
            deadline = time.monotonic() + 10
            while not Path(f"/var/run/wireguard/{wg}.sock").exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("wireguard-go did not start")
                time.sleep(0.05)
            sh(
                "wg",
                "set",
                wg,
                "listen-port",
                "51820",
                "private-key",
                str(keys[ns][0]),
                "peer",
                keys[other][1],
                "allowed-ips",
                "10.254.78.0/24",
                "endpoint",
                f"{other_underlay}:51820",
                ns=ns,
            )
            sh("ip", "addr", "add", addr, "dev", wg, ns=ns)
            sh("ip", "link", "set", wg, "mtu", str(1420 if mtu == "auto" else mtu), "up", ns=ns)
        server = subprocess.Popen(
            ["ip", "netns", "exec", ns_b, sys.executable, str(TESTKIT), "serve", "--http", str(HTTP_PORT)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=cgroups.join("server"),
        )
        procs.append(server)

        def run(*args: str) -> str:
            return sh(
                sys.executable, str(TESTKIT), *args, ns=ns_a, timeout=300, preexec_fn=cgroups.join("client")
            ).stdout

        deadline = time.monotonic() + 10
        while True:
            try:
                run("get", f"http://10.254.78.2:{HTTP_PORT}/")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield {"bare": (run, "10.254.78.2")}
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


def tunnel_gomaxprocs(bed: Testbed) -> str:
    """What Cargo and Stowaway logged about their wireguard-go runtime (or the kernel module)."""
    found = []
    for role in ("cargo", "stowaway"):
        lines = bed.containers[role].logs().decode(errors="replace").splitlines()
        marks = ("GOMAXPROCS", "kernel WireGuard")
        runtime = [line.split(": ", 1)[-1] for line in lines if any(mark in line for mark in marks)]
        found.append(f"{role} {runtime[-1] if runtime else 'unknown'}")
    return ", ".join(found)


def print_run_spread(results: dict, runs: int) -> None:
    """Per-run ratios against the bare pair (runs are interleaved, so run i of each variant saw the same
    moment of the machine): the spread shows how much one run can be trusted."""
    tunnel, bare = results["tunnel"], results["bare"]
    rates = [t / b for t, b in zip(tunnel["runs_mb_per_s"], bare["runs_mb_per_s"], strict=True)]
    lats = [t - b for t, b in zip(tunnel["runs_latency_ms"], bare["runs_latency_ms"], strict=True)]
    print(
        f"per run tunnel/bare throughput: {' '.join(f'{r:.2f}' for r in rates)} "
        f"({sum(r >= 0.85 for r in rates)} of {runs} >= 0.85)"
    )
    print(
        f"per run tunnel-bare latency ms: {' '.join(f'{d:+.2f}' for d in lats)} "
        f"({sum(d <= 0.3 for d in lats)} of {runs} <= +0.3)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mtu", default="1420")
    parser.add_argument(
        "--bare-wireguard-go",
        default="image",
        help="wireguard-go binary of the bare pair: 'image' (the one in the Cargo image, default) or a path",
    )
    parser.add_argument(
        "--bare-cgroup",
        choices=("docker", "root"),
        default="docker",
        help="CPU cgroups of the bare pair's processes: one each next to the containers' (default; fair on "
        "a machine busy with containers) or the root cgroup (where they outweigh every container)",
    )
    parser.add_argument(
        "--baseline-gomaxprocs",
        type=int,
        default=None,
        help="run the bare and Docker-hosted pairs' wireguard-go with this GOMAXPROCS (default: unset, "
        "stock wireguard-go). Cargo and Stowaway use half the CPUs: pass that number for equal tunings",
    )
    parser.add_argument(
        "--docker-publish",
        action="store_true",
        help="publish Stowaway's UDP port with Docker (container-to-host traffic then goes through the "
        "userland docker-proxy) instead of a kernel DNAT like a NodePort",
    )
    args = parser.parse_args()
    import docker

    client = docker.from_env(timeout=300)
    ensure_images(client)
    nodeport = not args.docker_publish
    with tempfile.TemporaryDirectory(prefix="gefyra-bench-wg-") as folder:
        wg = args.bare_wireguard_go
        wg = str(wireguard_go_from_image(client, Path(folder))) if wg == "image" else wg
        version = subprocess.run([wg, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        print(f"bare pair: {version}", flush=True)
        go_env = {} if args.baseline_gomaxprocs is None else {"GOMAXPROCS": str(args.baseline_gomaxprocs)}
        baseline = go_env.get("GOMAXPROCS", "the default")
        print(f"baselines: wireguard-go with {baseline} GOMAXPROCS", flush=True)
        with docker_variants(client, nodeport, args.mtu, go_env) as (docker_side, bed):
            print(f"tunnel: {tunnel_gomaxprocs(bed)}", flush=True)
            parent = None
            if args.bare_cgroup == "docker":
                parent = docker_cpu_cgroup_parent(bed.containers["stowaway"])
            print(f"bare pair: CPU cgroups under {parent or 'the root cgroup'}", flush=True)
            with bare_variant(args.mtu, wg, parent, go_env) as bare:
                results = measure({**docker_side, **bare}, args.mb, args.requests, args.runs)
    print(f"{'variant':8} {'MB/s':>9} {'latency ms':>11} {'p90 ms':>8}")
    for name in ("tunnel", "plain", "bare", "pair"):
        r = results[name]
        print(f"{name:8} {r['mb_per_s']:9.1f} {r['latency_ms']:11.3f} {r['p90_ms']:8.3f}")
    t = results["tunnel"]
    for name, goal in (("bare", True), ("pair", True), ("plain", False)):
        r = results[name]
        rate = f"throughput tunnel/{name:5} = {t['mb_per_s'] / r['mb_per_s']:.2f}"
        lat = f"latency    tunnel/{name:5} = {t['latency_ms'] / r['latency_ms']:.2f} "
        lat += f"({t['latency_ms'] - r['latency_ms']:+.3f} ms"
        print(rate + (" (goal >= 0.85)" if goal else ""))
        print(lat + (", goal <= +0.3 ms)" if goal else ")"))
    print_run_spread(results, args.runs)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: app -> service through Cargo + WireGuard + Stowaway, against three baselines.

  tunnel  the real data plane (tests/dataplane/testbed.py: Stowaway, service and DNS on a "cluster" network,
          Cargo and the app on a "project" network; the app's default route is Cargo; Stowaway's UDP port
          reached through a kernel DNAT on the host, like a NodePort)
  bare    a bare wireguard-go pair between two network namespaces made here (veth underneath), the binary
          copied out of the Cargo image; each process in a CPU cgroup of its own next to the containers'
  pair    the same wireguard-go pair hosted like the tunnel: two Cargo-image containers on a Docker network
          of their own, client and server in their namespaces (pays what every container pays)
  plain   the same client and server containers on one plain Docker network (no tunnel)
  core    (--core) Cargo's namespace -> Stowaway's through the tunnel: no app hop, no service hop
  cargo-ns (--core) Cargo's namespace -> the service through the tunnel: no app hop
  loop    (--loop) the service container to itself over loopback: what the client and server cost alone

Throughput: --runs interleaved downloads of --mb MB per variant (median). Latency: --rounds rounds; in each,
every variant (in a shuffled order) makes --block sequential HTTP requests, each on a new connection, so a
busy moment of the machine hits all variants alike. Printed per variant: pooled median and p90, the range of
block medians; against bare and pair: the paired difference (median over rounds of block - reference block)
with a 95 % bootstrap interval. The verdict on latency is that interval against the goal (+0.3 ms): met /
missed / undecided, judged against the anchor `pair` (containers on both sides, like the tunnel; see
bench/_tunnel_verdict.py), with tunnel - bare printed beside it. Needs root (netns, cgroups, iptables) and
Docker; everything it makes goes again on exit.

    python3 bench/tunnel.py [--mb 200] [--runs 3] [--rounds 200] [--block 25] [--mtu 1420]
                            [--tunnel KEY=VALUE,...]... [--core] [--loop] [--no-pair] [--no-plain]
                            [--bare-cgroup docker|root] [--baseline-gomaxprocs N] [--save FILE] [--json PATH]

--tunnel (repeatable) sets up one stand per use, the first is `tunnel`, the others `tunnel[<knobs>]`; knobs:
gomaxprocs=N, endpoint=nodeport|shared|published, shares=N, app-shares=N (see bench/_tunnel_stand.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._results import write  # noqa: E402
from bench._tunnel_bare import bare_pair, docker_cpu_cgroup_parent, wireguard_go_from_image  # noqa: E402
from bench._tunnel_latency import Rounds, Variant, interleave  # noqa: E402
from bench._tunnel_stand import (  # noqa: E402
    PYTHON_VERSION,
    Stand,
    StandOptions,
    parse_stand,
    start_docker_pair,
)
from bench._tunnel_stats import p90, paired, summarize  # noqa: E402
from bench._tunnel_verdict import GOAL_RATIO, figures, latencies, lines, throughput_verdict  # noqa: E402
from gefyra.providers.docker.dataplane.images import ensure_images, image_tag  # noqa: E402
from gefyra.providers.docker.engine import Engine  # noqa: E402
from tests.dataplane.testbed import TESTKIT  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"


def downloads(variants: dict[str, Variant], mb: int, runs: int) -> dict[str, list[float]]:
    """MB/s of `runs` downloads per variant, interleaved (tunnel, bare, ..., tunnel, ...)."""
    rates: dict[str, list[float]] = {name: [] for name in variants}
    size = mb * 1024 * 1024
    for _ in range(runs):
        for name, variant in variants.items():
            out = json.loads(variant.run("download", f"http://{variant.host}:{variant.port}/bytes/{size}"))
            if out["bytes"] != size:
                raise RuntimeError(f"{name}: downloaded {out['bytes']} of {size} bytes")
            rates[name].append(out["bytes"] / out["seconds"] / 1e6)
    return rates


def python_version(python: str) -> str:
    done = subprocess.run([python, "-c", PYTHON_VERSION], capture_output=True)
    return done.stdout.decode().strip() or "unknown"


def width(names: Iterable[str]) -> int:
    """Column width for variant names."""
    return max(24, *(len(name) for name in names))


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def report_throughput(rates: dict[str, list[float]]) -> dict[str, Any]:
    print(f"\nthroughput, {len(rates['bare'])} interleaved downloads each: median MB/s (runs)")
    for name, runs in rates.items():
        each = " ".join(f"{r:.0f}" for r in runs)
        print(f"  {name:{width(rates)}} {statistics.median(runs):8.1f}   ({each})")
    per_run = [t / b for t, b in zip(rates["tunnel"], rates["bare"], strict=True)]
    ratio = statistics.median(rates["tunnel"]) / statistics.median(rates["bare"])
    print(
        f"  tunnel/bare {ratio:.2f} (goal >= {GOAL_RATIO}); per run {' '.join(f'{r:.2f}' for r in per_run)} "
        f"({sum(r >= GOAL_RATIO for r in per_run)} of {len(per_run)} >= {GOAL_RATIO})"
    )
    medians = {name: statistics.median(runs) for name, runs in rates.items()}
    return {"ratio": ratio, "per_run": per_run, "mb_per_s": medians}


def report_latency(rounds: Rounds, block: int) -> dict[str, Any]:
    count = len(rounds.blocks["bare"])
    print(
        f"\nlatency, {count} rounds x {block} requests per variant, shuffled every round "
        f"({rounds.seconds:.0f} s): ms"
    )
    w = width(rounds.blocks) + len(" - pair")
    print(f"  {'variant':{w}} {'median':>7} {'p90':>7}   block medians min-max   slowest")
    summaries = {}
    for name, blocks in rounds.blocks.items():
        s = summaries[name] = summarize(blocks)
        spread = f"{s.block_min:.3f}-{s.block_max:.3f}"
        print(f"  {name:{w}} {s.median:7.3f} {s.p90:7.3f}   {spread:21} {s.slowest:7.1f}")
    print("paired difference per round (variant - reference), median over rounds [95 % bootstrap CI]: ms")
    diffs: dict[str, Any] = {}
    for name, blocks in rounds.blocks.items():
        for ref in ("bare", "pair"):
            if name == ref or ref not in rounds.blocks or (ref == "pair" and name == "bare"):
                continue
            med = paired(blocks, rounds.blocks[ref])
            high = paired(blocks, rounds.blocks[ref], p90)
            ratio = summaries[name].median / summaries[ref].median
            print(
                f"  {name + ' - ' + ref:{w}} median {med.estimate:+.3f} [{med.low:+.3f}, {med.high:+.3f}]   "
                f"p90 {high.estimate:+.3f} [{high.low:+.3f}, {high.high:+.3f}]   ratio {ratio:.2f}"
            )
            diffs[f"{name}-{ref}"] = {"median": vars(med), "p90": vars(high), "ratio": ratio}
    return {"summary": {n: vars(s) for n, s in summaries.items()}, "paired": diffs, "seconds": rounds.seconds}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of each download (MB)")
    parser.add_argument("--runs", type=int, default=3, help="downloads per variant (0: no throughput)")
    parser.add_argument("--rounds", type=int, default=200, help="latency rounds (one block each)")
    parser.add_argument("--block", type=int, default=25, help="requests per variant and round")
    parser.add_argument("--mtu", default="1420")
    parser.add_argument("--tunnel", action="append", type=parse_stand, default=[], metavar="KEY=VALUE,...")
    parser.add_argument("--core", action="store_true", help="add Cargo -> Stowaway (no app or service hop)")
    parser.add_argument("--loop", action="store_true", help="add the service to itself over loopback")
    parser.add_argument("--no-pair", action="store_true", help="leave out the Docker-hosted pair")
    parser.add_argument("--no-plain", action="store_true", help="leave out the plain Docker network")
    parser.add_argument(
        "--docker-publish", action="store_true", help="the first stand with endpoint=published (old option)"
    )
    parser.add_argument("--bare-wireguard-go", default="image", help="'image' (Cargo's, default) or a path")
    parser.add_argument(
        "--bare-python",
        default=DEBIAN_PYTHON if Path(DEBIAN_PYTHON).exists() else sys.executable,
        help="Python of the bare pair's server and clients (default: Debian's /usr/bin/python3, the build "
        "the containers run; pyenv's build without --enable-optimizations was 0.12 ms slower per request)",
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
        help="GOMAXPROCS of the bare and Docker-hosted pairs' wireguard-go (default: unset, stock)",
    )
    parser.add_argument("--save", type=Path, help="write every request time (JSON) to this file")
    parser.add_argument("--json", type=Path, help="write the result rows (bench/_results.py) to this file")
    args = parser.parse_args()
    if not args.tunnel:
        args.tunnel = [StandOptions()]
    if args.docker_publish:
        args.tunnel[0] = args.tunnel[0].model_copy(update={"endpoint": "published"})
    if args.rounds < 5 or args.block < 5:
        parser.error("--rounds and --block must be at least 5 (an interval needs rounds, p90 samples)")
    return args


def stand_variants(
    client: Any, args: argparse.Namespace, stack: contextlib.ExitStack
) -> tuple[dict[str, Variant], Path, str]:
    """Start every --tunnel stand (and the pair on the first); their variants by name, the CPU cgroup
    folder holding the containers' and the containers' Python version."""
    variants: dict[str, Variant] = {}
    go_env = {} if args.baseline_gomaxprocs is None else {"GOMAXPROCS": str(args.baseline_gomaxprocs)}
    for index, options in enumerate(args.tunnel):
        stand = Stand(client, options, args.mtu)
        stack.callback(stand.bed.teardown)
        first = index == 0
        stand.start(plain=first and not args.no_plain, core=args.core, loop=first and args.loop)
        suffix = "" if first else f"[{options.label or 'defaults'}]"
        print(f"tunnel{suffix}: {options.label or 'as shipped'}; {stand.gomaxprocs_log()}", flush=True)
        variants[f"tunnel{suffix}"] = stand.variant(f"tunnel{suffix}")
        if args.core:
            variants[f"core{suffix}"] = stand.variant(f"core{suffix}", "core")
            variants[f"cargo-ns{suffix}"] = stand.variant(f"cargo-ns{suffix}", "cargo-ns")
        if first and not args.no_plain:
            variants["plain"] = stand.variant("plain", "direct")
        if first and args.loop:
            variants["loop"] = stand.variant("loop", "loop")
        if first and not args.no_pair:
            variants["pair"] = start_docker_pair(stand.bed, args.mtu, go_env)
        if first:
            cgroups = docker_cpu_cgroup_parent(stand.bed.containers["stowaway"])
            python = stand.python_version()
    return variants, cgroups, python


def main() -> int:
    args = arguments()
    import docker

    client = docker.from_env(timeout=300)
    engine = Engine.from_env()
    try:
        ensure_images(engine)
    finally:
        engine.close()
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result: dict[str, Any] = {"date": started, "load_start": load(), "args": sys.argv[1:]}
    print(f"tunnel bench {started}; load {result['load_start']} (1/5/15 min)", flush=True)
    go_env = {} if args.baseline_gomaxprocs is None else {"GOMAXPROCS": str(args.baseline_gomaxprocs)}
    with tempfile.TemporaryDirectory(prefix="gefyra-bench-wg-") as folder, contextlib.ExitStack() as stack:
        wg = args.bare_wireguard_go
        wg = str(wireguard_go_from_image(client, image_tag("cargo"), Path(folder))) if wg == "image" else wg
        version = subprocess.run([wg, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        variants, cgroups, container_python = stand_variants(client, args, stack)
        parent = cgroups if args.bare_cgroup == "docker" else None
        pair = stack.enter_context(bare_pair(args.mtu, wg, TESTKIT, parent, go_env, args.bare_python))
        variants["bare"] = pair.variant("bare")
        print(
            f"bare: {version}, GOMAXPROCS {go_env.get('GOMAXPROCS', 'unset')}, "
            f"CPU cgroups under {parent or 'the root cgroup'}; python {python_version(args.bare_python)} "
            f"({args.bare_python}), in the containers {container_python}",
            flush=True,
        )
        rates = downloads(variants, args.mb, args.runs) if args.runs else None
        if rates:
            result["throughput"] = report_throughput(rates)
        probes = {name: variant.probe for name, variant in variants.items()}
        rounds = interleave(probes, args.rounds, args.block)
        result["latency"] = report_latency(rounds, args.block)
    result["load_end"] = load()
    if args.save:
        args.save.write_text(json.dumps({**result, "blocks": rounds.blocks, "starts": rounds.starts}))
    judged = latencies(rounds.blocks)
    ratio = result["throughput"]["ratio"] if "throughput" in result else None
    result["verdict"] = {f"latency-{r.reference}": r.verdict for r in judged}
    result["verdict"]["anchor"] = next((r.reference for r in judged if r.anchor), None)
    if ratio is not None:
        result["verdict"]["throughput"] = throughput_verdict(ratio)
    print("\n" + "\n".join(lines(judged, ratio)))
    print(f"load {result['load_start']} at the start, {result['load_end']} at the end")
    write(figures(rounds.blocks, rates, judged), args.json)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Interleaved latency rounds of the tunnel bench.

Each variant gets one long-lived probe process (bench/_tunnel_probe.py) next to its client: `docker exec -i`
in a container, `ip netns exec` for the bare pair. A round asks every variant, in a shuffled order, for one
block of sequential requests; many short rounds make a busy moment of the machine hit all variants alike,
and block i of two variants can be compared pairwise.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROBE = Path(__file__).with_name("_tunnel_probe.py")
PROBE_PATH = "/tmp/gefyra-bench-probe.py"  # inside the containers


@dataclass
class Probe:
    """A running probe: `argv` starts it (its last two arguments are HOST PORT)."""

    name: str
    argv: list[str]
    preexec_fn: Callable[[], None] | None = None
    proc: subprocess.Popen[str] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=self.preexec_fn,
        )

    def block(self, count: int) -> list[float]:
        proc = self.proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise RuntimeError(f"probe {self.name} is not running")
        try:
            proc.stdin.write(f"{count}\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            raise RuntimeError(f"probe {self.name} ended: {self.stop()}")
        samples: list[float] = json.loads(line)
        return samples

    def stop(self) -> str:
        """End the probe (EOF on stdin); return what it wrote to stderr."""
        proc, self.proc = self.proc, None
        if proc is None:
            return ""
        try:
            _, err = proc.communicate(input="", timeout=15)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            proc.kill()
            _, err = proc.communicate()
        return (err or "").strip()[-2000:]


def container_probe(name: str, container_id: str, host: str, port: int) -> Probe:
    """A probe in a container that has python3 and a copy of the probe at PROBE_PATH."""
    argv = ["docker", "exec", "-i", container_id, "python3", "-u", PROBE_PATH, host, str(port)]
    return Probe(name, argv)


@dataclass
class Variant:
    """One way from a client to an HTTP server: `run(*testkit_args) -> stdout` runs tests/dataplane/testkit.py
    next to the client (downloads); `probe` measures latency from the same place."""

    run: Callable[..., str]
    host: str
    port: int
    probe: Probe


@dataclass
class Rounds:
    """Request times per variant, one block per round, in round order (paired across variants), and when
    each block started (seconds after the first recorded round began)."""

    blocks: dict[str, list[list[float]]]
    starts: dict[str, list[float]]
    seconds: float


def interleave(
    probes: Mapping[str, Probe], rounds: int, block: int, *, warmup: int = 2, seed: int = 9
) -> Rounds:
    """`warmup` unrecorded rounds first (connection tracking, ARP, the probes' imports), then `rounds`
    recorded ones; the order of the variants is shuffled anew in every round."""
    rng = random.Random(seed)
    names = list(probes)
    blocks: dict[str, list[list[float]]] = {name: [] for name in names}
    starts: dict[str, list[float]] = {name: [] for name in names}
    for probe in probes.values():
        probe.start()
    start = time.monotonic()
    try:
        for index in range(warmup + rounds):
            if index == warmup:
                start = time.monotonic()
            rng.shuffle(names)
            for name in names:
                began = time.monotonic() - start
                samples = probes[name].block(block)
                if index >= warmup:
                    blocks[name].append(samples)
                    starts[name].append(round(began, 3))
    finally:
        for probe in probes.values():
            probe.stop()
    return Rounds(blocks, starts, time.monotonic() - start)

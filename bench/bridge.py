"""Bridge benchmarks (issue 11) against the sandbox Kubernetes API, with the real images and the Operator as a
Pod, the way tests/e2e does it (examples/bridge copied with the bench's values; a Deployment `web` of one Pod
behind a NodePort Service; the CLI as a subprocess; requests from the host to the NodePort every 50 ms):

- from zero: `gefyra apply` with no gefyra object in the cluster (install + connect + one bridge; images
  cached) -> the first answer from the local container.                                 Goal < 20 s.
- bridge: `gefyra apply` adding the bridge to a connected project -> the first answer from the local
  container.                                                                            Goal < 3 s.
- unbridge: `gefyra apply` without the bridge -> the first answer from the original container. Goal < 3 s.

Anchor: a no-op `gefyra apply` of the same connected project (the CLI's fixed cost: start, observe the world,
plan; nothing to do), measured in the same run. Each run also prints when each phase first held (bridge
created, Pod patched, Carrier running, bridge Active; apply exit), polled from the API every 50 ms.

Run: python3 bench/bridge.py [--runs N] [--zero-runs N] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._bridge_phases import LOCAL_MESSAGE, Phases, answer, bridge_probes  # noqa: E402
from bench._results import Figure, figure, write  # noqa: E402

ORIGINAL_MESSAGE = "cluster web"
SYNC_AT = "ports: {8080: 8000}"
DEADLINE_S = 180.0


@dataclass
class Run:
    answer: float  # seconds from the start of `gefyra apply` to the first wanted answer
    exit: float  # ... to the command's exit
    phases: dict[str, float] = field(default_factory=dict)
    output: list[tuple[float, str]] = field(default_factory=list)  # the command's lines, time-stamped

    def line(self) -> str:
        steps = sorted(
            {**self.phases, "apply exit": self.exit, "first answer": self.answer}.items(),
            key=lambda item: item[1],
        )
        return "  ".join(f"{name} {at:.2f}" for name, at in steps)


@dataclass
class Stand:
    """The sandbox, the workload and the project's files and CLI environment."""

    env: dict[str, str]
    file: Path
    with_bridge: str
    url: str
    core: object
    custom: object
    namespace: str
    pod: str

    def write(self, variant: str) -> None:
        """gefyra.yaml with the example's bridge ("sync": the default sync of the service-account token into
        the folder every local container of a cluster project mounts from its start), with `sync: []`
        ("nosync"), or without it ("none")."""
        text = {
            "sync": self.with_bridge,
            "nosync": self.with_bridge.replace(SYNC_AT, SYNC_AT + "\n    sync: []"),
            "none": self.with_bridge.split("\nbridges:")[0] + "\n",
        }[variant]
        assert variant != "nosync" or SYNC_AT in self.with_bridge
        self.file.write_text(text)

    def gefyra(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "gefyra", *args, "-f", str(self.file)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DEADLINE_S,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"gefyra {' '.join(args)} exited {done.returncode}: {done.stdout}\n{done.stderr}"
            )
        return done

    def apply(self, want: str, *, bridged: bool) -> Run:
        """Start `gefyra apply --yes`, poll the NodePort until it answers `want` and the command exits."""
        probes = bridge_probes(self.core, self.custom, self.namespace, self.pod, bridged=bridged)
        with Phases(probes) as phases:
            process = subprocess.Popen(
                [sys.executable, "-m", "gefyra", "apply", "--yes", "-f", str(self.file)],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            lines: list[tuple[float, str]] = []
            reader = threading.Thread(target=_read, args=(process, phases.start, lines), daemon=True)
            reader.start()
            answered = exited = None
            while answered is None or exited is None:
                now = time.perf_counter() - phases.start
                if now > DEADLINE_S:
                    process.kill()
                    raise RuntimeError(f"no answer {want!r} within {DEADLINE_S:.0f}s")
                if exited is None and process.poll() is not None:
                    exited = now
                    if process.returncode != 0:
                        reader.join(timeout=5)
                        out = "\n".join(text for _, text in lines)
                        raise RuntimeError(f"gefyra apply exited {process.returncode}: {out}")
                if answered is None and answer(self.url) == want:
                    answered = time.perf_counter() - phases.start
                time.sleep(0.05)
            reader.join(timeout=5)
            return Run(answered, exited, dict(phases.at), lines)


def _read(process: subprocess.Popen[str], start: float, lines: list[tuple[float, str]]) -> None:
    assert process.stdout is not None
    for text in process.stdout:
        lines.append((time.perf_counter() - start, text.rstrip()))


def no_op(stand: Stand) -> float:
    start = time.perf_counter()
    stand.gefyra("apply", "--yes")
    return time.perf_counter() - start


def wait_gone(core: object, namespace: str, timeout: float = 120) -> None:
    """Until namespace `gefyra` is gone (a `down` leaves it terminating for a while)."""
    from kubernetes.client.exceptions import ApiException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            core.read_namespace(namespace)  # type: ignore[attr-defined]
        except ApiException as error:
            if error.status == 404:
                return
            raise
        time.sleep(0.2)
    raise RuntimeError(f"namespace {namespace} still there after {timeout:.0f}s")


def _report(label: str, run: Run, trace: bool) -> None:
    print(f"{label}: {run.line()}", flush=True)
    for at, text in run.output if trace else []:
        print(f"    {at:6.2f} {text}", flush=True)


def measure(stand: Stand, runs: int, zero_runs: int, trace: bool = False) -> list[Figure]:
    from gefyra.cluster import names

    zero: list[Run] = []
    for i in range(zero_runs):
        wait_gone(stand.core, names.NAMESPACE)
        stand.write("sync")
        zero.append(stand.apply(LOCAL_MESSAGE, bridged=True))
        _report(f"from zero #{i + 1}", zero[-1], trace)
        if i < zero_runs - 1:
            stand.gefyra("down")
    anchor = [no_op(stand) for _ in range(3)]
    print(f"no-op apply: {' '.join(f'{a:.2f}' for a in anchor)}", flush=True)
    runs_of: dict[str, list[Run]] = {
        key: [] for key in ("unbridge sync", "bridge sync", "bridge", "unbridge")
    }

    def step(key: str, variant: str, i: int) -> None:
        stand.write(variant)
        bridged = variant != "none"
        runs_of[key].append(stand.apply(LOCAL_MESSAGE if bridged else ORIGINAL_MESSAGE, bridged=bridged))
        _report(f"{key} #{i + 1}", runs_of[key][-1], trace)

    for i in range(runs):  # the example as it is: the default sync (a background copy; no container replaced)
        step("unbridge sync", "none", i)
        step("bridge sync", "sync", i)
    stand.write("none")
    stand.gefyra("apply", "--yes")
    for i in range(runs):  # `sync: []`: the bridge alone
        step("bridge", "nosync", i)
        step("unbridge", "none", i)
    anchor_text = "no-op `gefyra apply`"
    return [
        _figure("bridge: apply -> first local answer", runs_of["bridge"], anchor_text, anchor, 3.0),
        _figure("unbridge: apply -> original answers", runs_of["unbridge"], anchor_text, anchor, 3.0),
        _figure(
            "bridge with default sync",
            runs_of["bridge sync"],
            anchor_text,
            anchor,
            3.0,
        ),
        _figure(
            "unbridge with default sync",
            runs_of["unbridge sync"],
            anchor_text,
            anchor,
            3.0,
        ),
        _figure("from zero: install+connect+bridge -> answer", zero, anchor_text, anchor, 20.0),
    ]


def _figure(name: str, runs: list[Run], anchor: str, anchor_samples: list[float], goal: float) -> Figure:
    exits = statistics.median(r.exit for r in runs)
    at = {p: statistics.median(r.phases[p] for r in runs if p in r.phases) for r in runs for p in r.phases}
    medians = ", ".join(f"{p} {t:.2f}" for p, t in sorted(at.items(), key=lambda item: item[1]))
    note = f"apply exit {exits:.2f} s; phases (median s): {medians}"
    return figure(
        name,
        [r.answer for r in runs],
        anchor=anchor,
        anchor_samples=anchor_samples,
        goal_below=goal,
        note=note,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="bridge/unbridge cycles")
    parser.add_argument("--zero-runs", type=int, default=2, help="from-zero runs (each ends with a down)")
    parser.add_argument("--quick", action="store_true", help="2 cycles, 1 from-zero run")
    parser.add_argument("--trace", action="store_true", help="print each apply's output, time-stamped")
    parser.add_argument("--json", type=Path, help="write Figure rows here")
    args = parser.parse_args()
    runs, zero_runs = (2, 1) if args.quick else (args.runs, args.zero_runs)
    from bench._bridge_stand import stand

    with tempfile.TemporaryDirectory(prefix="gefyra-bench-bridge-") as temp, stand(Path(temp)) as ready:
        figures = measure(ready, runs, zero_runs, args.trace)
    for row in figures:
        verdict = "met" if row.met else "MISSED"
        print(
            f"{row.figure}: median {row.median:.2f} s (min {row.low:.2f}, max {row.high:.2f}, "
            f"{row.runs} runs); {row.ratio or 0:.1f}x {row.anchor} {row.anchor_median or 0:.2f} s; "
            f"goal {row.goal} {verdict}\n  {row.note}"
        )
    write(figures, args.json)
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())

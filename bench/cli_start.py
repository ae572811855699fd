"""Start-up time of the CLI: median wall time of `gefyra --help`, `gefyra validate gefyra.example.yaml`, and
the read-only engine commands against real projects: `gefyra status` and `gefyra list` with 10 containers,
`gefyra plan` (no changes) with 50. Each read-only command twice: warm, through the warm agent as users
run it (gefyra/cli/agent_client.py; an agent of its own, in a private folder, stopped at the end; the CPU
of the agent and its worker counted from /proc), and cold, in-process (GEFYRA_AGENT=0). Goals apply to the
warm figures.

    python3 bench/cli_start.py [--runs 20] [--check] [--no-engine] [--no-original] [--json PATH]

Prints each median next to `python -c pass` (the floor any Python CLI pays) and the ratio to it, plus
the median CPU time (user + system), which other load on the machine disturbs less than wall time.
The commands run interleaved, round by round, so a burst of load hits all of them alike.
Goals (wall): `gefyra --help` 0.15 s, status and list 0.2 s, plan of 50 containers 0.3 s; with --check the
exit status is 1 when one is missed. The engine cases make throw-away projects (`t-eng-bench-*`) and remove
them afterwards; --no-engine skips them (no Docker needed).
Against the original Gefyra CLI (`pip install gefyra==2.5.6` into its own venv under /var/tmp, made here on
the first run, with the CLI libraries it imports but does not declare): `gefyra version --no-check` and
`gefyra list` of 2.5.6 beside ours, with the ratio ours / original;
when the install fails the columns are left out and the reason printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._agent import BenchAgent  # noqa: E402
from bench._results import Figure, figure, write  # noqa: E402

ORIGINAL = "gefyra==2.5.6"
ORIGINAL_CLI_DEPS = [
    "click",
    "alive-progress",
    "tabulate",
]  # its CLI imports them; 2.5.6 does not declare them
ORIGINAL_VENV = Path("/var/tmp/gefyra-bench-original-2.5.6")
Case = tuple[list[str], Path, BenchAgent | None]  # command, folder, the agent it runs through (None: cold)
GOALS = {"gefyra --help": 0.15, "gefyra status (10)": 0.2, "gefyra list (10)": 0.2, "gefyra plan (50)": 0.3}


# Installed packages run from bytecode caches; a checkout run with PYTHONDONTWRITEBYTECODE (as on CI) would
# compile every module on every start. The caches go to their own folder, never into the checkout.
PYCACHE = Path("/var/tmp/gefyra-bench-pycache")
ENV = {
    **{key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(PYCACHE),
    "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
}


def timed(command: list[str], cwd: Path = REPO, agent: BenchAgent | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of `command`; with `agent`, through it (the CPU of
    its worker counted too), else with GEFYRA_AGENT=0 (in-process)."""
    env = {**ENV, **agent.env} if agent else {**ENV, "GEFYRA_AGENT": "0"}
    workers_before = agent.workers_cpu() if agent else 0.0
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    wall = time.perf_counter() - start
    after = os.times()
    workers = (agent.workers_cpu() - workers_before) if agent else 0.0
    if done.returncode not in (0, 2):  # 2: plan has changes / status not healthy, still a full run
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, workers + (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per command (at least 10)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--no-engine", action="store_true", help="only --help and validate (no Docker)")
    parser.add_argument("--no-original", action="store_true", help=f"do not compare with {ORIGINAL}")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here (bench/_results.py)")
    args = parser.parse_args()
    runs = max(10, args.runs)
    gefyra = shutil.which("gefyra")  # the console script imports this checkout through ENV's PYTHONPATH
    cli = [gefyra] if gefyra else [sys.executable, "-m", "gefyra"]
    cases: dict[str, Case] = {
        "python -c pass": ([sys.executable, "-c", "pass"], REPO, None),
        "gefyra --help": ([*cli, "--help"], REPO, None),
        "gefyra validate gefyra.example.yaml": ([*cli, "validate", "gefyra.example.yaml"], REPO, None),
    }
    original = None if args.no_original else _original_cli()
    with ExitStack() as projects:
        agent = BenchAgent()
        projects.callback(agent.close)
        if not args.no_engine:
            cases.update(_engine_cases(projects, cli, agent))
        if original is not None:
            cases["original: gefyra version"] = ([*original, "version", "--no-check"], REPO, None)
            cases["original: gefyra list"] = ([*original, "list"], REPO, None)
            cases["gefyra version"] = ([*cli, "version"], REPO, None)
        samples = _measure(cases, runs, agent)
    wall = {name: statistics.median(s[0] for s in runs_) for name, runs_ in samples.items()}
    cpu = {name: statistics.median(s[1] for s in runs_) for name, runs_ in samples.items()}
    how = f"console script {gefyra}" if gefyra else "python -m gefyra"
    print(f"medians over {runs} interleaved runs ({how}), load average {os.getloadavg()[0]:.1f}")
    print("  warm = through the agent (its and its worker's CPU counted), cold = GEFYRA_AGENT=0 (in-process)")
    print(f"  {'command':<40} {'wall':>8} {'ratio':>7} {'cpu':>8} {'ratio':>7}  goal")
    missed = []
    for name in cases:
        ratio_wall = wall[name] / wall["python -c pass"]
        ratio_cpu = cpu[name] / max(cpu["python -c pass"], 1e-9)
        goal = GOALS.get(name)
        verdict = "" if goal is None else f"{goal:.2f}s " + ("ok" if wall[name] <= goal else "MISSED")
        if goal is not None and wall[name] > goal:
            missed.append(name)
        times = f"{wall[name]:7.3f}s {ratio_wall:6.1f}x {cpu[name]:7.3f}s {ratio_cpu:6.1f}x"
        print(f"  {name:<40} {times}  {verdict}")
    _compare(wall, original is not None)
    write(_figures(cases, samples), args.json)
    return 1 if args.check and missed else 0


def _compare(wall: dict[str, float], have_original: bool) -> None:
    if not have_original:
        return
    for ours, theirs in (
        ("gefyra version", "original: gefyra version"),
        ("gefyra list (10)", "original: gefyra list"),
    ):
        if ours in wall:
            print(
                f"  {ours} / {theirs}: {wall[ours] / wall[theirs]:.2f}x "
                f"({wall[ours]:.3f}s vs {wall[theirs]:.3f}s)"
            )


def _figures(cases: dict[str, Case], samples: dict[str, list[tuple[float, float]]]) -> list[Figure]:
    load = f"load {os.getloadavg()[0]:.1f}"
    floor = [w for w, _ in samples["python -c pass"]]
    rows = []
    for name in cases:
        walls, cpus = [w for w, _ in samples[name]], [c for _, c in samples[name]]
        anchor, anchor_samples = "python -c pass", floor
        if name in ("gefyra version", "gefyra list (10)") and "original: gefyra list" in samples:
            theirs = "original: gefyra version" if name == "gefyra version" else "original: gefyra list"
            anchor, anchor_samples = theirs, [w for w, _ in samples[theirs]]
        rows.append(
            figure(
                f"{name} (wall)",
                walls,
                anchor=anchor,
                anchor_samples=anchor_samples,
                goal_below=GOALS.get(name),
                note=load,
            )
        )
        rows.append(figure(f"{name} (cpu)", cpus, note=load))
    return rows


def _original_cli() -> list[str] | None:
    """The original CLI in its own venv (made on first use); None, with the reason printed, when it cannot
    be installed."""
    binary = ORIGINAL_VENV / "bin" / "gefyra"
    if not binary.exists():
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(ORIGINAL_VENV)], capture_output=True, text=True
        )
        pip = ORIGINAL_VENV / "bin" / "pip"
        done = (
            made
            if made.returncode
            else subprocess.run(
                [str(pip), "install", "-q", ORIGINAL, *ORIGINAL_CLI_DEPS],
                capture_output=True,
                text=True,
                timeout=600,
            )
        )
        if done.returncode or not binary.exists():
            print(
                f"{ORIGINAL} could not be installed ({(done.stderr or done.stdout).strip()[-300:]}); "
                "no comparison with it"
            )
            return None
    return ["env", "-u", "PYTHONPATH", str(binary)]  # its own package, never this checkout


def _engine_cases(projects: ExitStack, cli: list[str], agent: BenchAgent) -> dict[str, Case]:
    """Applied throw-away projects: 10 containers for status and list, 50 for a no-op plan; each read-only
    command warm (through the agent, its normal use) and cold (GEFYRA_AGENT=0, in-process)."""
    from bench._common import BenchProject
    from gefyra import api

    ten = projects.enter_context(BenchProject(10))
    fifty = projects.enter_context(BenchProject(50))
    for project in (ten, fifty):
        api.apply(project.config()).raise_for_failures()
    commands = {
        "gefyra status (10)": ([*cli, "status"], ten.folder),
        "gefyra list (10)": ([*cli, "list", "-p", ten.name], ten.folder),
        "gefyra plan (50)": ([*cli, "plan"], fifty.folder),
    }
    cases: dict[str, Case] = {}
    for name, (command, cwd) in commands.items():
        cases[name] = (command, cwd, agent)
        cases[f"{name} cold"] = (command, cwd, None)
    return cases


def _measure(cases: dict[str, Case], runs: int, agent: BenchAgent) -> dict[str, list[tuple[float, float]]]:
    for command, cwd, through in cases.values():  # warm-up: page cache, .pyc files, the agent started
        timed(command, cwd, through)
    if any(through for _, _, through in cases.values()) and not agent.wait_listening():
        raise SystemExit(f"the agent did not start (see {agent.folder})")
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, (command, cwd, through) in cases.items():
            samples[name].append(timed(command, cwd, through))
    return samples


if __name__ == "__main__":
    sys.exit(main())

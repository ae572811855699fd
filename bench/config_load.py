"""Loading hostile gefyra.yaml files: median CPU seconds and peak memory per case (issue 10).

    PYTHONPATH=$PWD python3 bench/config_load.py [--runs 5] [--json PATH]

Each case is a file up to the size limit that used to take seconds to minutes; the goal is an answer (a
correct, positioned problem, or a valid config) in under 2 s. Peak memory is measured with tracemalloc in a
separate run (it slows Python down, so it is not part of the timing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._results import figure, write  # noqa: E402
from gefyra.config import load  # noqa: E402
from gefyra.errors import ConfigError  # noqa: E402

HEADER = "version: 1\ncontainers:\n  web:\n    image: nginx\n"


def env_keys(folder: Path) -> str:
    return HEADER + "    env:\n" + "".join(f"      K{i:06d}: v\n" for i in range(180_000))


def unknown_keys(folder: Path) -> str:
    return HEADER + "".join(f"    unknown{i}: 1\n" for i in range(20_000))


def unknown_keys_under_the_limit(folder: Path) -> str:
    return HEADER + "".join(f"    unknown{i}: 1\n" for i in range(9_900))


def duplicate_keys(folder: Path) -> str:
    return HEADER + "    image: nginx\n" * 50_000


def duplicate_keys_under_the_limit(folder: Path) -> str:
    return HEADER + "    image: nginx\n" * 9_900


def env_keys_under_the_limit(folder: Path) -> str:
    return HEADER + "    env:\n" + "".join(f"      K{i:06d}: v\n" for i in range(9_900))


def many_ports(folder: Path) -> str:
    return HEADER + "    ports:\n" + "".join(f"      - {1 + i}\n" for i in range(19_900))


def many_missing_mounts(folder: Path) -> str:
    return HEADER + "    mounts:\n" + "".join(f"      - ./gone{i}:/m{i}\n" for i in range(19_900))


def one_env_file_many_times(folder: Path) -> str:
    (folder / "big.env").write_text("".join(f"K{i}=v\n" for i in range(100_000)))
    return HEADER + "    env_file:\n" + "      - big.env\n" * 19_900


def unset_variables(folder: Path) -> str:
    return HEADER + "    env:\n      A: '" + "${NOPE}" * 500_000 + "'\n"


def billion_laughs(folder: Path) -> str:
    text = "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 10):
        previous = "b" * (level - 1) or "a"
        text += f"{'b' * level}: &{'b' * level} [" + ", ".join([f"*{previous}"] * 10) + "]\n"
    return text


def deep_flow(folder: Path) -> str:
    return "[" * 2_000_000 + "]" * 2_000_000


CASES: dict[str, Callable[[Path], str]] = {
    "180000 env keys": env_keys,
    "20000 unknown keys": unknown_keys,
    "9900 unknown keys": unknown_keys_under_the_limit,
    "50000 duplicate keys": duplicate_keys,
    "9900 duplicate keys": duplicate_keys_under_the_limit,
    "9900 env keys (valid)": env_keys_under_the_limit,
    "19900 ports (valid)": many_ports,
    "19900 missing mounts": many_missing_mounts,
    "one 100000-key env file x 19900": one_env_file_many_times,
    "500000 unset variables": unset_variables,
    "billion laughs": billion_laughs,
    "4 MiB of nesting": deep_flow,
}


def answer(folder: Path) -> str:
    try:
        load(cwd=folder, environ={})
    except ConfigError as error:
        return f"{len(error.problems)} problem(s), first: {error.problems[0]}"[:120]
    return "valid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write one Figure row (the slowest case) here")
    arguments = parser.parse_args()
    runs = arguments.runs
    slowest: tuple[float, str, list[float], float] = (-1.0, "", [], 0.0)
    peaks = []
    print(f"{'case':30} {'bytes':>9} {'median CPU s':>12} {'peak MiB':>9}  answer")
    for name, make in CASES.items():
        with tempfile.TemporaryDirectory() as temp:
            folder = Path(temp)
            text = make(folder)
            (folder / "gefyra.yaml").write_text(text)
            times = []
            for _ in range(runs):
                start = time.process_time()
                result = answer(folder)
                times.append(time.process_time() - start)
            tracemalloc.start()
            answer(folder)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            size = len(text.encode())
            peaks.append(peak)
            if statistics.median(times) > slowest[0]:
                slowest = (statistics.median(times), name, times, peak)
            print(f"{name:30} {size:9d} {statistics.median(times):12.3f} {peak:9.1f}  {result}")
    _, name, times, peak = slowest
    row = figure(
        f"config load, slowest of {len(CASES)} hostile files (CPU)",
        times,
        goal_below=2.0,
        note=f"slowest case: {name} (peak {peak:.0f} MiB); largest peak of all cases {max(peaks):.0f} MiB",
    )
    write([row], arguments.json)


if __name__ == "__main__":
    main()

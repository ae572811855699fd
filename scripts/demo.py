"""The one-command demo (`make demo`): examples/shop on the demo sandbox, bridged to local code, proved, and
taken down again, with the cluster shown to be as it was.

    python3 scripts/demo.py            # set-up, sandbox, shop, gefyra apply, proofs, watch, gefyra down
    python3 scripts/demo.py --keep     # ... leave the shop bridged and print what to run next
    python3 scripts/demo.py --clean    # gefyra down of the shop, then the demo sandbox down

Needs root (Docker, iptables). Every failure is one line saying what went wrong and one saying what to do;
DEMO_DEBUG=1 adds the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(
    0, str(REPO)
)  # run as a file: `scripts.*` and the checkout's `gefyra`, `tests` come from here

from scripts.demo_shop import DemoError  # noqa: E402 - after the path (stdlib-only module top)


def setup() -> None:
    """.ci/setup: apt packages, Python deps, the Docker engine, the base image (each only when missing)."""
    started = time.monotonic()
    print("==> set-up: packages, Python dependencies, Docker engine, base image (.ci/setup)", flush=True)
    done = subprocess.run(["bash", str(REPO / ".ci" / "setup")], capture_output=True, text=True)
    lines = (done.stdout + done.stderr).strip().splitlines()
    for line in lines:
        print(f"    | {line}", flush=True)
    if done.returncode != 0:
        last = lines[-1] if lines else "no output"
        engine = [line for line in lines if line.startswith("docker engine: no answer")]
        if engine:  # scripts/engine.sh then prints the daemon's last log lines
            log = os.environ.get("GEFYRA_DOCKERD_LOG", "/var/log/gefyra-dockerd.log")
            raise DemoError(f"the Docker engine is not startable ({engine[0][15:]})", f"read {log}")
        if any(line.startswith("base image:") for line in lines) and not last.startswith("base image:"):
            raise DemoError(
                f"the base image could not be built: {last}",
                "check that the Debian mirror is reachable (GEFYRA_DEBIAN_MIRROR), then run the demo again",
            )
        raise DemoError(
            f"the set-up failed: {last}", "see its output above; run `bash .ci/setup` again when fixed"
        )
    print(f"    done in {time.monotonic() - started:.1f}s", flush=True)


DEMO_LOCK = Path(os.environ.get("GEFYRA_DEMO_LOCK", "/run/lock/gefyra-demo.lock"))


def hold_demo_lock() -> int:
    """One demo at a time on a machine: demos share the `demo` sandbox, its NodePort and the local port. A
    second demo (another checkout's test suite, a second terminal) waits for the first instead of breaking it.
    """
    DEMO_LOCK.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(DEMO_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"==> another demo runs on this machine ({DEMO_LOCK}); waiting for it to finish", flush=True)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd  # held until the process exits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the shop bridged; print what to run next")
    parser.add_argument("--clean", action="store_true", help="gefyra down of the shop and the sandbox down")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if os.geteuid() != 0:
            raise DemoError(
                "the demo needs root (Docker, iptables rules of the sandbox)",
                "run it as root: sudo make demo",
            )
        hold_demo_lock()
        setup()
        from scripts import demo_main

        if args.clean:
            demo_main.clean()
        else:
            demo_main.demo(keep=args.keep)
    except DemoError as error:
        print(f"demo: {error.what}\n  -> {error.todo}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "demo: interrupted\n  -> run `make demo` again (it cleans up what this run left)", file=sys.stderr
        )
        return 130
    except Exception as error:  # noqa: BLE001 - the one boundary: a line, not a traceback
        if os.environ.get("DEMO_DEBUG"):
            raise
        print(
            f"demo: unexpected {type(error).__name__}: {error!s:.300}\n"
            "  -> run again with DEMO_DEBUG=1 for the traceback, and report it",
            file=sys.stderr,
        )
        return 1
    print(f"demo: finished in {time.monotonic() - started:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

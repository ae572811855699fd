"""The suite sees Ctrl-C as in a terminal even when it was started with SIGINT ignored (a background job
of a script, `nohup ... &`): tests/conftest.py restores Python's handler, and the children it starts have
SIGINT at its default. Found by scripts/suite-under-load.sh, whose background copy failed every Ctrl-C
test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIGINT_BIT = 1 << (signal.SIGINT - 1)


def _ignored_signals(status: str) -> int:
    line = next(row for row in status.splitlines() if row.startswith("SigIgn:"))
    return int(line.split()[1], 16)


def test_this_process_handles_ctrl_c_and_its_children_do_not_ignore_it() -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    child = subprocess.run(["cat", "/proc/self/status"], capture_output=True, text=True, check=True)
    assert not _ignored_signals(child.stdout) & SIGINT_BIT


def test_a_suite_started_with_sigint_ignored_still_handles_it() -> None:
    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    here = Path(__file__).relative_to(REPO)
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{here}::{_INNER}"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=ignore_sigint,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert inner.returncode == 0, inner.stdout[-2000:] + inner.stderr[-2000:]
    assert "1 passed" in inner.stdout


_INNER = test_this_process_handles_ctrl_c_and_its_children_do_not_ignore_it.__name__

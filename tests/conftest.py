"""Shared fixtures. Tests that need Docker fail (never skip) when the engine does not answer."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import docker  # whole, in the main thread: see gefyra.providers.docker.engine.engine.sdk()
import pytest

REPO = Path(__file__).resolve().parent.parent

# The suite's `gefyra plan/status/list` run in-process: an agent started in the default folder would outlive
# the suite by its idle period. The agent tests (test_agent_*) give it a folder of their own and stop it.
os.environ.setdefault("GEFYRA_AGENT", "0")


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as in a terminal, however the suite was started. A shell without job control starts a
    background command (`suite &`, `nohup ... &`) with SIGINT ignored; Python then installs no
    KeyboardInterrupt handler and every child inherits the ignore, so the tests that press Ctrl-C on
    `gefyra watch` (and on the watch loop in-process) waited 30 s for an exit that never came. A caught
    signal is reset to the default on exec, so the children start with SIGINT at its default again."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def docker_client():
    """A docker SDK client for the engine that scripts/engine.sh started; fails loudly when it is missing."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as error:  # noqa: BLE001 - turn any connection problem into one clear failure
        pytest.fail(
            f"Docker engine not reachable ({error}); start it with `bash scripts/engine.sh` "
            "(CI does this in .ci/run). Docker tests never skip.",
            pytrace=False,
        )
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client) -> str:
    """Ensure the offline `debian:bookworm-slim` exists (images/base/build.sh; cached)."""
    tag = "debian:bookworm-slim"
    try:
        docker_client.images.get(tag)
    except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound, imported lazily
        subprocess.run(["bash", str(REPO / "images/base/build.sh")], check=True, env=os.environ.copy())
    return tag

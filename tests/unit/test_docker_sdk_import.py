"""The docker SDK imported from several threads at once (apply steps, the watch's engine events) never
yields a partially initialised module: gefyra.providers.docker.engine.engine.sdk() imports it whole under
one lock. With the former lazy imports (`docker.errors` in translated(), `docker.types` in create_network,
`docker` for the client) this test failed every time ("cannot import name ... from partially initialized
module 'docker.types'"); seen in the suite as a failed first apply of `gefyra watch`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, threading
assert "docker" not in sys.modules
from gefyra.errors import GefyraError
from gefyra.providers.docker.engine.engine import Engine, translated
from gefyra.providers.docker.engine.transport import UnixTransport
engine = Engine(UnixTransport("/nonexistent/docker.sock", timeout=5))  # no engine: writes fail cleanly
barrier = threading.Barrier(6)
errors = []

def translating():  # imports the SDK's errors
    barrier.wait()
    try:
        with translated("probing", "unix:///nonexistent/docker.sock"):
            pass
    except Exception as error:
        errors.append(repr(error))

def creating_a_network():  # imports the SDK's types, then makes its client
    barrier.wait()
    try:
        engine.create_network("n", subnet="10.0.0.0/24", labels={})
    except GefyraError:
        pass  # the engine is not there: expected
    except Exception as error:
        errors.append(repr(error))

def making_the_client():  # imports the SDK's package (the watch's engine events do, beside a step)
    barrier.wait()
    try:
        engine._api()
    except GefyraError:
        pass
    except Exception as error:
        errors.append(repr(error))

threads = [threading.Thread(target=f) for f in (translating, creating_a_network, making_the_client) * 2]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(errors), errors[:1])
"""


def test_threads_importing_the_sdk_at_once_all_get_it_whole() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    outputs = [
        subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()
        for _ in range(8)
    ]
    assert outputs == ["0 []"] * 8

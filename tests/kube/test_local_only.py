"""A project without `cluster:` never imports `kubernetes` (a plan of a local-only project stays fast)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker]
REPO = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
from gefyra import api
plan = api.plan(api.load(sys.argv[1]))
assert plan.has_changes, plan
print("kubernetes" in sys.modules)
"""


def test_plan_without_cluster_section_does_not_import_kubernetes(tmp_path, docker_client):
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(REPO / "examples" / "hello" / "gefyra.yaml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"

"""`gefyra install --print`: the install manifests as YAML; bad settings are one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gefyra", "install", *args],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_print_gives_every_manifest_with_the_named_images():
    images = {
        "GEFYRA_OPERATOR_IMAGE": "reg/op:1",
        "GEFYRA_STOWAWAY_IMAGE": "reg/st:1",
        "GEFYRA_CARRIER_IMAGE": "reg/ca:1",
    }
    done = _run("--print", "--route", "10.96.0.0/12", "--dns", "10.96.0.10", **images)
    assert done.returncode == 0, done.stderr
    docs = list(yaml.safe_load_all(done.stdout))
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "Namespace" and kinds.count("CustomResourceDefinition") == 2
    images_used = {
        c["image"]
        for d in docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images_used == {"reg/op:1", "reg/st:1"}


def test_bad_settings_and_half_named_images_are_clear_errors():
    bad = _run("--print", "--route", "bad")
    assert bad.returncode == 1 and "cluster_routes" in bad.stderr and "Traceback" not in bad.stderr
    half = _run("--print", GEFYRA_OPERATOR_IMAGE="reg/op:1")
    assert half.returncode == 1 and "GEFYRA_STOWAWAY_IMAGE" in half.stderr

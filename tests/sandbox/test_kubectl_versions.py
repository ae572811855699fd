"""Every kubectl on the machine works against the sandbox, imperative verbs included (issue 12).

kubectl 1.32 and later send the objects of `create namespace|configmap|secret|deployment|serviceaccount|token`
as protobuf; before the sandbox decoded them, those verbs failed with 415. One sandbox; the same script
(kubectl_verbs.sh: create, expose, label, annotate, rollout status, scale, set image/env, get, describe,
logs, wait, run, create token, apply -f, patch, delete) runs once per kubectl version found, each in its own
namespace.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.sandbox.cluster import Sandbox
from tests.sandbox.fixtures import Kube

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("kubectl_verbs.sh")
VERSIONED = Path("/usr/lib/google-cloud-sdk/bin")  # kubectl.1.27 ... kubectl.1.33 (Cloud SDK packaging)
NONE_FOUND = "none-found"


def minor(path: Path) -> int:
    return int(path.name.rsplit(".", 1)[1])


def kubectls() -> list[str]:
    """The versioned binaries, then `kubectl` on PATH (a dispatcher picking a version by the server's)."""
    versioned = (p for p in VERSIONED.glob("kubectl.1.*") if p.name.rsplit(".", 1)[1].isdigit())
    found = sorted(versioned, key=minor)
    on_path = shutil.which("kubectl")
    return [str(p) for p in found] + ([on_path] if on_path else [])


FOUND = kubectls()


def client_minor(kubectl: str) -> str:
    command = [kubectl, "version", "--client", "-o", "json"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"{kubectl} version failed: {out.stderr}"
    return str(json.loads(out.stdout)["clientVersion"]["minor"])


@pytest.mark.parametrize("kubectl", FOUND or [NONE_FOUND], ids=lambda k: Path(k).name)
def test_kubectl_verbs(kubectl: str, sandbox: Sandbox, echo_image: str, sandbox_kube: Kube) -> None:
    # no kubectl at all is a broken machine image, not a reason to skip
    assert kubectl != NONE_FOUND, f"no kubectl found: neither {VERSIONED}/kubectl.1.* nor kubectl on PATH"
    if Path(kubectl).parent == VERSIONED:  # the file name must not lie about the version under test
        assert client_minor(kubectl) == str(minor(Path(kubectl)))
    namespace = f"kv-{re.sub(r'[^a-z0-9]', '-', Path(kubectl).name)}-{secrets.token_hex(2)}"
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "KUBECTL": kubectl, "NS": namespace, "IMAGE": echo_image}
    env["KUBECONFIG"] = str(sandbox.kubeconfig)
    run = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=240)
    steps = re.findall(r"^STEP (\S+)", run.stdout, re.M)
    assert run.returncode == 0 and run.stdout.rstrip().endswith("ALL OK"), (
        f"{kubectl} failed at step {steps[-1] if steps else '?'}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    )
    assert len(steps) == len(re.findall(r"^step ", SCRIPT.read_text(), re.M))
    # the script ended by deleting its namespace: seen from the official client, it is going or gone
    left = {ns.metadata.name: ns.status.phase for ns in sandbox_kube.core.list_namespace().items}
    assert left.get(namespace, "Terminating") == "Terminating"

"""sync end to end: the bridged Pod's service-account folder in the local container, through the CLI.

After `gefyra apply` of examples/bridge (sync defaults to the service-account folder), the local container
has the bridged Pod's token and namespace, read-only at the same path; the copy follows the Pod while the
bridge lives (a copy removed on this machine comes back within the loop's interval); `gefyra status` says it
synced; `gefyra down` leaves neither the loop container nor the copies. The local container mounts its (empty)
copy from the start: bridging and unbridging never replace it (same container id), and unbridging empties the
copy (no stale token stays in the container).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.kit import cli_env, copy_example, create_all, gefyra, pod_container, running_pods, workload
from tests.sandbox.fixtures import wait_for

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]
ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.fixture
def project(sandbox, sandbox_ns, tmp_path, sandbox_kube, echo_image):
    create_all(sandbox_kube, sandbox_ns, workload("web", echo_image, 1))
    running_pods(sandbox_kube, sandbox_ns, "web", 1)
    name, file = copy_example(tmp_path / "bridge", sandbox_ns)
    env = {**cli_env(sandbox.kubeconfig, tmp_path / "config", name, file), "GEFYRA_SYNC_INTERVAL": "2"}
    yield env
    gefyra(env, "down", check=False)


def _read(container, path: str) -> str:
    done = container.exec_run(["cat", path])
    assert done.exit_code == 0, done.output
    return done.output.decode()


def test_the_local_container_has_the_bridged_pods_token_and_keeps_it(
    project, sandbox_kube, sandbox_ns, docker_client, tmp_path
):
    env = project
    file = Path(env["GEFYRA_FILE"])
    with_bridge = file.read_text()
    file.write_text(with_bridge.split("\nbridges:")[0] + "\n")  # first without the bridge
    gefyra(env, "apply", "--yes")
    before = docker_client.containers.get(f"gefyra-{env['GEFYRA_PROJECT_NAME']}-web")
    assert before.exec_run(["ls", "-A", ACCOUNT]).output == b""  # mounted, empty until a bridge syncs

    file.write_text(with_bridge)
    gefyra(env, "apply", "--yes")
    pod = running_pods(sandbox_kube, sandbox_ns, "web", 1)[0].metadata.name
    carrier = pod_container(docker_client, sandbox_ns, pod, "web")
    assert carrier.attrs["Config"]["Image"].startswith("gefyra/carrier:")
    local = docker_client.containers.get(f"gefyra-{env['GEFYRA_PROJECT_NAME']}-web")
    assert local.id == before.id  # bridging did not replace the local container

    token = _read(carrier, f"{ACCOUNT}/token")
    # apply copied it once Carrier's daemon listened; under load that may take the loop's next round
    wait_for(lambda: local.exec_run(["cat", f"{ACCOUNT}/token"]).output.decode() == token, 30, "the token")
    assert _read(local, f"{ACCOUNT}/namespace") == sandbox_ns
    assert local.exec_run(["touch", f"{ACCOUNT}/x"]).exit_code != 0  # read-only in the local container

    # The loop keeps the copy: remove it on this machine and it comes back.
    copy = tmp_path / "config" / "gefyra" / "sync" / env["GEFYRA_PROJECT_NAME"] / "web"
    (folder,) = list(copy.iterdir())
    for item in folder.iterdir():
        shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
    assert local.exec_run(["cat", f"{ACCOUNT}/token"]).exit_code != 0
    wait_for(
        lambda: local.exec_run(["cat", f"{ACCOUNT}/token"]).output.decode() == token, 30, "the copy back"
    )

    status = gefyra(env, "status").stdout
    assert "synced" in status, status
    assert gefyra(env, "plan", check=False).returncode == 0

    # Unbridging leaves the container running and its copy empty.
    file.write_text(with_bridge.split("\nbridges:")[0] + "\n")
    gefyra(env, "apply", "--yes")
    after = docker_client.containers.get(f"gefyra-{env['GEFYRA_PROJECT_NAME']}-web")
    assert after.id == before.id and after.status == "running"
    assert after.exec_run(["ls", "-A", ACCOUNT]).output == b""
    assert list(folder.iterdir()) == []
    assert not docker_client.containers.list(
        all=True, filters={"name": f"gefyra-{env['GEFYRA_PROJECT_NAME']}.sync-web"}
    )

    gefyra(env, "down")
    assert not copy.exists()
    assert not docker_client.containers.list(
        all=True, filters={"name": f"gefyra-{env['GEFYRA_PROJECT_NAME']}"}
    )

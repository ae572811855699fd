"""The bridge benchmark's stand: its own sandbox, a namespace with the Deployment `web` (one Pod, echo image)
behind a NodePort Service, examples/bridge copied with the bench's values (tests/e2e/kit.py), the data-plane
images built ahead (so "from zero" measures cached images), and everything removed afterwards."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.bridge import Stand


@contextmanager
def stand(folder: Path) -> Iterator[Stand]:
    from kubernetes import client

    from tests.e2e.kit import cli_env, copy_example, create_all, running_pods, workload
    from tests.sandbox.cluster import Sandbox, random_instance
    from tests.sandbox.fixtures import Kube
    from tests.sandbox.images import ensure_image

    sandbox = Sandbox(instance=random_instance()).start()
    stand_ = None
    try:
        api = sandbox.api_client()
        kube = Kube(api, client.CoreV1Api(api), client.AppsV1Api(api))
        namespace = f"rt-{secrets.token_hex(3)}"
        kube.core.create_namespace({"metadata": {"name": namespace}})
        create_all(kube, namespace, workload("web", ensure_image(sandbox.docker, "echo"), 1))
        (pod,) = running_pods(kube, namespace, "web", 1)
        project, file = copy_example(folder / "bridge", namespace)
        # The example builds `.`, which holds gefyra.yaml: without this every edit would rebuild and replace
        # the local container (context hash), which is not what a bridge costs.
        (file.parent / ".dockerignore").write_text("gefyra.yaml\n")
        env = cli_env(sandbox.kubeconfig, folder / "config", project, file)
        port = kube.core.read_namespaced_service("web", namespace).spec.ports[0].node_port
        subprocess.run(
            [sys.executable, "-m", "gefyra", "images", "build"],
            env=env,
            check=True,
            capture_output=True,
            timeout=900,
        )
        stand_ = Stand(
            env=env,
            file=file,
            with_bridge=file.read_text(),
            url=f"http://{sandbox.node_ip}:{port}/",
            core=kube.core,
            custom=client.CustomObjectsApi(api),
            namespace=namespace,
            pod=pod.metadata.name,
        )
        yield stand_
    finally:
        if stand_ is not None:
            subprocess.run(
                [sys.executable, "-m", "gefyra", "down", "-f", str(stand_.file)],
                env=stand_.env,
                capture_output=True,
                timeout=300,
            )
        left = sandbox.stop()
        if left:
            print(f"the sandbox left things behind: {left}", file=sys.stderr)

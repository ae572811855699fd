"""env_from against the sandbox API: a live Pod's environment read through the provider's boundary, and the
errors a user sees (workload, Pod, container missing), each naming the container and its bridge."""

from __future__ import annotations

import base64

import pytest

from gefyra.config import load
from gefyra.errors import ProviderError
from gefyra.model.cluster_specs import EnvFromSpec
from gefyra.model.dataplane_specs import AppSpec
from gefyra.providers.base import Session, Snapshot, StepContext
from gefyra.providers.kube.boundary import ClusterRef, Kube
from gefyra.providers.kube.envfrom import container_env, resolve
from gefyra.providers.kube.provider import KubeConnector

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster]


@pytest.fixture
def pod(sandbox_kube, sandbox_ns, echo_image) -> str:
    sandbox_kube.core.create_namespaced_secret(
        sandbox_ns, {"metadata": {"name": "db"}, "data": {"user": base64.b64encode(b"app").decode()}}
    )
    container = {
        "name": "main",
        "image": echo_image,
        "envFrom": [{"secretRef": {"name": "db"}}],
        "env": [{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
    }
    sidecar = {"name": "side", "image": echo_image, "env": [{"name": "PORT", "value": "8081"}]}
    manifest = {"metadata": {"name": "api"}, "spec": {"containers": [container, sidecar]}}
    sandbox_kube.core.create_namespaced_pod(sandbox_ns, manifest)
    sandbox_kube.wait_running(sandbox_ns, "api", 60)
    return "api"


@pytest.fixture
def kube(sandbox):
    client = Kube.connect(ClusterRef(str(sandbox.kubeconfig)))
    yield client
    client.close()


def test_a_pods_first_or_named_container(kube, pod, sandbox_kube, sandbox_ns):
    ip = sandbox_kube.pod(sandbox_ns, pod).status.pod_ip
    env = resolve(kube, EnvFromSpec(kind="pod", name=pod, container=None, namespace=sandbox_ns))
    assert env["user"] == "app" and env["IP"] == ip and env["KUBERNETES_SERVICE_HOST"]
    side = resolve(kube, EnvFromSpec(kind="pod", name=pod, container="side", namespace=sandbox_ns))
    assert side["PORT"] == "8081" and "user" not in side


def test_what_is_missing_is_named(kube, pod, sandbox_ns):
    with pytest.raises(ProviderError, match=f"deployment/nope does not exist in namespace {sandbox_ns}"):
        resolve(kube, EnvFromSpec(kind="deployment", name="nope", container=None, namespace=sandbox_ns))
    with pytest.raises(ProviderError, match=r"Pod api has no container 'web' \(it has: main, side\)"):
        resolve(kube, EnvFromSpec(kind="pod", name=pod, container="web", namespace=sandbox_ns))


def test_the_error_names_the_container_and_its_bridge(sandbox, pod, sandbox_ns, tmp_path):
    (tmp_path / "gefyra.yaml").write_text(
        "version: 1\nproject: {name: envtest}\n"
        f"cluster: {{kubeconfig: {sandbox.kubeconfig}, namespace: {sandbox_ns}}}\n"
        "containers:\n  web: {image: nginx, env_from: pod/api/web, env: {A: b}}\n"
        "bridges:\n  front: {target: deployment/front, local: web}\n"
    )
    config = load(tmp_path / "gefyra.yaml")
    session = Session({"kube": lambda: KubeConnector(config)})
    ctx = StepContext(project="envtest", session=session, snapshot=Snapshot(project="envtest"), config=config)
    ref = EnvFromSpec(kind="pod", name=pod, container="web", namespace=sandbox_ns)
    spec = AppSpec(
        docker_name="gefyra-envtest-web", image="nginx", image_id=None, network="n", env={"A": "b"}
    )
    assert container_env(ctx, "web", spec) == {"A": "b"}  # no env_from: nothing is asked
    with pytest.raises(ProviderError) as error:
        container_env(ctx, "web", spec.model_copy(update={"env_from": [ref]}))
    session.close()
    assert error.value.message == (
        f"containers.web.env_from[0] (pod/api/web in namespace {sandbox_ns}; "
        "local container of bridges.front): "
        "Pod api has no container 'web' (it has: main, side)"
    )
    main = ref.model_copy(update={"container": "main"})
    session = Session({"kube": lambda: KubeConnector(config)})
    ctx = StepContext(project="envtest", session=session, snapshot=Snapshot(project="envtest"), config=config)
    merged = container_env(ctx, "web", spec.model_copy(update={"env_from": [main], "env": {"user": "local"}}))
    session.close()
    assert merged["user"] == "local" and merged["IP"]  # gefyra.yaml's env on top of the cluster's

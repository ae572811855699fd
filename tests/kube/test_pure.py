"""The pure parts of the Kubernetes provider: names, specs, status lines, drift, manifests (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from gefyra.cluster import names
from gefyra.model.cluster_specs import (
    SPEC_ANNOTATION,
    BridgeSpec,
    ImageRefs,
    InstallSpec,
    bridge_object_name,
    client_name,
)
from gefyra.providers.kube.boundary import ApiType, KubeObject
from gefyra.providers.kube.bridge import describe, observe_bridge
from gefyra.providers.kube.client import handshake_age, observe_client
from gefyra.providers.kube.install import manifests, missing_parts
from gefyra.providers.kube.observe import InstallState, project_selector


def test_names_stay_dns_labels_and_are_stable():
    assert client_name("shop", "3f9c2a") == "shop-3f9c2a"
    long = client_name("p" * 63, "3f9c2a")
    assert len(long) <= 63 and long == client_name("p" * 63, "3f9c2a")
    assert len(bridge_object_name(long, "web" * 10)) <= 63


def test_api_paths():
    assert ApiType("v1", "pods").path("ns", "p", "status") == "/api/v1/namespaces/ns/pods/p/status"
    assert ApiType("apps/v1", "deployments").path(None) == "/apis/apps/v1/deployments"
    assert ApiType("v1", "nodes", namespaced=False).path("ignored", "n") == "/api/v1/nodes/n"


def test_selector_names_project_and_client():
    assert project_selector("shop", "shop-1") == (
        "gefyra.dev/managed-by=gefyra,gefyra.dev/project=shop,gefyra.dev/client=shop-1"
    )
    assert project_selector(None) == "gefyra.dev/managed-by=gefyra,gefyra.dev/project"


def test_handshake_age():
    now = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    assert handshake_age("2026-01-01T12:00:00Z", now) == "handshake 30s ago"
    assert handshake_age(None, now) == "no handshake yet"


def _spec(**extra) -> BridgeSpec:
    values = dict(
        object_name="shop-1-web",
        target="deployment/web",
        namespace="shop",
        container="web",
        ports={"80": 8080},
        client="shop-1",
        local="web",
        local_docker_name="gefyra-shop-web",
        network="gefyra-shop",
    )
    return BridgeSpec(**{**values, **extra})


def test_bridge_is_described_like_the_plan_shows_it():
    assert describe(_spec()) == "deployment/web:web 80->8080"
    assert describe(_spec(container=None, ports={})) == "deployment/web every port"


def _bridge(
    phase: str, pods: list[dict], local_ip: str = "172.30.0.5", reason: str = "Bridged"
) -> KubeObject:
    ready = "True" if phase == "Active" else "False"
    condition = {
        "type": "Ready",
        "status": ready,
        "reason": reason,
        "message": "why" if ready == "False" else "",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    return KubeObject.model_validate(
        {
            "metadata": {"name": "shop-1-web"},
            "spec": {"localIp": local_ip},
            "status": {"phase": phase, "conditions": [condition], "pods": pods},
        }
    )


def _pod(name: str, state: str) -> dict:
    return {"name": name, "uid": "u", "container": "web", "originalImage": "img", "state": state}


def test_bridge_drift_moved_local_container_and_unbridged_pod():
    obj = _bridge("Active", [_pod("a", "Bridged"), _pod("b", "Pending")])
    observed = observe_bridge(obj, "172.30.0.9")
    assert observed.healthy
    assert observed.drift == (
        "the local container moved to 172.30.0.9 (bridge points at 172.30.0.5)",
        "Pod b is Pending",
    )
    assert observed.detail == "2 Pod(s): a Bridged, b Pending"


def test_failed_bridge_is_unhealthy_with_its_reason():
    observed = observe_bridge(_bridge("Failed", [], reason="PortMissing"), "172.30.0.5")
    assert not observed.healthy and observed.drift == ()
    assert observed.detail == "no Pods; PortMissing: why"


def test_client_status_line():
    obj = KubeObject.model_validate(
        {
            "metadata": {"name": "shop-1"},
            "status": {"phase": "Ready", "tunnelAddress": "100.87.0.2/32", "conditions": []},
        }
    )
    observed = observe_client(obj)
    assert observed.healthy and observed.status == "ready"
    assert observed.detail == "tunnel 100.87.0.2/32, no handshake yet"


def test_install_manifests_carry_the_spec_and_missing_parts_are_named():
    spec = InstallSpec(
        namespace=names.NAMESPACE,
        images=ImageRefs(operator="o:1", stowaway="s:1", carrier="c:1", local=False),
        image_pull_policy="IfNotPresent",
        node_port=31877,
        cluster_routes=["10.96.0.0/16"],
        cluster_dns=["10.96.0.10"],
        endpoint="203.0.113.7:31877",
    )
    found = manifests(spec)
    assert found[0]["kind"] == "Namespace" and SPEC_ANNOTATION in found[0]["metadata"]["annotations"]
    wireguard = next(m for m in found if m["metadata"]["name"] == names.STOWAWAY_WIREGUARD)
    assert wireguard["spec"]["ports"][0]["nodePort"] == 31877
    assert missing_parts(InstallState()) == [
        "CRD gefyraclients.gefyra.dev",
        "CRD gefyrabridges.gefyra.dev",
        "Deployment gefyra-operator",
        "Deployment gefyra-stowaway",
    ]


def test_local_ip_of_an_app_in_its_infra_containers_namespace():
    """With Cargo the app joins its infra container's namespace: its address is the infra's (the bridge
    pointed nowhere before: the app row itself has no network)."""
    from gefyra.providers.docker.engine import ContainerRow
    from gefyra.providers.docker.observe import DockerSnapshot
    from gefyra.providers.kube.bridge import local_ip

    infra = ContainerRow.model_validate(
        {
            "Id": "infra1",
            "Names": ["/gefyra-shop-web.infra"],
            "NetworkSettings": {"Networks": {"gefyra-shop": {"IPAddress": "172.30.0.5"}}},
        }
    )
    app = ContainerRow.model_validate(
        {"Id": "app1", "Names": ["/gefyra-shop-web"], "HostConfig": {"NetworkMode": "container:infra1"}}
    )
    plain = ContainerRow.model_validate(
        {
            "Id": "app2",
            "Names": ["/gefyra-shop-api"],
            "NetworkSettings": {"Networks": {"gefyra-shop": {"IPAddress": "172.30.0.6"}}},
        }
    )
    docker = DockerSnapshot(project="shop", containers=[infra, app, plain])
    spec = _spec().dump()
    assert local_ip(docker, spec) == "172.30.0.5"
    assert local_ip(docker, {**spec, "local_docker_name": "gefyra-shop-api"}) == "172.30.0.6"
    assert local_ip(docker, {**spec, "local_docker_name": "gefyra-shop-gone"}) is None

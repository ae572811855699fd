"""One-line summaries on plan lines: a bridge shows what it bridges (text and JSON)."""

from __future__ import annotations

import json

from gefyra.model.cluster_specs import BridgeSpec
from gefyra.model.resources import Observed, Resource
from gefyra.planning.planner import plan
from gefyra.providers.kube.bridgespec import describe
from gefyra.render.plan_json import plan_to_dict
from gefyra.render.plan_text import render

OK = Observed(status="running", healthy=True)


def _spec() -> BridgeSpec:
    return BridgeSpec(
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


def _plan():
    spec = _spec()
    bridge = Resource(kind="bridge", name="web", spec=spec.dump(), summary=describe(spec))
    old = Resource(kind="bridge", name="old", spec={"x": 1}, summary="deployment/old every port", observed=OK)
    net = Resource(kind="network", name="default", spec={})
    return plan("shop", [bridge, net], [old, net.model_copy(update={"observed": OK})])


def test_bridge_line_shows_its_target_and_ports() -> None:
    assert render(_plan()) == (
        "gefyra will change project shop:\n"
        "\n"
        "  - bridge/old (deployment/old every port)    not in gefyra.yaml\n"
        "  + bridge/web (deployment/web:web 80->8080)  not present\n"
        "\n"
        "Plan: 1 to add, 0 to replace, 1 to destroy."
    )


def test_summary_is_a_json_field_and_never_hashed() -> None:
    data = json.loads(json.dumps(plan_to_dict(_plan())))
    by_address = {change["address"]: change for change in data["changes"]}
    assert by_address["bridge/web"]["summary"] == "deployment/web:web 80->8080"
    assert by_address["network/default"]["summary"] == ""
    spec = _spec().dump()
    assert (
        Resource(kind="bridge", name="web", spec=spec, summary="a").spec_hash
        == Resource(kind="bridge", name="web", spec=spec).spec_hash
    )


def test_bridge_without_container_or_ports() -> None:
    spec = _spec().model_copy(update={"container": None, "ports": {}})
    assert describe(spec) == "deployment/web every port"


def test_a_declared_bridge_gets_its_summary(tmp_path, monkeypatch):
    from gefyra.config import load
    from gefyra.providers.kube.bridgespec import bridge_resource

    monkeypatch.setenv("GEFYRA_CLIENT_ID", "abc123")
    (tmp_path / "gefyra.yaml").write_text(
        "version: 1\nproject: {name: shop}\ncluster: {namespace: shop}\ncontainers: {web: {image: nginx}}\n"
        "bridges:\n  web: {target: deployment/web, container: web, ports: {80: 8080}}\n"
    )
    config = load("gefyra.yaml", cwd=tmp_path)
    resource = bridge_resource(config, "web", config.bridges["web"])
    assert resource.summary == "deployment/web:web 80->8080"
    change = plan("shop", [resource.evolve(depends_on=(), after=())], []).changes[0]
    assert change.summary == "deployment/web:web 80->8080"


def test_the_install_names_its_namespace_and_node_port(tmp_path):
    from gefyra.config import load
    from gefyra.providers.base import Snapshot
    from gefyra.providers.kube.install import KIND as INSTALL
    from gefyra.providers.kube.observe import ClusterFacts, KubeSnapshot

    (tmp_path / "gefyra.yaml").write_text("version: 1\ncluster: {endpoint: '127.0.0.1:31877'}\n")
    config = load("gefyra.yaml", cwd=tmp_path, environ={})
    facts = ClusterFacts(cluster_routes=["10.42.0.0/16"], cluster_dns=["10.43.0.10"], node_address=None)
    kube = KubeSnapshot(project=config.project.name, client_id="abc123", facts=facts)
    (resource,) = INSTALL.desired(config, Snapshot(project=config.project.name, providers={"kube": kube}))
    assert resource.summary == "namespace gefyra, Stowaway on UDP NodePort 31877"

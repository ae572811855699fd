"""The install manifests: complete, labelled for one sweep, least privilege, images configurable, YAML."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gefyra.cluster import names, rbac
from gefyra.cluster.install import InstallSettings, install_manifests, render_yaml
from gefyra.cluster.yamltext import load_all

SETTINGS = InstallSettings(
    operator_image="registry.example/gefyra/operator:1",
    stowaway_image="registry.example/gefyra/stowaway:1",
    carrier_image="registry.example/gefyra/carrier:1",
    cluster_routes=["10.96.0.0/12", "10.244.0.0/16"],
    cluster_dns=["10.96.0.10"],
)


def _by(kind: str, name: str) -> dict:
    found = [m for m in install_manifests(SETTINGS) if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _containers(deployment: dict) -> list[dict]:
    return deployment["spec"]["template"]["spec"]["containers"]


def test_install_has_every_part():
    kinds = sorted(f"{m['kind']}/{m['metadata']['name']}" for m in install_manifests(SETTINGS))
    assert kinds == [
        "ClusterRole/gefyra-operator",
        "ClusterRoleBinding/gefyra-operator",
        "CustomResourceDefinition/gefyrabridges.gefyra.dev",
        "CustomResourceDefinition/gefyraclients.gefyra.dev",
        "Deployment/gefyra-operator",
        "Deployment/gefyra-stowaway",
        "Namespace/gefyra",
        "Role/gefyra-operator",
        "RoleBinding/gefyra-operator",
        "Service/gefyra-operator",
        "Service/gefyra-stowaway-api",
        "Service/gefyra-stowaway-wireguard",
        "ServiceAccount/gefyra-operator",
        "ServiceAccount/gefyra-stowaway",
    ]
    assert install_manifests(SETTINGS)[0]["kind"] == "Namespace"
    assert [m["kind"] for m in install_manifests(SETTINGS)][-2:] == ["Deployment", "Service"]


def test_every_object_and_pod_template_carries_the_sweep_labels():
    for manifest in install_manifests(SETTINGS):
        labels = manifest["metadata"]["labels"]
        assert labels[names.MANAGED_BY] == "gefyra" and labels[names.COMPONENT], manifest["metadata"]["name"]
        if manifest["kind"] == "Deployment":
            template = manifest["spec"]["template"]["metadata"]["labels"]
            assert template[names.MANAGED_BY] == "gefyra"
            assert manifest["spec"]["selector"]["matchLabels"].items() <= template.items()
        namespaced = manifest["kind"] not in {
            "Namespace",
            "CustomResourceDefinition",
            "ClusterRole",
            "ClusterRoleBinding",
        }
        assert (manifest["metadata"].get("namespace") == "gefyra") == namespaced, manifest["metadata"]["name"]


def test_stowaway_gets_net_admin_and_the_tun_device_never_privileged():
    deployment = _by("Deployment", names.STOWAWAY)
    pod = deployment["spec"]["template"]["spec"]
    (container,) = _containers(deployment)
    assert container["securityContext"] == {"privileged": False, "capabilities": {"add": ["NET_ADMIN"]}}
    assert {"name": "tun", "hostPath": {"path": "/dev/net/tun", "type": "CharDevice"}} in pod["volumes"]
    assert pod["automountServiceAccountToken"] is False
    assert deployment["spec"]["replicas"] == 1
    env = {e["name"]: e["value"] for e in container["env"]}
    assert (
        env["STOWAWAY_CLUSTER_ROUTES"] == "10.96.0.0/12,10.244.0.0/16" and env["STOWAWAY_DNS"] == "10.96.0.10"
    )
    token = next(v for v in pod["volumes"] if v["name"] == "token")
    assert token["secret"] == {"secretName": names.STOWAWAY_TOKEN, "defaultMode": 0o400}


def test_stowaway_takes_its_server_key_from_a_secret_over_its_state_folder():
    """The key file lies where stowaway-entry.sh looks for it (it makes one only when none is there), so a
    new Pod keeps the server's public key; the rest of the state folder stays a writable emptyDir."""
    deployment = _by("Deployment", names.STOWAWAY)
    pod = deployment["spec"]["template"]["spec"]
    (container,) = _containers(deployment)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["state"] == {"name": "state", "emptyDir": {}}
    assert volumes["server-key"]["secret"] == {"secretName": "gefyra-stowaway-server", "defaultMode": 0o400}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/var/lib/stowaway"]["name"] == "state"
    assert mounts["/var/lib/stowaway/server.key"] == {
        "name": "server-key",
        "mountPath": "/var/lib/stowaway/server.key",
        "subPath": "server.key",
        "readOnly": True,
    }
    assert not [m for m in install_manifests(SETTINGS) if m["kind"] == "Secret"]  # made in the cluster


def test_services_udp_node_port_for_wireguard_cluster_ip_for_the_api():
    wireguard = _by("Service", names.STOWAWAY_WIREGUARD)["spec"]
    assert wireguard["type"] == "NodePort"
    assert wireguard["ports"] == [
        {"name": "wireguard", "protocol": "UDP", "port": 51820, "targetPort": 51820, "nodePort": 31820}
    ]
    api = _by("Service", names.STOWAWAY_API)["spec"]
    assert api["type"] == "ClusterIP" and api["ports"][0]["protocol"] == "TCP"
    assert api["selector"] == wireguard["selector"]


def test_images_are_configurable_and_carrier_image_reaches_the_operator():
    assert _containers(_by("Deployment", names.OPERATOR))[0]["image"] == "registry.example/gefyra/operator:1"
    assert _containers(_by("Deployment", names.STOWAWAY))[0]["image"] == "registry.example/gefyra/stowaway:1"
    env = {e["name"]: e["value"] for e in _containers(_by("Deployment", names.OPERATOR))[0]["env"]}
    assert env["GEFYRA_CARRIER_IMAGE"] == "registry.example/gefyra/carrier:1"
    local = SETTINGS.model_copy(update={"image_pull_policy": "Never"})
    assert {
        c["imagePullPolicy"]
        for m in install_manifests(local)
        if m["kind"] == "Deployment"
        for c in _containers(m)
    } == {"Never"}


def test_operator_runs_unprivileged():
    (container,) = _containers(_by("Deployment", names.OPERATOR))
    context = container["securityContext"]
    assert context["runAsNonRoot"] and context["capabilities"] == {"drop": ["ALL"]}
    assert context["allowPrivilegeEscalation"] is False


def test_namespace_records_that_gefyra_made_the_install():
    assert _by("Namespace", "gefyra")["metadata"]["annotations"] == {names.INSTALLED_BY: "gefyra"}
    foreign = SETTINGS.model_copy(update={"installed_by_gefyra": False})
    assert install_manifests(foreign)[0]["metadata"]["annotations"] == {}


def test_client_access_is_its_own_objects_only():
    service_account, role, binding = rbac.client_access(
        "alice", "gefyra", owner={"name": "alice", "uid": "u-1"}
    )
    secrets = [r for r in role["rules"] if r["resources"] == ["secrets"]]
    assert secrets == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "verbs": ["get"],
            "resourceNames": ["gefyra-peer-alice"],
        }
    ]
    clients = [r for r in role["rules"] if r["resources"] == [names.CLIENT_PLURAL]]
    assert clients[0]["resourceNames"] == ["alice"] and "create" not in clients[0]["verbs"]
    assert all(r["apiGroups"] in ([""], [names.GROUP]) for r in role["rules"])
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "gefyra-client-alice", "namespace": "gefyra"}
    ]
    assert service_account["metadata"]["ownerReferences"][0]["uid"] == "u-1"


def test_nobody_but_the_operator_may_read_secrets_by_any_name():
    namespace_rules = rbac.operator_namespace_rules()
    assert any(r["resources"] == ["secrets"] and "get" in r["verbs"] for r in namespace_rules)
    assert not any("secrets" in r["resources"] for r in rbac.operator_cluster_rules("gefyra"))


def test_render_yaml_round_trips():
    text = render_yaml(SETTINGS)
    assert text.count("\n---\n") == len(install_manifests(SETTINGS)) - 1
    assert load_all(text) == install_manifests(SETTINGS)


@pytest.mark.parametrize(
    "update, message",
    [
        ({"cluster_dns": ["cluster-dns"]}, "cluster_dns"),
        ({"tunnel_subnet": "100.87.0.1/24"}, "tunnel_subnet"),
        ({"node_port": 8080}, "node_port"),
        ({"operator_image": ""}, "operator_image"),
    ],
)
def test_bad_settings_name_the_field(update, message):
    with pytest.raises(ValidationError, match=message):
        InstallSettings.model_validate({**SETTINGS.model_dump(), **update})

"""Pure decisions of the Operator (no I/O): patches, problems, routes, conditions, the lease."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from gefyra_operator import reconcile
from gefyra_operator.reconcile import Problem

from gefyra.cluster import bridged, names
from gefyra.cluster.crds import GefyraBridgeSpec

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _pod(image="shop/web:1", annotations=None, **container):
    return {
        "metadata": {"name": "web-1", "namespace": "shop", "annotations": annotations or {}},
        "spec": {
            "containers": [{"name": "web", "image": image, **container}, {"name": "log", "image": "fluent"}]
        },
    }


def _spec(**extra):
    return GefyraBridgeSpec.model_validate(
        {"target": "deployment/web", "namespace": "shop", "client": "alice", "localIp": "172.30.0.5", **extra}
    )


def test_bridge_patch_touches_only_that_containers_image_and_records_the_original():
    patch = bridged.bridge_patch("web", "shop/web:1", "gefyra/carrier:1", "gefyra/web")
    assert patch["spec"] == {"containers": [{"name": "web", "image": "gefyra/carrier:1"}]}
    record = json.loads(patch["metadata"]["annotations"]["bridge.gefyra.dev/web"])
    assert record == {"bridge": "gefyra/web", "originalImage": "shop/web:1"}


def test_restore_patch_undoes_the_bridge_patch():
    pod = _pod(annotations={"bridge.gefyra.dev/web": '{"bridge":"gefyra/web","originalImage":"shop/web:1"}'})
    assert bridged.bridged_containers(pod, "gefyra/web") == {"web": "shop/web:1"}
    assert bridged.bridged_containers(pod, "gefyra/other") == {}
    patch = bridged.restore_patch("web", "shop/web:1")
    assert patch == {
        "metadata": {"annotations": {"bridge.gefyra.dev/web": None}},
        "spec": {"containers": [{"name": "web", "image": "shop/web:1"}]},
    }


def test_a_broken_annotation_is_not_a_record():
    assert bridged.bridged_record(_pod(annotations={"bridge.gefyra.dev/web": "not json"}), "web") is None


def test_container_must_be_named_when_the_pod_has_several():
    container, problem = reconcile.find_container(_pod()["spec"], None, "deployment/web")
    assert container is None and problem == Problem(
        reason="ContainerAmbiguous",
        message="deployment/web has containers web, log: name one in spec.container",
    )
    container, problem = reconcile.find_container(_pod()["spec"], "db", "deployment/web")
    assert (
        problem is not None
        and problem.reason == "ContainerMissing"
        and "has no container db" in problem.message
    )
    container, problem = reconcile.find_container(_pod()["spec"], "web", "deployment/web")
    assert problem is None and container is not None and container["name"] == "web"


@pytest.mark.parametrize(
    "container, pod_context, reason",
    [
        ({"command": ["/app/run"]}, {}, "CommandNotSupported"),
        ({"securityContext": {"runAsUser": 1000}}, {}, "RunsAsNonRoot"),
        ({}, {"runAsNonRoot": True}, "RunsAsNonRoot"),
    ],
)
def test_what_carrier_cannot_honour_is_a_clear_reason(container, pod_context, reason):
    pod = _pod(**container)
    pod["spec"]["securityContext"] = pod_context
    problem = reconcile.carrier_problem(pod["spec"], pod["spec"]["containers"][0], "deployment/web")
    assert (
        problem is not None
        and problem.reason == reason
        and "container web of deployment/web" in problem.message
    )


def test_args_and_root_are_fine_for_carrier():
    pod = _pod(args=["--port", "8080"], securityContext={"runAsUser": 0})
    assert reconcile.carrier_problem(pod["spec"], pod["spec"]["containers"][0], "deployment/web") is None


def test_ports_default_to_every_tcp_port_and_a_missing_port_is_named():
    container = {"name": "web", "ports": [{"containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"}]}
    assert reconcile.bridge_ports(_spec(), container, "deployment/web") == ({8080: 8080}, None)
    assert reconcile.bridge_ports(_spec(ports={"8080": 8000}), container, "x") == ({8080: 8000}, None)
    ports, problem = reconcile.bridge_ports(_spec(ports={"9090": 9090}), container, "deployment/web")
    assert ports == {} and problem == Problem(
        reason="PortMissing", message="container web of deployment/web has no TCP port 9090 (has 8080)"
    )
    _, problem = reconcile.bridge_ports(_spec(), {"name": "web"}, "deployment/web")
    assert problem is not None and problem.reason == "NoPorts"


def test_local_ip_must_be_in_a_routed_subnet():
    assert reconcile.local_ip_problem("172.30.0.5", ["172.30.0.0/24"], "alice") is None
    problem = reconcile.local_ip_problem("10.1.0.5", ["172.30.0.0/24"], "alice")
    assert problem is not None and problem.reason == "LocalIpNotRouted" and "172.30.0.0/24" in problem.message


def test_routes_keep_their_ports_and_take_free_ones():
    first = reconcile.plan_routes("gefyra", "web", {8080: 8000, 9000: 9000}, {}, [10100])
    assert [(r.port, r.local_port, r.listen_port) for r in first] == [
        (8080, 8000, 10101),
        (9000, 9000, 10102),
    ]
    existing = {first[1].route: 10500}
    again = reconcile.plan_routes("gefyra", "web", {8080: 8000, 9000: 9000}, existing, [10100, 10500])
    assert [r.listen_port for r in again] == [10101, 10500]
    assert reconcile.DNS_LABEL_RE.match(first[0].route) and first[0].route != first[1].route
    with pytest.raises(ValueError, match="no free proxy port"):
        reconcile.plan_routes("gefyra", "web", {1: 1}, {}, [5], pool=range(5, 6))


def test_route_names_differ_per_bridge():
    assert reconcile.route_name("gefyra", "a", 80) != reconcile.route_name("gefyra", "b", 80)


def test_carrier_ports_point_at_stowaway():
    routes = reconcile.plan_routes("gefyra", "web", {8080: 8000}, {}, [])
    (port,) = reconcile.carrier_ports(routes, "10.242.1.7")
    assert (port.port, port.upstream_host, port.upstream_port, port.protocol) == (
        8080,
        "10.242.1.7",
        10100,
        "tcp",
    )


def test_workload_selector_string():
    workload = {
        "spec": {
            "selector": {
                "matchLabels": {"app": "web", "tier": "front"},
                "matchExpressions": [{"key": "track", "operator": "In", "values": ["a", "b"]}],
            }
        }
    }
    assert reconcile.workload_selector(workload) == "app=web,tier=front,track in (a,b)"
    assert reconcile.workload_selector({"spec": {}}) is None


def test_condition_transition_time_moves_only_when_the_status_flips():
    once = reconcile.set_condition([], "Ready", True, "PeerProvisioned", now=T0)
    same = reconcile.set_condition(
        once, "Ready", True, "PeerProvisioned", "again", now=T0 + timedelta(minutes=1)
    )
    flipped = reconcile.set_condition(same, "Ready", False, "ClientTimedOut", now=T0 + timedelta(minutes=2))
    assert same[0]["lastTransitionTime"] == "2026-01-01T12:00:00Z" and same[0]["message"] == "again"
    assert flipped[0]["lastTransitionTime"] == "2026-01-01T12:02:00Z" and flipped[0]["status"] == "False"
    both = reconcile.set_condition(flipped, "TunnelUp", None, "StowawayUnreachable", now=T0)
    assert [c["type"] for c in both] == ["Ready", "TunnelUp"] and both[1]["status"] == "Unknown"


def test_lease_counts_from_the_handshake_or_from_creation():
    created = T0
    handshake = int((T0 + timedelta(minutes=5)).timestamp())
    assert reconcile.client_silent_for(0, created, T0 + timedelta(minutes=3)) == 180
    assert reconcile.client_silent_for(handshake, created, T0 + timedelta(minutes=6)) == 60
    assert reconcile.handshake_time(0) is None
    assert reconcile.handshake_time(handshake) == "2026-01-01T12:05:00Z"


def test_peer_secret_is_owned_by_the_client_and_labelled():
    secret = reconcile.peer_secret("alice", "gefyra", "uid-1", '{"private_key": "k"}')
    assert secret["metadata"]["name"] == "gefyra-peer-alice"
    assert secret["metadata"]["ownerReferences"][0] == {
        "apiVersion": "gefyra.dev/v1",
        "kind": "GefyraClient",
        "name": "alice",
        "uid": "uid-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert secret["metadata"]["labels"][names.CLIENT] == "alice"


def test_token_mounted_and_service_account_username():
    pod = _pod()
    assert not reconcile.token_mounted(pod)
    pod["spec"]["containers"][1]["volumeMounts"] = [
        {"name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
    ]
    assert reconcile.token_mounted(pod)
    assert reconcile.service_account_username(pod) == "system:serviceaccount:shop:default"


def test_a_route_a_new_stowaway_lost_gets_its_old_port_back():
    name_a = reconcile.route_name("gefyra", "web", 8080)
    name_b = reconcile.route_name("gefyra", "web", 9000)
    previous = {name_a: 10107, name_b: 10100}
    # A new Stowaway: no routes yet, and another bridge's route already took 10100.
    other = {"b000000000000-80": 10100}
    routes = reconcile.plan_routes(
        "gefyra", "web", {8080: 8000, 9000: 9000}, other, [10100], previous=previous
    )
    assert [r.listen_port for r in routes] == [10107, 10101]


def test_guard_is_named_like_the_routes_without_the_port():
    guard = reconcile.guard_name("gefyra", "web")
    assert reconcile.route_name("gefyra", "web", 8080) == f"{guard}-8080"
    assert reconcile.DNS_LABEL_RE.match(guard)


def _probed(**probes):
    ports = [{"containerPort": 8080, "name": "http"}, {"containerPort": 9090, "name": "admin"}]
    return {"name": "web", "ports": ports, **probes}


@pytest.mark.parametrize(
    "probe",
    [
        {"httpGet": {"path": "/healthz", "port": 8080}},
        {"httpGet": {"path": "/healthz", "port": "http"}},
        {"tcpSocket": {"port": 8080}},
        {"grpc": {"port": 8080}},
    ],
)
def test_probes_on_a_bridged_port_are_forwarded(probe):
    container = _probed(livenessProbe=probe, readinessProbe=probe, startupProbe=probe)
    assert reconcile.probe_problem(container, {8080: 8000}, "deployment/web") is None


def test_a_probe_on_a_port_the_bridge_does_not_carry_is_a_reason():
    container = _probed(readinessProbe={"httpGet": {"path": "/", "port": "admin"}})
    assert reconcile.probe_problem(container, {8080: 8000}, "deployment/web") == Problem(
        reason="ProbePortNotBridged",
        message="the readinessProbe of container web of deployment/web uses port admin, which the bridge "
        "does not carry (bridged: 8080): add it to spec.ports",
    )
    assert reconcile.probe_problem(container, {8080: 8000, 9090: 9090}, "deployment/web") is None


def test_an_exec_probe_is_a_reason():
    container = _probed(livenessProbe={"exec": {"command": ["cat", "/tmp/ok"]}})
    problem = reconcile.probe_problem(container, {8080: 8000}, "deployment/web")
    assert problem is not None and problem.reason == "ProbeNotSupported"
    assert problem.message.startswith("container web of deployment/web has an exec livenessProbe")


def test_free_address_skips_stowaway_and_every_kept_peer():
    assert reconcile.free_address("100.87.0.0/24", []) == "100.87.0.2/32"
    assert reconcile.free_address("100.87.0.0/24", ["100.87.0.2/32", "100.87.0.3"]) == "100.87.0.4/32"
    with pytest.raises(ValueError, match="full"):
        reconcile.free_address("100.87.0.0/30", ["100.87.0.2/32"])


def test_kept_peer_reads_the_secret_the_operator_wrote():
    peer = {
        "name": "alice",
        "address": "100.87.0.5/32",
        "private_key": "a2V5",
        "public_key": "pub",
        "server_public_key": "spub",
        "allowed_ips": ["100.87.0.0/24"],
        "dns": ["10.96.0.10"],
    }
    secret = reconcile.peer_secret("alice", "gefyra", "uid-1", json.dumps(peer))
    kept = reconcile.kept_peer(secret)
    assert kept is not None and kept.address == "100.87.0.5/32"
    assert kept.private_key.get_secret_value() == "a2V5"
    assert reconcile.kept_peer(None) is None
    assert reconcile.kept_peer({"data": {"peer.json": "bm90IGpzb24="}}) is None

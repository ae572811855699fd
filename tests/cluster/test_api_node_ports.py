"""NodePort allocation: random in 30000-32767 (upper band first, as upstream); a taken port is 422."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.cluster

RANGE = range(30000, 32768)
STATIC_BAND_END = 30086  # upstream: min(max(16, 2768 / 32), 128) = 86 ports kept for explicit choices first


def _error(call, *args, **kwargs):
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    return caught.value.status, json.loads(caught.value.body)


def _node_port_service(name: str, *ports: dict) -> dict:
    return {"metadata": {"name": name}, "spec": {"type": "NodePort", "ports": list(ports or [{"port": 80}])}}


def _free_static_port(core) -> int:
    """A port of the static band no Service of the session holds (only explicit requests land there)."""
    used = {p.node_port for s in core.list_service_for_all_namespaces().items for p in s.spec.ports or []}
    return next(p for p in range(RANGE.start, STATIC_BAND_END) if p not in used)


@pytest.fixture
def client_of():
    """An official client for a server of the test's own (closed afterwards)."""
    from kubernetes import client, config

    made = []

    def make(api):
        api_client = config.new_client_from_config(config_file=str(api.kubeconfig))
        made.append(api_client)
        return client.CoreV1Api(api_client)

    yield make
    for api_client in made:
        api_client.close()


def test_allocated_node_ports_are_random_and_above_the_static_band(core, namespace):
    created = [core.create_namespaced_service(namespace, _node_port_service(f"s{i}")) for i in range(6)]
    ports = [s.spec.ports[0].node_port for s in created]
    assert len(set(ports)) == 6
    # Counting up from 30000 would land in the static band (this session holds far fewer than 86 NodePorts).
    assert all(STATIC_BAND_END <= p < RANGE.stop for p in ports), ports


def test_two_sandboxes_do_not_hand_out_the_same_ports(tmp_path, client_of):
    from tests.sandbox.apiserver.serve import start_subprocess

    servers = [start_subprocess(state_dir=tmp_path / name, tls=False) for name in ("a", "b")]
    try:
        drawn = []
        for server in servers:
            core = client_of(server)
            drawn.append(
                [
                    core.create_namespaced_service("default", _node_port_service(f"s{i}"))
                    .spec.ports[0]
                    .node_port
                    for i in range(5)
                ]
            )
    finally:
        for server in servers:
            server.stop()
    # Identical sequences (what counting up gives) have a chance of 1 in 2682**5 when drawn at random.
    assert drawn[0] != drawn[1], drawn


def test_requested_node_port_taken_is_invalid(core, namespace):
    first = core.create_namespaced_service(namespace, _node_port_service("first"))
    taken = first.spec.ports[0].node_port
    code, status = _error(
        core.create_namespaced_service,
        namespace,
        _node_port_service("second", {"port": 80, "nodePort": taken}),
    )
    assert (code, status["reason"]) == (422, "Invalid")
    assert status["message"] == (
        f'Service "second" is invalid: spec.ports[0].nodePort: Invalid value: {taken}: '
        "provided port is already allocated"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": f"Invalid value: {taken}: provided port is already allocated",
            "field": "spec.ports[0].nodePort",
        }
    ]
    # Also when an existing Service is changed to take it, and outside the range.
    core.create_namespaced_service(namespace, _node_port_service("third"))
    code, status = _error(
        core.patch_namespaced_service,
        "third",
        namespace,
        {"spec": {"ports": [{"port": 80, "nodePort": taken}]}},
    )
    assert code == 422 and "provided port is already allocated" in status["message"]
    code, status = _error(
        core.create_namespaced_service, namespace, _node_port_service("low", {"port": 80, "nodePort": 29999})
    )
    assert code == 422 and "provided port is not in the valid range 30000-32767" in status["message"]


def test_kubectl_shows_the_taken_port(core, namespace, kubectl):
    first = core.create_namespaced_service(namespace, _node_port_service("first"))
    taken = first.spec.ports[0].node_port
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        **_node_port_service("dup", {"port": 81, "nodePort": taken}),
    }
    result = kubectl(
        "-n", namespace, "create", "--validate=false", "-f", "-", input=json.dumps(manifest), check=False
    )
    assert result.returncode != 0
    assert (
        f'The Service "dup" is invalid: spec.ports[0].nodePort: Invalid value: {taken}: '
        "provided port is already allocated" in result.stderr
    ), result.stderr


def test_explicit_ports_are_honoured_and_released(core, namespace):
    # A free port in the static band is there for explicit requests.
    candidate = _free_static_port(core)
    chosen = core.create_namespaced_service(
        namespace, _node_port_service("pick", {"port": 80, "nodePort": candidate})
    )
    assert chosen.spec.ports[0].node_port == candidate
    # Becoming a ClusterIP Service gives the port back: another Service can take it at once.
    demoted = core.patch_namespaced_service("pick", namespace, {"spec": {"type": "ClusterIP"}})
    assert demoted.spec.ports[0].node_port is None
    again = core.create_namespaced_service(
        namespace, _node_port_service("again", {"port": 80, "nodePort": candidate})
    )
    assert again.spec.ports[0].node_port == candidate
    # Deleting a Service gives its port back too.
    core.delete_namespaced_service("again", namespace)
    core.create_namespaced_service(
        namespace, _node_port_service("third", {"port": 80, "nodePort": candidate})
    )


def test_ports_of_one_number_share_a_node_port(core, namespace):
    dns = core.create_namespaced_service(
        namespace,
        _node_port_service(
            "dns", {"name": "udp", "port": 53, "protocol": "UDP"}, {"name": "tcp", "port": 53}
        ),
    )
    udp, tcp = dns.spec.ports
    assert udp.node_port == tcp.node_port and udp.node_port in RANGE
    # The same port twice for one protocol is a duplicate.
    free = _free_static_port(core)
    code, status = _error(
        core.create_namespaced_service,
        namespace,
        _node_port_service(
            "twice",
            {"name": "a", "port": 80, "nodePort": free},
            {"name": "b", "port": 81, "nodePort": free},
        ),
    )
    assert code == 422 and f"spec.ports[1].nodePort: Duplicate value: {free}" in status["message"]


def test_updates_keep_node_ports(core, namespace):
    created = core.create_namespaced_service(
        namespace, _node_port_service("keep", {"name": "http", "port": 80})
    )
    before = created.spec.ports[0].node_port
    # A replace that leaves nodePort out keeps the allocated one (upstream patchAllocatedValues).
    body = _node_port_service("keep", {"name": "http", "port": 80})
    body["metadata"]["resourceVersion"] = created.metadata.resource_version
    replaced = core.replace_namespaced_service("keep", namespace, body)
    assert replaced.spec.ports[0].node_port == before
    added = core.patch_namespaced_service(
        "keep", namespace, {"spec": {"ports": [{"name": "http", "port": 80}, {"name": "extra", "port": 90}]}}
    )
    ports = {p.name: p.node_port for p in added.spec.ports}
    assert ports["http"] == before and ports["extra"] in RANGE and ports["extra"] != before


def test_load_balancer_without_node_ports(core, namespace):
    without = core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "lb"},
            "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False, "ports": [{"port": 80}]},
        },
    )
    assert without.spec.ports[0].node_port is None
    with_ports = core.create_namespaced_service(
        namespace, {"metadata": {"name": "lb2"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    )
    assert with_ports.spec.ports[0].node_port in RANGE


def test_whole_range_upper_band_first_then_full(private_api, client_of):
    """One Service holding every port of the upper band: the next one comes from the static band; when all
    2768 are taken, creating one more is an error and nothing is stored."""
    core = client_of(private_api)
    upper = RANGE.stop - STATIC_BAND_END
    big = core.create_namespaced_service(
        "default", _node_port_service("big", *({"name": f"p{i}", "port": i + 1} for i in range(upper)))
    )
    assert sorted(p.node_port for p in big.spec.ports) == list(range(STATIC_BAND_END, RANGE.stop))
    low = core.create_namespaced_service(
        "default",
        _node_port_service(
            "low", *({"name": f"p{i}", "port": i + 1} for i in range(STATIC_BAND_END - RANGE.start))
        ),
    )
    assert sorted(p.node_port for p in low.spec.ports) == list(range(RANGE.start, STATIC_BAND_END))
    code, status = _error(core.create_namespaced_service, "default", _node_port_service("more"))
    assert (code, status["reason"]) == (500, "InternalError") and "range is full" in status["message"]
    assert "more" not in {s.metadata.name for s in core.list_namespaced_service("default").items}
    # A ClusterIP Service still works, and deleting one frees its ports for the next NodePort Service.
    core.create_namespaced_service(
        "default", {"metadata": {"name": "plain"}, "spec": {"ports": [{"port": 80}]}}
    )
    core.delete_namespaced_service("low", "default")
    more = core.create_namespaced_service("default", _node_port_service("more"))
    assert RANGE.start <= more.spec.ports[0].node_port < STATIC_BAND_END

"""Workload and Service defaults a real API server sets, and what `kubectl rollout status` reads from them."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.cluster


def _error(call, *args, **kwargs):
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    return caught.value.status, json.loads(caught.value.body)


def _workload(name: str, **spec) -> dict:
    labels = {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "i:1"}]},
            },
            **spec,
        },
    }


# --- StatefulSet -----
def test_stateful_set_defaults(apps, namespace):
    plain = apps.create_namespaced_stateful_set(namespace, _workload("plain", serviceName="plain"))
    strategy = plain.spec.update_strategy
    assert (strategy.type, strategy.rolling_update.partition) == ("RollingUpdate", 0)
    assert plain.spec.pod_management_policy == "OrderedReady"
    assert (plain.spec.replicas, plain.spec.revision_history_limit) == (1, 10)
    retention = plain.spec.persistent_volume_claim_retention_policy
    assert (retention.when_deleted, retention.when_scaled) == ("Retain", "Retain")
    # A type without rollingUpdate gets partition 0; explicit choices are kept.
    typed = apps.create_namespaced_stateful_set(
        namespace, _workload("typed", serviceName="typed", updateStrategy={"type": "RollingUpdate"})
    )
    assert typed.spec.update_strategy.rolling_update.partition == 0
    chosen = apps.create_namespaced_stateful_set(
        namespace,
        _workload(
            "chosen",
            serviceName="chosen",
            replicas=3,
            podManagementPolicy="Parallel",
            updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        ),
    )
    assert chosen.spec.update_strategy.rolling_update.partition == 2
    assert chosen.spec.pod_management_policy == "Parallel"
    on_delete = apps.create_namespaced_stateful_set(
        namespace, _workload("ondelete", serviceName="ondelete", updateStrategy={"type": "OnDelete"})
    )
    assert on_delete.spec.update_strategy.type == "OnDelete"
    assert on_delete.spec.update_strategy.rolling_update is None


def test_stateful_set_defaults_come_back_on_replace(apps, namespace):
    created = apps.create_namespaced_stateful_set(namespace, _workload("db", serviceName="db"))
    body = _workload("db", serviceName="db")
    body["metadata"]["resourceVersion"] = created.metadata.resource_version
    replaced = apps.replace_namespaced_stateful_set("db", namespace, body)
    assert replaced.spec.update_strategy.rolling_update.partition == 0
    assert replaced.spec.pod_management_policy == "OrderedReady"
    assert replaced.metadata.generation == created.metadata.generation  # defaults alone change no spec


def test_kubectl_rollout_status_of_a_defaulted_stateful_set(apps, namespace, kubectl):
    apps.create_namespaced_stateful_set(namespace, _workload("db", serviceName="db", replicas=2))
    waiting = kubectl("-n", namespace, "rollout", "status", "statefulset/db", "--watch=false")
    assert "Waiting for statefulset spec update to be observed" in waiting.stdout
    # What the StatefulSet controller reports once both Pods run the current revision.
    status = {
        "observedGeneration": 1,
        "replicas": 2,
        "readyReplicas": 2,
        "currentReplicas": 2,
        "updatedReplicas": 2,
        "currentRevision": "db-1",
        "updateRevision": "db-1",
    }
    apps.patch_namespaced_stateful_set_status("db", namespace, {"status": status})
    done = kubectl("-n", namespace, "rollout", "status", "statefulset/db", "--watch=false")
    # kubectl reports a "partitioned" roll out exactly when the server defaulted partition to 0, as upstream.
    assert "partitioned roll out complete: 2 new pods have been updated" in done.stdout
    apps.create_namespaced_stateful_set(
        namespace, _workload("manual", serviceName="manual", updateStrategy={"type": "OnDelete"})
    )
    refused = kubectl(
        "-n", namespace, "rollout", "status", "statefulset/manual", "--watch=false", check=False
    )
    assert refused.returncode != 0 and "only available for RollingUpdate strategy type" in refused.stderr


# --- DaemonSet -----
def test_daemon_set_defaults(apps, namespace, kubectl):
    plain = apps.create_namespaced_daemon_set(namespace, _workload("plain"))
    strategy = plain.spec.update_strategy
    assert strategy.type == "RollingUpdate"
    assert (strategy.rolling_update.max_unavailable, strategy.rolling_update.max_surge) == (1, 0)
    assert plain.spec.revision_history_limit == 10
    # Each missing knob is filled on its own; explicit values stay.
    partial = apps.create_namespaced_daemon_set(
        namespace,
        _workload(
            "partial", updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "50%"}}
        ),
    )
    rolling = partial.spec.update_strategy.rolling_update
    assert (rolling.max_unavailable, rolling.max_surge) == ("50%", 0)
    on_delete = apps.create_namespaced_daemon_set(
        namespace, _workload("ondelete", updateStrategy={"type": "OnDelete"})
    )
    assert on_delete.spec.update_strategy.rolling_update is None
    # The typed client refuses a DaemonSet without a selector before sending it: kubectl sends it as it is.
    body = _workload("noselector")
    del body["spec"]["selector"]
    body.update(apiVersion="apps/v1", kind="DaemonSet")
    refused = kubectl(
        "-n", namespace, "create", "--validate=false", "-f", "-", input=json.dumps(body), check=False
    )
    assert refused.returncode != 0 and "spec.selector: Required value" in refused.stderr


def test_kubectl_rollout_status_of_a_defaulted_daemon_set(apps, namespace, kubectl):
    apps.create_namespaced_daemon_set(namespace, _workload("agent"))
    waiting = kubectl("-n", namespace, "rollout", "status", "daemonset/agent", "--watch=false")
    assert "Waiting for daemon set spec update to be observed" in waiting.stdout
    status = {
        "observedGeneration": 1,
        "currentNumberScheduled": 1,
        "desiredNumberScheduled": 1,
        "numberMisscheduled": 0,
        "numberReady": 1,
        "numberAvailable": 1,
        "updatedNumberScheduled": 1,
    }
    apps.patch_namespaced_daemon_set_status("agent", namespace, {"status": status})
    done = kubectl("-n", namespace, "rollout", "status", "daemonset/agent", "--watch=false")
    assert 'daemon set "agent" successfully rolled out' in done.stdout


# --- Deployment -----
def test_deployment_defaults(apps, namespace):
    plain = apps.create_namespaced_deployment(namespace, _workload("plain"))
    strategy = plain.spec.strategy
    assert strategy.type == "RollingUpdate"
    assert (strategy.rolling_update.max_unavailable, strategy.rolling_update.max_surge) == ("25%", "25%")
    assert (plain.spec.replicas, plain.spec.revision_history_limit, plain.spec.progress_deadline_seconds) == (
        1,
        10,
        600,
    )
    partial = apps.create_namespaced_deployment(
        namespace, _workload("partial", strategy={"rollingUpdate": {"maxSurge": 1}})
    )
    rolling = partial.spec.strategy.rolling_update
    assert (partial.spec.strategy.type, rolling.max_unavailable, rolling.max_surge) == (
        "RollingUpdate",
        "25%",
        1,
    )
    recreate = apps.create_namespaced_deployment(
        namespace, _workload("recreate", strategy={"type": "Recreate"})
    )
    assert recreate.spec.strategy.rolling_update is None
    chosen = apps.create_namespaced_deployment(
        namespace, _workload("chosen", revisionHistoryLimit=2, progressDeadlineSeconds=60)
    )
    assert (chosen.spec.revision_history_limit, chosen.spec.progress_deadline_seconds) == (2, 60)


# --- Service -----
def test_service_defaults(core, namespace):
    plain = core.create_namespaced_service(
        namespace, {"metadata": {"name": "plain"}, "spec": {"selector": {"a": "b"}, "ports": [{"port": 80}]}}
    )
    spec = plain.spec
    assert (spec.type, spec.session_affinity, spec.internal_traffic_policy) == (
        "ClusterIP",
        "None",
        "Cluster",
    )
    assert (spec.ip_families, spec.ip_family_policy) == (["IPv4"], "SingleStack")
    assert (spec.ports[0].protocol, spec.ports[0].target_port) == ("TCP", 80)
    assert spec.external_traffic_policy is None and spec.ports[0].node_port is None
    node_port = core.create_namespaced_service(
        namespace, {"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    )
    assert node_port.spec.external_traffic_policy == "Cluster"
    balancer = core.create_namespaced_service(
        namespace, {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    )
    assert balancer.spec.allocate_load_balancer_node_ports is True and balancer.spec.ports[0].node_port
    sticky = core.create_namespaced_service(
        namespace,
        {"metadata": {"name": "sticky"}, "spec": {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]}},
    )
    assert sticky.spec.session_affinity_config.client_ip.timeout_seconds == 10800


def test_service_ip_families_of_headless_and_external_name(core, namespace):
    def create(name: str, **spec):
        return core.create_namespaced_service(namespace, {"metadata": {"name": name}, "spec": spec}).spec

    with_selector = create("hs", clusterIP="None", selector={"a": "b"}, ports=[{"port": 80}])
    assert (with_selector.ip_families, with_selector.ip_family_policy) == (["IPv4"], "SingleStack")
    without = create("hn", clusterIP="None", ports=[{"port": 80}])
    assert (without.ip_families, without.ip_family_policy) == (["IPv4"], "RequireDualStack")
    external = create("ext", type="ExternalName", externalName="example.invalid")
    assert external.ip_families is None and external.cluster_ip is None
    assert external.internal_traffic_policy is None

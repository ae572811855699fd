"""Runner acceptance: Deployments -> ReplicaSets -> Pods.

Kubernetes names and owner references, a rollout on a template change that `kubectl rollout status` follows,
scaling, and rollback by `kubectl rollout undo`.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.sandbox.fixtures import wait_for

pytest_plugins = ("tests.sandbox.fixtures",)  # sandbox, sandbox_kube, sandbox_ns, echo_image
pytestmark = [pytest.mark.docker, pytest.mark.cluster]

KUBECTL = "/usr/bin/kubectl"
# A template change for every workload kind below: the echo container `web` answers "v2" from now on.
MESSAGE_V2 = {
    "spec": {
        "template": {"spec": {"containers": [{"name": "web", "env": [{"name": "MESSAGE", "value": "v2"}]}]}}
    }
}


def kubectl(sandbox, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(sandbox.kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def deployment(name: str, image: str, replicas: int, message: str) -> dict:
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": image,
                            "env": [{"name": "MESSAGE", "value": message}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
                        }
                    ]
                },
            },
        },
    }


def owned_pods(kube, namespace: str, rs_uid: str) -> list:
    return [
        p
        for p in kube.core.list_namespaced_pod(namespace).items
        if any(r.uid == rs_uid and r.controller for r in p.metadata.owner_references or [])
        and not p.metadata.deletion_timestamp
    ]


def rolled_out(kube, namespace: str, name: str, replicas: int):
    d = kube.apps.read_namespaced_deployment(name, namespace)
    s = d.status
    done = (
        s.observed_generation == d.metadata.generation
        and s.updated_replicas == replicas
        and s.available_replicas == replicas
        and s.replicas == replicas
    )
    return d if done else None


def test_deployment_pods_names_owners_and_rollout(
    sandbox, sandbox_kube, sandbox_ns, echo_image, docker_client
):
    kube = sandbox_kube
    kube.apps.create_namespaced_deployment(sandbox_ns, deployment("shop", echo_image, 2, "v1"))
    first = wait_for(lambda: rolled_out(kube, sandbox_ns, "shop", 2), what="first rollout")
    (rs,) = kube.apps.list_namespaced_replica_set(sandbox_ns).items
    assert re.fullmatch(r"shop-[bcdfghjklmnpqrstvwxz2456789]{10}", rs.metadata.name)
    assert rs.metadata.owner_references[0].uid == first.metadata.uid
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    pods = owned_pods(kube, sandbox_ns, rs.metadata.uid)
    assert len(pods) == 2
    template_hash = rs.metadata.labels["pod-template-hash"]
    for pod in pods:
        assert re.fullmatch(rf"shop-{template_hash}-[a-z0-9]{{5}}", pod.metadata.name)
        assert pod.metadata.labels["pod-template-hash"] == template_hash

    # A template change: a second ReplicaSet takes over, the first is scaled to zero (kept for rollback).
    kube.apps.patch_namespaced_deployment(
        "shop",
        sandbox_ns,
        MESSAGE_V2,
    )
    status = kubectl(sandbox, "-n", sandbox_ns, "rollout", "status", "deployment/shop", "--timeout=60s")
    assert status.returncode == 0, status.stderr
    assert "successfully rolled out" in status.stdout
    second = wait_for(lambda: rolled_out(kube, sandbox_ns, "shop", 2), what="second rollout")
    assert second.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    sets = {r.metadata.name: r for r in kube.apps.list_namespaced_replica_set(sandbox_ns).items}
    assert len(sets) == 2 and sets[rs.metadata.name].spec.replicas == 0
    (new_rs,) = [r for name, r in sets.items() if name != rs.metadata.name]
    wait_for(lambda: not owned_pods(kube, sandbox_ns, rs.metadata.uid), what="old pods gone")
    for pod in owned_pods(kube, sandbox_ns, new_rs.metadata.uid):
        env = {e.name: e.value for e in pod.spec.containers[0].env}
        assert env["MESSAGE"] == "v2"

    def scaling():
        events = kube.core.list_namespaced_event(sandbox_ns).items
        return [
            e.message for e in events if e.reason == "ScalingReplicaSet" and e.involved_object.name == "shop"
        ]

    wait_for(lambda: f"Scaled up replica set {new_rs.metadata.name} from 0 to 2" in scaling(), what="events")
    assert any(
        m.startswith(f"Scaled down replica set {rs.metadata.name}") and m.endswith("to 0") for m in scaling()
    )

    # Deleting the Deployment cascades (owner references): ReplicaSets, Pods and their containers go.
    kube.apps.delete_namespaced_deployment("shop", sandbox_ns)

    def all_gone():
        pods = kube.core.list_namespaced_pod(sandbox_ns).items
        sets = kube.apps.list_namespaced_replica_set(sandbox_ns).items
        left = docker_client.containers.list(
            all=True,
            filters={
                "label": [f"dev.gefyra.sandbox={sandbox.instance}", "dev.gefyra.sandbox.role=container"]
            },
        )
        return not pods and not sets and not [c for c in left if f"_{sandbox_ns}_" in c.name]

    wait_for(all_gone, what="cascade deletion down to the containers")


def test_scale_and_rollback_with_kubectl(sandbox, sandbox_kube, sandbox_ns, echo_image):
    kube = sandbox_kube
    kube.apps.create_namespaced_deployment(sandbox_ns, deployment("cart", echo_image, 1, "v1"))
    wait_for(lambda: rolled_out(kube, sandbox_ns, "cart", 1), what="first rollout")
    scaled = kubectl(sandbox, "-n", sandbox_ns, "scale", "deployment/cart", "--replicas=3")
    assert scaled.returncode == 0, scaled.stderr
    wait_for(lambda: rolled_out(kube, sandbox_ns, "cart", 3), what="three replicas")
    changed = kubectl(sandbox, "-n", sandbox_ns, "set", "env", "deployment/cart", "MESSAGE=v2")
    assert changed.returncode == 0, changed.stderr
    assert (
        kubectl(sandbox, "-n", sandbox_ns, "rollout", "status", "deployment/cart", "--timeout=60s").returncode
        == 0
    )
    undo = kubectl(sandbox, "-n", sandbox_ns, "rollout", "undo", "deployment/cart")
    assert undo.returncode == 0, undo.stderr
    assert (
        kubectl(sandbox, "-n", sandbox_ns, "rollout", "status", "deployment/cart", "--timeout=60s").returncode
        == 0
    )

    def back_to_v1():
        d = rolled_out(kube, sandbox_ns, "cart", 3)
        env = d and {e.name: e.value for e in d.spec.template.spec.containers[0].env}
        return d if env and env["MESSAGE"] == "v1" else None

    d = wait_for(back_to_v1, what="rollback to v1")
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    live = wait_for(
        lambda: (
            [
                p
                for p in kube.core.list_namespaced_pod(sandbox_ns).items
                if not p.metadata.deletion_timestamp and p.status.phase == "Running"
            ]
            if len(
                [
                    p
                    for p in kube.core.list_namespaced_pod(sandbox_ns).items
                    if not p.metadata.deletion_timestamp
                ]
            )
            == 3
            else None
        ),
        what="exactly three live pods after rollback",
    )
    assert all(p.spec.containers[0].env[0].value == "v1" for p in live)


def test_statefulset_ordered_pods_stable_names_and_rolling_update(
    sandbox, sandbox_kube, sandbox_ns, echo_image
):
    kube = sandbox_kube
    kube.core.create_namespaced_service(
        sandbox_ns,
        {
            "metadata": {"name": "db"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 8080}]},
        },
    )
    template = deployment("db", echo_image, 2, "v1")["spec"]["template"]
    kube.apps.create_namespaced_stateful_set(
        sandbox_ns,
        {
            "metadata": {"name": "db"},
            "spec": {
                "replicas": 2,
                "serviceName": "db",
                "updateStrategy": {
                    "type": "RollingUpdate"
                },  # spelled out: the API server does not default it
                "selector": {"matchLabels": {"app": "db"}},
                "template": template,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
    )
    status = kubectl(sandbox, "-n", sandbox_ns, "rollout", "status", "statefulset/db", "--timeout=60s")
    assert status.returncode == 0, status.stderr
    pods = {p.metadata.name: p for p in kube.core.list_namespaced_pod(sandbox_ns).items}
    assert sorted(pods) == ["db-0", "db-1"]
    assert pods["db-0"].status.start_time <= pods["db-1"].status.start_time  # OrderedReady
    assert {
        v.persistent_volume_claim.claim_name for v in pods["db-1"].spec.volumes if v.persistent_volume_claim
    } == {"data-db-1"}
    # Stable per-Pod DNS names through the headless Service, resolved from inside the other Pod.
    from tests.sandbox.fixtures import echo_info, fetch_from_pod

    answer = wait_for(
        lambda: fetch_from_pod(
            pods["db-0"].status.pod_ip, f"http://db-1.db.{sandbox_ns}.svc.cluster.local:8080/"
        ),
        what="db-1.db DNS name",
    )
    assert echo_info(answer)["hostname"] == "db-1"
    uid_before = pods["db-1"].metadata.uid
    kube.apps.patch_namespaced_stateful_set(
        "db",
        sandbox_ns,
        MESSAGE_V2,
    )
    status = kubectl(sandbox, "-n", sandbox_ns, "rollout", "status", "statefulset/db", "--timeout=60s")
    assert status.returncode == 0, status.stderr
    pods = {p.metadata.name: p for p in kube.core.list_namespaced_pod(sandbox_ns).items}
    assert sorted(pods) == ["db-0", "db-1"] and pods["db-1"].metadata.uid != uid_before
    assert all(p.spec.containers[0].env[0].value == "v2" for p in pods.values())


def test_job_runs_to_completion_and_kubectl_waits(sandbox, sandbox_kube, sandbox_ns, echo_image):
    from kubernetes import client

    batch = client.BatchV1Api(sandbox_kube.api_client)
    pod_spec = {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": echo_image, "command": ["sh", "-c", "echo done"]}],
    }
    batch.create_namespaced_job(
        sandbox_ns,
        {
            "metadata": {"name": "once"},
            "spec": {"completions": 2, "parallelism": 1, "template": {"spec": pod_spec}},
        },
    )
    waited = kubectl(
        sandbox, "-n", sandbox_ns, "wait", "--for=condition=complete", "job/once", "--timeout=60s"
    )
    assert waited.returncode == 0, waited.stderr
    job = batch.read_namespaced_job("once", sandbox_ns)
    assert job.status.succeeded == 2 and job.status.completion_time is not None
    pods = sandbox_kube.core.list_namespaced_pod(sandbox_ns, label_selector="job-name=once").items
    assert len(pods) == 2 and all(p.status.phase == "Succeeded" for p in pods)
    # A Job whose Pods keep failing stops after backoffLimit.
    failing = {
        **pod_spec,
        "containers": [{"name": "main", "image": echo_image, "command": ["sh", "-c", "exit 1"]}],
    }
    batch.create_namespaced_job(
        sandbox_ns,
        {"metadata": {"name": "never"}, "spec": {"backoffLimit": 1, "template": {"spec": failing}}},
    )
    waited = kubectl(
        sandbox, "-n", sandbox_ns, "wait", "--for=condition=failed", "job/never", "--timeout=60s"
    )
    assert waited.returncode == 0, waited.stderr
    assert batch.read_namespaced_job("never", sandbox_ns).status.failed == 2


def test_daemonset_one_pod_on_the_node_and_rollout(sandbox, sandbox_kube, sandbox_ns, echo_image):
    template = deployment("agent", echo_image, 1, "v1")["spec"]["template"]
    sandbox_kube.apps.create_namespaced_daemon_set(
        sandbox_ns,
        {
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": template,
                "updateStrategy": {"type": "RollingUpdate"},
            },
        },
    )
    status = kubectl(sandbox, "-n", sandbox_ns, "rollout", "status", "daemonset/agent", "--timeout=60s")
    assert status.returncode == 0, status.stderr
    (pod,) = sandbox_kube.core.list_namespaced_pod(sandbox_ns).items
    assert pod.spec.node_name == sandbox.settings.node_name and pod.metadata.name.startswith("agent-")
    sandbox_kube.apps.patch_namespaced_daemon_set(
        "agent",
        sandbox_ns,
        MESSAGE_V2,
    )

    def replaced():
        pods = [
            p
            for p in sandbox_kube.core.list_namespaced_pod(sandbox_ns).items
            if not p.metadata.deletion_timestamp
        ]
        return (
            pods
            if len(pods) == 1
            and pods[0].metadata.uid != pod.metadata.uid
            and pods[0].spec.containers[0].env[0].value == "v2"
            and pods[0].status.phase == "Running"
            else None
        )

    wait_for(replaced, what="DaemonSet Pod replaced with the new template")

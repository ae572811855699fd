"""Deletion: finalizers and deletionTimestamp, propagation policies, ownerReferences GC, namespace cascade."""

from __future__ import annotations

import time
import uuid

import pytest

pytestmark = pytest.mark.cluster


def wait_until(predicate, timeout: float = 5.0, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {message}")


def gone(read, *args) -> bool:
    from kubernetes.client import ApiException

    try:
        read(*args)
    except ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def _owner_ref(obj, kind: str, api_version: str, **extra):
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": obj.metadata.name,
        "uid": obj.metadata.uid,
        **extra,
    }


def test_finalizer_holds_object_until_removed(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "f", "finalizers": ["test/hold"]}})
    answer = core.delete_namespaced_config_map("f", namespace)
    assert answer["metadata"]["deletionTimestamp"]  # the object itself, not a Status
    held = core.read_namespaced_config_map("f", namespace)
    assert held.metadata.deletion_timestamp and held.metadata.finalizers == ["test/hold"]
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map(
            "f", namespace, {"metadata": {"finalizers": ["test/hold", "new/one"]}}
        )
    assert caught.value.status == 422
    core.patch_namespaced_config_map("f", namespace, {"metadata": {"$patch": "merge", "finalizers": None}})
    assert gone(core.read_namespaced_config_map, "f", namespace)


def test_delete_answers_status_for_plain_kinds_and_object_for_pods(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}})
    status = core.delete_namespaced_config_map("c", namespace)
    assert (status["kind"], status["status"], status["details"]["name"]) == ("Status", "Success", "c")
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}
    )
    pod = core.delete_namespaced_pod("p", namespace)
    assert pod.metadata.name == "p" and pod.kind == "Pod"


def test_delete_preconditions(core, namespace):
    from kubernetes.client import ApiException

    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}})
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_config_map("c", namespace, body={"preconditions": {"uid": str(uuid.uuid4())}})
    assert caught.value.status == 409


def test_bound_pod_deletes_gracefully_until_the_kubelet_confirms(core, namespace):
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "p"},
            "spec": {"nodeName": "sandbox", "containers": [{"name": "c", "image": "i:1"}]},
        },
    )
    terminating = core.delete_namespaced_pod("p", namespace)
    assert (
        terminating.metadata.deletion_timestamp and terminating.metadata.deletion_grace_period_seconds == 30
    )
    assert core.read_namespaced_pod("p", namespace).metadata.deletion_timestamp
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=0)
    assert gone(core.read_namespaced_pod, "p", namespace)


def test_grace_period_expiry_removes_pod(core, namespace):
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "p"},
            "spec": {"nodeName": "sandbox", "containers": [{"name": "c", "image": "i:1"}]},
        },
    )
    core.delete_namespaced_pod("p", namespace, grace_period_seconds=1)
    wait_until(
        lambda: gone(core.read_namespaced_pod, "p", namespace), 5, "pod removal after its grace period"
    )


def _owner_and_child(core, namespace):
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    child = core.create_namespaced_config_map(
        namespace,
        {
            "metadata": {
                "name": "child",
                "ownerReferences": [_owner_ref(owner, "ConfigMap", "v1", blockOwnerDeletion=True)],
            }
        },
    )
    return owner, child


def test_background_garbage_collection(core, namespace):
    _owner_and_child(core, namespace)
    core.delete_namespaced_config_map("owner", namespace)
    wait_until(lambda: gone(core.read_namespaced_config_map, "child", namespace), message="child collected")


def test_orphan_keeps_dependents_without_owner_reference(core, namespace):
    _owner_and_child(core, namespace)
    core.delete_namespaced_config_map("owner", namespace, propagation_policy="Orphan")
    assert gone(core.read_namespaced_config_map, "owner", namespace)
    child = core.read_namespaced_config_map("child", namespace)
    assert not child.metadata.owner_references


def test_foreground_waits_for_dependents(core, namespace):
    owner, child = _owner_and_child(core, namespace)
    core.patch_namespaced_config_map("child", namespace, {"metadata": {"finalizers": ["test/slow"]}})
    core.delete_namespaced_config_map("owner", namespace, propagation_policy="Foreground")
    held = core.read_namespaced_config_map("owner", namespace)
    assert held.metadata.deletion_timestamp and "foregroundDeletion" in held.metadata.finalizers
    wait_until(
        lambda: core.read_namespaced_config_map("child", namespace).metadata.deletion_timestamp,
        message="child marked for deletion",
    )
    assert core.read_namespaced_config_map("owner", namespace).metadata.deletion_timestamp
    core.patch_namespaced_config_map("child", namespace, {"metadata": {"finalizers": None}})
    wait_until(lambda: gone(core.read_namespaced_config_map, "owner", namespace), message="owner gone")


def test_deployment_replicaset_pod_chain_is_collected(core, apps, namespace):
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    deployment = apps.create_namespaced_deployment(
        namespace,
        {"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": template}},
    )
    rs = apps.create_namespaced_replica_set(
        namespace,
        {
            "metadata": {
                "name": "d-abc",
                "ownerReferences": [_owner_ref(deployment, "Deployment", "apps/v1", controller=True)],
            },
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": template},
        },
    )
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {
                "name": "d-abc-xyz",
                "ownerReferences": [_owner_ref(rs, "ReplicaSet", "apps/v1", controller=True)],
            },
            "spec": template["spec"],
        },
    )
    apps.delete_namespaced_deployment("d", namespace)
    wait_until(lambda: gone(core.read_namespaced_pod, "d-abc-xyz", namespace), message="pod collected")
    assert gone(apps.read_namespaced_replica_set, "d-abc", namespace)


def test_namespace_deletion_cascades(core, apps):
    name = f"gone-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "c", "finalizers": ["test/hold"]}})
    core.create_namespaced_secret(name, {"metadata": {"name": "s"}})
    answer = core.delete_namespace(name)
    assert answer["status"]["phase"] == "Terminating"
    wait_until(lambda: gone(core.read_namespaced_secret, "s", name), message="secret removed")
    assert core.read_namespace(name).status.phase == "Terminating"  # held by the finalizer of `c`
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(name, {"metadata": {"name": "late"}})
    assert caught.value.status == 403
    core.patch_namespaced_config_map("c", name, {"metadata": {"finalizers": None}})
    wait_until(lambda: gone(core.read_namespace, name), message="namespace removed")


def test_system_namespaces_cannot_be_deleted(core):
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        core.delete_namespace("kube-system")
    assert caught.value.status == 403


def test_delete_collection_by_label(core, namespace):
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "labels": {"team": team}}})
    core.delete_collection_namespaced_config_map(namespace, label_selector="team=x")
    left = {c.metadata.name for c in core.list_namespaced_config_map(namespace).items}
    assert left == {"c", "kube-root-ca.crt"}

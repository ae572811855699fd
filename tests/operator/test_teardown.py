"""Releasing gefyra's objects without an Operator (gefyra.cluster.teardown; pure)."""

from __future__ import annotations

import json

from gefyra.cluster import names
from gefyra.cluster.teardown import finalizer_patches, release_patches, restore_pod_patches


def _pod(namespace, name, **records):
    annotations = {
        f"bridge.gefyra.dev/{container}": json.dumps({"bridge": bridge, "originalImage": image})
        for container, (bridge, image) in records.items()
    }
    annotations["other.example/keep"] = "x"
    return {"metadata": {"namespace": namespace, "name": name, "annotations": annotations}, "spec": {}}


def _custom(kind, name, finalizers, rv="7"):
    meta = {"namespace": "gefyra", "name": name, "finalizers": finalizers, "resourceVersion": rv}
    return {"apiVersion": names.API_VERSION, "kind": kind, "metadata": meta}


def test_pods_of_gefyras_bridges_are_restored_others_left_alone():
    pods = [
        _pod("shop", "web-1", web=("gefyra/web", "shop/web:1"), side=("gefyra/side", "shop/side:2")),
        _pod("shop", "db-1", db=("elsewhere/db", "shop/db:1")),  # another install's bridge
        _pod("shop", "plain-1"),
    ]
    patches = restore_pod_patches("gefyra", pods)
    assert [(p.path, p.kind) for p in patches] == [
        ("/api/v1/namespaces/shop/pods/web-1", "strategic"),
        ("/api/v1/namespaces/shop/pods/web-1", "strategic"),
    ]
    assert patches[0].body == {
        "metadata": {"annotations": {"bridge.gefyra.dev/side": None}},
        "spec": {"containers": [{"name": "side", "image": "shop/side:2"}]},
    }
    assert patches[1].why == "Pod shop/web-1: container web back to shop/web:1"
    assert patches[0].content_type == "application/strategic-merge-patch+json"


def test_only_gefyras_finalizer_goes_with_a_precondition():
    objects = [
        _custom(names.CLIENT_KIND, "alice", [names.FINALIZER]),
        _custom(names.BRIDGE_KIND, "web", ["example.com/keep", names.FINALIZER], rv="9"),
        _custom(names.BRIDGE_KIND, "done", []),
        _custom("ConfigMap", "x", [names.FINALIZER]),
    ]
    patches = finalizer_patches(objects)
    assert [(p.path, p.body, p.kind) for p in patches] == [
        (
            "/apis/gefyra.dev/v1/namespaces/gefyra/gefyraclients/alice",
            {"metadata": {"finalizers": None, "resourceVersion": "7"}},
            "merge",
        ),
        (
            "/apis/gefyra.dev/v1/namespaces/gefyra/gefyrabridges/web",
            {"metadata": {"finalizers": ["example.com/keep"], "resourceVersion": "9"}},
            "merge",
        ),
    ]
    assert patches[1].content_type == "application/merge-patch+json"


def test_pods_come_first():
    patches = release_patches(
        "gefyra",
        [_custom(names.BRIDGE_KIND, "web", [names.FINALIZER])],
        [_pod("shop", "web-1", web=("gefyra/web", "shop/web:1"))],
    )
    assert [p.path.split("/")[-2] for p in patches] == ["pods", "gefyrabridges"]

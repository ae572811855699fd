"""First slice: the official client can do basic CRUD against the sandbox over verified TLS."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.cluster


def test_configmap_roundtrip(core, namespace):
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}, "data": {"k": "v"}})
    assert created.metadata.uid and created.metadata.resource_version
    got = core.read_namespaced_config_map("a", namespace)
    assert got.data == {"k": "v"}
    listed = core.list_namespaced_config_map(namespace)
    assert {i.metadata.name for i in listed.items} == {"a", "kube-root-ca.crt"}
    core.delete_namespaced_config_map("a", namespace)
    names = {i.metadata.name for i in core.list_namespaced_config_map(namespace).items}
    assert names == {"kube-root-ca.crt"}


def test_deployment_roundtrip(apps, namespace):
    body = {
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1"}]},
            },
        },
    }
    created = apps.create_namespaced_deployment(namespace, body)
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}})
    assert scaled.spec.replicas == 3 and scaled.metadata.generation == 2

"""List filtering with label selectors (every operator) and field selectors."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.cluster

LABELS = {
    "a": {"env": "prod", "tier": "web"},
    "b": {"env": "dev", "tier": "web"},
    "c": {"env": "test"},
    "d": {},
}


@pytest.fixture
def labelled(core, namespace):
    for name, labels in LABELS.items():
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name, "labels": labels}})
    return namespace


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("env=prod", "a"),
        ("env==dev", "b"),
        ("env!=prod", "bcd"),
        ("env in (prod,test)", "ac"),
        ("env notin (prod, test)", "bd"),
        ("tier", "ab"),
        ("!tier", "cd"),
        ("tier=web,env!=dev", "a"),
        ("env in (dev,prod),!missing", "ab"),
    ],
)
def test_label_selector(core, labelled, selector, expected):
    items = core.list_namespaced_config_map(labelled, label_selector=selector).items
    assert "".join(sorted(i.metadata.name for i in items if i.metadata.name in LABELS)) == expected


def test_bad_label_selector_is_bad_request(core, labelled):
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        core.list_namespaced_config_map(labelled, label_selector="env in prod)")
    assert caught.value.status == 400


def test_field_selector_name_and_namespace(core, labelled):
    assert [
        i.metadata.name
        for i in core.list_namespaced_config_map(labelled, field_selector="metadata.name=b").items
    ] == ["b"]
    everywhere = core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.namespace={labelled},metadata.name!=kube-root-ca.crt"
    )
    assert sorted(i.metadata.name for i in everywhere.items) == list("abcd")


def test_field_selector_pod_node_and_phase(core, namespace):
    for name, node in (("p1", "n1"), ("p2", "n2"), ("p3", None)):
        spec = {"containers": [{"name": "c", "image": "i:1"}]}
        if node:
            spec["nodeName"] = node
        core.create_namespaced_pod(namespace, {"metadata": {"name": name}, "spec": spec})
    core.patch_namespaced_pod_status("p2", namespace, {"status": {"phase": "Running"}})
    names = lambda **kw: sorted(p.metadata.name for p in core.list_namespaced_pod(namespace, **kw).items)  # noqa: E731
    assert names(field_selector="spec.nodeName=n1") == ["p1"]
    assert names(field_selector="spec.nodeName=") == ["p3"]
    assert names(field_selector="status.phase=Running") == ["p2"]
    assert names(field_selector="status.phase!=Running,spec.nodeName!=n1") == ["p3"]

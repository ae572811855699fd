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


def test_label_selector_object_and_query_syntax_agree():
    """A LabelSelector rendered as query syntax (Scale.status.selector) selects exactly what its rules say."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tests.sandbox.apiserver.selection import label_matcher, selector_to_string

    keys, values = st.sampled_from(["app", "tier", "env"]), st.sampled_from(["a", "b", "c"])
    labels = st.dictionaries(keys, values, max_size=3)
    expression = st.one_of(
        st.fixed_dictionaries(
            {
                "key": keys,
                "operator": st.sampled_from(["In", "NotIn"]),
                "values": st.lists(values, min_size=1, max_size=2, unique=True),
            }
        ),
        st.fixed_dictionaries({"key": keys, "operator": st.sampled_from(["Exists", "DoesNotExist"])}),
    )
    selector = st.fixed_dictionaries(
        {"matchLabels": labels, "matchExpressions": st.lists(expression, max_size=2)}
    )

    def expected(sel, have):
        if any(have.get(k) != v for k, v in sel["matchLabels"].items()):
            return False
        for e in sel["matchExpressions"]:
            present = e["key"] in have
            if (
                (e["operator"] == "In" and have.get(e["key"]) not in e["values"])
                or (e["operator"] == "NotIn" and have.get(e["key"]) in e["values"])
                or (e["operator"] == "Exists" and not present)
                or (e["operator"] == "DoesNotExist" and present)
            ):
                return False
        return True

    @settings(max_examples=300, deadline=None)
    @given(selector, labels)
    def check(sel, have):
        matches = label_matcher(selector_to_string(sel))
        assert matches({"metadata": {"labels": have}}) == expected(sel, have)

    check()

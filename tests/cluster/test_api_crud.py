"""Create, read, list, replace, patch and delete of every core and apps kind through the typed client."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.cluster

POD_SPEC = {"containers": [{"name": "app", "image": "busybox:1", "ports": [{"containerPort": 80}]}]}
TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": POD_SPEC}
# (API class, method suffix, body without metadata)
KINDS = [
    ("CoreV1Api", "pod", {"spec": POD_SPEC}),
    ("CoreV1Api", "service", {"spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}}),
    ("CoreV1Api", "endpoints", {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}),
    ("CoreV1Api", "config_map", {"data": {"k": "v"}}),
    ("CoreV1Api", "secret", {"stringData": {"k": "v"}}),
    ("CoreV1Api", "service_account", {}),
    (
        "CoreV1Api",
        "event",
        {"involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Test", "message": "m"},
    ),
    ("AppsV1Api", "deployment", {"spec": {"selector": {"matchLabels": {"app": "x"}}, "template": TEMPLATE}}),
    ("AppsV1Api", "replica_set", {"spec": {"selector": {"matchLabels": {"app": "x"}}, "template": TEMPLATE}}),
    (
        "AppsV1Api",
        "stateful_set",
        {"spec": {"selector": {"matchLabels": {"app": "x"}}, "template": TEMPLATE, "serviceName": "x"}},
    ),
    (
        "RbacAuthorizationV1Api",
        "role",
        {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
    ),
    (
        "RbacAuthorizationV1Api",
        "role_binding",
        {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "default"}],
        },
    ),
    ("CoordinationV1Api", "lease", {"spec": {"holderIdentity": "me"}}),
    (
        "EventsV1Api",
        "event",
        {
            "eventTime": "2024-01-01T00:00:00.000000Z",
            "reportingController": "t",
            "reportingInstance": "t",
            "action": "A",
            "reason": "R",
            "type": "Normal",
        },
    ),
]


@pytest.mark.parametrize(("api_name", "kind", "body"), KINDS, ids=[f"{a}.{k}" for a, k, _ in KINDS])
def test_namespaced_kind_lifecycle(api_client, namespace, api_name, kind, body):
    from kubernetes import client

    api = getattr(client, api_name)(api_client)
    manifest = {"metadata": {"name": "obj", "labels": {"t": "1"}}, **body}
    created = getattr(api, f"create_namespaced_{kind}")(namespace, manifest)
    assert created.metadata.uid and created.metadata.namespace == namespace
    read = getattr(api, f"read_namespaced_{kind}")("obj", namespace)
    assert read.metadata.resource_version == created.metadata.resource_version
    listed = getattr(api, f"list_namespaced_{kind}")(namespace, label_selector="t=1")
    assert [i.metadata.name for i in listed.items] == ["obj"]

    read.metadata.labels = {"t": "2"}
    replaced = getattr(api, f"replace_namespaced_{kind}")("obj", namespace, read)
    assert replaced.metadata.labels == {"t": "2"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    patched = getattr(api, f"patch_namespaced_{kind}")("obj", namespace, {"metadata": {"labels": {"p": "y"}}})
    assert patched.metadata.labels == {"t": "2", "p": "y"}

    getattr(api, f"delete_namespaced_{kind}")("obj", namespace)
    with pytest.raises(client.ApiException) as error:
        getattr(api, f"read_namespaced_{kind}")("obj", namespace)
    assert error.value.status == 404


CLUSTER_KINDS = [
    ("CoreV1Api", "namespace", {}),
    (
        "CoreV1Api",
        "node",
        {"spec": {}, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.9"}]}},
    ),
    ("RbacAuthorizationV1Api", "cluster_role", {"rules": []}),
    (
        "RbacAuthorizationV1Api",
        "cluster_role_binding",
        {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"}},
    ),
]


@pytest.mark.parametrize(("api_name", "kind", "body"), CLUSTER_KINDS, ids=[k for _, k, _ in CLUSTER_KINDS])
def test_cluster_kind_lifecycle(api_client, api_name, kind, body):
    import uuid

    from kubernetes import client

    api = getattr(client, api_name)(api_client)
    name = f"c-{uuid.uuid4().hex[:8]}"
    created = getattr(api, f"create_{kind}")({"metadata": {"name": name}, **body})
    assert created.metadata.namespace is None and created.metadata.uid
    assert getattr(api, f"read_{kind}")(name).metadata.uid == created.metadata.uid
    assert name in {i.metadata.name for i in getattr(api, f"list_{kind}")().items}
    patched = getattr(api, f"patch_{kind}")(name, {"metadata": {"annotations": {"a": "b"}}})
    assert patched.metadata.annotations == {"a": "b"}
    getattr(api, f"delete_{kind}")(name)
    if kind == "namespace":
        return  # namespaces terminate asynchronously; covered in test_api_deletion
    with pytest.raises(client.ApiException) as error:
        getattr(api, f"read_{kind}")(name)
    assert error.value.status == 404


def test_list_across_namespaces(core, namespace):
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "everywhere", "labels": {"x": namespace}}}
    )
    found = core.list_config_map_for_all_namespaces(label_selector=f"x={namespace}")
    assert [(i.metadata.namespace, i.metadata.name) for i in found.items] == [(namespace, "everywhere")]
    assert int(found.metadata.resource_version) >= 1


def test_list_kind_and_version(sandbox_api, namespace):
    body = sandbox_api.request("GET", f"/api/v1/namespaces/{namespace}/configmaps")
    assert body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1"
    assert body["metadata"]["resourceVersion"].isdigit()


def test_list_pagination_with_limit_and_continue(core, namespace):
    for index in range(7):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": f"page-{index}", "labels": {"p": "1"}}}
        )
    seen, token = [], None
    while True:
        page = core.list_namespaced_config_map(namespace, label_selector="p=1", limit=3, _continue=token)
        seen += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(seen)
    assert seen == [f"page-{index}" for index in range(7)]

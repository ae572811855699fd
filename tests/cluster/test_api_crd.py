"""CustomResourceDefinitions: registration, discovery, custom objects with status and scale, removal."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.cluster


def _create_widget(custom, group: str, namespace: str, **fields) -> dict:
    """Create the Widget `w` of `group` (v1), with any further top-level `fields` such as spec."""
    body = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w"}, **fields}
    return custom.create_namespaced_custom_object(group, "v1", namespace, "widgets", body)


@pytest.fixture
def crd(api_client, crd_manifest):
    from kubernetes import client

    ext = client.ApiextensionsV1Api(api_client)
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    created = ext.create_custom_resource_definition(crd_manifest(group))
    yield group
    try:
        ext.delete_custom_resource_definition(created.metadata.name)
    except client.ApiException as error:
        if error.status != 404:
            raise


def test_crd_is_established_and_discoverable(api_client, crd):
    from kubernetes import client

    ext = client.ApiextensionsV1Api(api_client)
    read = ext.read_custom_resource_definition(f"widgets.{crd}")
    conditions = {c.type: c.status for c in read.status.conditions}
    assert conditions["Established"] == "True" and conditions["NamesAccepted"] == "True"
    groups = {g.name: g for g in client.ApisApi(api_client).get_api_versions().groups}
    assert [v.version for v in groups[crd].versions] == ["v1", "v1beta1"]
    assert groups[crd].preferred_version.group_version == f"{crd}/v1"
    resources = client.CustomObjectsApi(api_client).get_api_resources(crd, "v1")
    names = {r.name: r for r in resources.resources}
    assert names["widgets"].kind == "Widget" and names["widgets"].short_names == ["wd"]
    assert {"widgets/status", "widgets/scale"} <= set(names)


def test_custom_object_lifecycle(custom, namespace, crd):
    body = {
        "apiVersion": f"{crd}/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}},
        "spec": {"size": 1},
        "status": {"ignored": True},
    }
    created = custom.create_namespaced_custom_object(crd, "v1", namespace, "widgets", body)
    assert created["metadata"]["generation"] == 1 and "status" not in created
    listed = custom.list_namespaced_custom_object(crd, "v1", namespace, "widgets", label_selector="a=b")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["w"] and listed["kind"] == "WidgetList"
    patched = custom.patch_namespaced_custom_object(
        crd, "v1", namespace, "widgets", "w", {"spec": {"size": 2}}
    )
    assert patched["spec"]["size"] == 2 and patched["metadata"]["generation"] == 2
    as_beta = custom.get_namespaced_custom_object(crd, "v1beta1", namespace, "widgets", "w")
    assert as_beta["apiVersion"] == f"{crd}/v1beta1" and as_beta["spec"]["size"] == 2
    patched["spec"]["size"] = 3
    replaced = custom.replace_namespaced_custom_object(crd, "v1", namespace, "widgets", "w", patched)
    assert replaced["spec"]["size"] == 3
    custom.delete_namespaced_custom_object(crd, "v1", namespace, "widgets", "w")
    assert custom.list_namespaced_custom_object(crd, "v1", namespace, "widgets")["items"] == []


def test_custom_status_and_scale_subresources(custom, namespace, crd):
    _create_widget(custom, crd, namespace, spec={"size": 1})
    status = custom.patch_namespaced_custom_object_status(
        crd,
        "v1",
        namespace,
        "widgets",
        "w",
        {"status": {"size": 1, "selector": "app=w"}, "spec": {"size": 9}},
    )
    assert status["status"]["size"] == 1 and status["spec"]["size"] == 1
    main = custom.patch_namespaced_custom_object(
        crd, "v1", namespace, "widgets", "w", {"status": {"size": 5}}
    )
    assert main["status"]["size"] == 1
    scale = custom.get_namespaced_custom_object_scale(crd, "v1", namespace, "widgets", "w")
    assert (scale["spec"]["replicas"], scale["status"]["replicas"], scale["status"]["selector"]) == (
        1,
        1,
        "app=w",
    )
    custom.patch_namespaced_custom_object_scale(
        crd, "v1", namespace, "widgets", "w", {"spec": {"replicas": 4}}
    )
    assert custom.get_namespaced_custom_object(crd, "v1", namespace, "widgets", "w")["spec"]["size"] == 4


def test_strategic_merge_on_custom_object_is_unsupported(custom, namespace, crd):
    from kubernetes.client import ApiException

    _create_widget(custom, crd, namespace)
    with pytest.raises(ApiException) as caught:
        custom.patch_namespaced_custom_object(
            crd,
            "v1",
            namespace,
            "widgets",
            "w",
            {"spec": {"a": 1}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert caught.value.status == 415
    assert json.loads(caught.value.body)["reason"] == "UnsupportedMediaType"


def test_cluster_scoped_crd(api_client, custom, crd_manifest):
    from kubernetes import client

    group = f"c{uuid.uuid4().hex[:8]}.example.com"
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(crd_manifest(group, "gizmos", "Gizmo", "Cluster"))
    custom.create_cluster_custom_object(
        group, "v1", "gizmos", {"apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": "g"}}
    )
    assert custom.get_cluster_custom_object(group, "v1", "gizmos", "g")["metadata"]["name"] == "g"
    ext.delete_custom_resource_definition(f"gizmos.{group}")


def test_deleting_the_crd_unregisters_kind_and_objects(api_client, custom, namespace, crd_manifest):
    from kubernetes import client

    group = f"d{uuid.uuid4().hex[:8]}.example.com"
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(crd_manifest(group))
    _create_widget(custom, group, namespace)
    ext.delete_custom_resource_definition(f"widgets.{group}")
    with pytest.raises(client.ApiException) as caught:
        custom.list_namespaced_custom_object(group, "v1", namespace, "widgets")
    assert caught.value.status == 404
    assert group not in {g.name for g in client.ApisApi(api_client).get_api_versions().groups}


def test_unknown_custom_resource_is_not_found(custom, namespace):
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        custom.list_namespaced_custom_object("nope.example.com", "v1", namespace, "things")
    assert caught.value.status == 404


def test_crd_name_must_match_names_and_group(api_client, crd_manifest):
    from kubernetes import client

    manifest = crd_manifest("x.example.com")
    manifest["metadata"]["name"] = "wrong.example.com"
    with pytest.raises(client.ApiException) as caught:
        client.ApiextensionsV1Api(api_client).create_custom_resource_definition(manifest)
    assert caught.value.status == 422


def test_watch_custom_objects(custom, namespace, crd):
    from kubernetes import watch

    start = custom.list_namespaced_custom_object(crd, "v1", namespace, "widgets")["metadata"][
        "resourceVersion"
    ]
    _create_widget(custom, crd, namespace)
    custom.delete_namespaced_custom_object(crd, "v1", namespace, "widgets", "w")
    events = list(
        watch.Watch().stream(
            custom.list_namespaced_custom_object,
            crd,
            "v1",
            namespace,
            "widgets",
            resource_version=start,
            timeout_seconds=1,
        )
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "w"),
        ("DELETED", "w"),
    ]

"""Discovery: /version, /api, /apis, group documents and resource lists with subresources."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.cluster

GROUPS = ["apps", "rbac.authorization.k8s.io", "apiextensions.k8s.io", "coordination.k8s.io", "events.k8s.io"]


@pytest.mark.parametrize("path", ["/version", "/version/"])
def test_version_document(sandbox_api, path):
    version = sandbox_api.request("GET", path)
    for field in (
        "major",
        "minor",
        "gitVersion",
        "gitCommit",
        "gitTreeState",
        "buildDate",
        "goVersion",
        "compiler",
        "platform",
    ):
        assert version[field], field


def test_core_api_versions(api_client):
    from kubernetes import client

    versions = client.CoreApi(api_client).get_api_versions()
    assert versions.versions == ["v1"]


def test_groups_with_preferred_versions(api_client):
    from kubernetes import client

    groups = {g.name: g for g in client.ApisApi(api_client).get_api_versions().groups}
    for name in GROUPS:
        assert groups[name].preferred_version.group_version == f"{name}/v1"
        assert groups[name].versions[0].version == "v1"


def test_group_document(api_client):
    from kubernetes import client

    group = client.AppsApi(api_client).get_api_group()
    assert group.name == "apps" and group.preferred_version.version == "v1"


def test_core_resource_list_has_subresources_and_short_names(api_client):
    from kubernetes import client

    resources = {r.name: r for r in client.CoreV1Api(api_client).get_api_resources().resources}
    for name in (
        "namespaces",
        "pods",
        "services",
        "endpoints",
        "configmaps",
        "secrets",
        "serviceaccounts",
        "events",
        "nodes",
    ):
        assert name in resources
    assert resources["pods"].short_names == ["po"] and resources["pods"].singular_name == "pod"
    assert resources["pods"].namespaced and not resources["namespaces"].namespaced
    assert set(resources["pods"].verbs) >= {"create", "delete", "get", "list", "patch", "update", "watch"}
    assert resources["pods/status"].verbs == ["get", "patch", "update"]
    token = resources["serviceaccounts/token"]
    assert (token.group, token.version, token.kind, token.verbs) == (
        "authentication.k8s.io",
        "v1",
        "TokenRequest",
        ["create"],
    )


def test_apps_resource_list_has_scale(api_client):
    from kubernetes import client

    resources = {r.name: r for r in client.AppsV1Api(api_client).get_api_resources().resources}
    scale = resources["deployments/scale"]
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    assert resources["deployments"].short_names == ["deploy"]
    assert {"replicasets", "statefulsets", "daemonsets", "replicasets/scale"} <= set(resources)


@pytest.mark.parametrize(
    ("api_class", "expected"),
    [
        ("RbacAuthorizationV1Api", {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}),
        ("ApiextensionsV1Api", {"customresourcedefinitions", "customresourcedefinitions/status"}),
        ("CoordinationV1Api", {"leases"}),
        ("EventsV1Api", {"events"}),
    ],
)
def test_group_version_resource_lists(api_client, api_class, expected):
    from kubernetes import client

    resources = getattr(client, api_class)(api_client).get_api_resources()
    assert expected <= {r.name for r in resources.resources}
    assert resources.group_version.endswith("/v1")


def test_missing_group_is_not_found(sandbox_api):
    from urllib.error import HTTPError

    for path in ("/apis/nothing.example.com", "/apis/apps/v2", "/api/v2/pods"):
        with pytest.raises(HTTPError) as caught:
            sandbox_api.request("GET", path)
        assert caught.value.code == 404, path


def test_legacy_watch_path(sandbox_api, namespace):
    import json
    import ssl
    import urllib.request

    request = urllib.request.Request(
        f"{sandbox_api.url}/api/v1/watch/namespaces/{namespace}/configmaps?timeoutSeconds=1",
        headers={"Authorization": f"Bearer {sandbox_api.token}"},
    )
    context = ssl.create_default_context(cafile=str(sandbox_api.ca_cert))
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        events = [json.loads(line) for line in response.read().splitlines() if line]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "kube-root-ca.crt")]


def test_namespace_finalize_subresource(core):
    import time
    import uuid

    name = f"fin-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}, "spec": {"finalizers": ["example.com/hold"]}})
    core.delete_namespace(name)
    deadline = time.monotonic() + 5
    while (namespace := core.read_namespace(name)).spec.finalizers != ["example.com/hold"]:
        assert time.monotonic() < deadline, "the namespace controller did not drop its finalizer"
        time.sleep(0.02)
    assert namespace.status.phase == "Terminating"
    namespace.spec.finalizers = []
    core.replace_namespace_finalize(name, namespace)
    deadline = time.monotonic() + 5
    while name in {n.metadata.name for n in core.list_namespace().items}:
        assert time.monotonic() < deadline, "namespace was not finalized"
        time.sleep(0.02)

"""Object metadata, write conflicts, dry runs, Status errors and per-kind defaults."""

from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.cluster


def _error(call, *args, **kwargs):
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    import json

    return caught.value.status, json.loads(caught.value.body)


def _deployment(name: str = "d", labels: dict | None = None, **spec) -> dict:
    """A Deployment selecting a=b; its template carries `labels` (a=b unless told)."""
    return {
        "metadata": {"name": name},
        "spec": {
            **spec,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": labels or {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }


def test_metadata_filled(core, namespace):
    created = core.create_namespaced_config_map(namespace, {"metadata": {"generateName": "gen-"}})
    md = created.metadata
    assert md.name.startswith("gen-") and len(md.name) == len("gen-") + 5
    assert md.uid and md.creation_timestamp and md.generation == 1
    assert created.api_version == "v1" and created.kind == "ConfigMap"


def test_resource_version_is_one_global_counter(private_api):
    first = private_api.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "a"}})
    second = private_api.request("POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "b"}})
    third = private_api.request(
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        _deployment("c"),
    )
    versions = [int(o["metadata"]["resourceVersion"]) for o in (first, second, third)]
    assert versions == [versions[0], versions[0] + 1, versions[0] + 2]


def test_generation_bumps_on_spec_change_only(apps, namespace):
    body = _deployment()
    apps.create_namespaced_deployment(namespace, body)
    labelled = apps.patch_namespaced_deployment("d", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert labelled.metadata.generation == 1
    changed = apps.patch_namespaced_deployment("d", namespace, {"spec": {"replicas": 4}})
    assert changed.metadata.generation == 2


def test_noop_write_keeps_resource_version(core, namespace):
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}, "data": {"k": "v"}})
    same = core.patch_namespaced_config_map("a", namespace, {"data": {"k": "v"}})
    assert same.metadata.resource_version == created.metadata.resource_version


def test_stale_replace_is_conflict(core, namespace):
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}, "data": {"k": "1"}})
    core.patch_namespaced_config_map("a", namespace, {"data": {"k": "2"}})
    created.data = {"k": "3"}
    code, status = _error(core.replace_namespaced_config_map, "a", namespace, created)
    assert (code, status["reason"], status["kind"]) == (409, "Conflict", "Status")
    assert core.read_namespaced_config_map("a", namespace).data == {"k": "2"}


def test_resource_version_in_patch_is_precondition(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})
    code, status = _error(
        core.patch_namespaced_config_map,
        "a",
        namespace,
        {"metadata": {"resourceVersion": "1"}, "data": {"k": "v"}},
    )
    assert (code, status["reason"]) == (409, "Conflict")


def test_already_exists(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})
    code, status = _error(core.create_namespaced_config_map, namespace, {"metadata": {"name": "a"}})
    assert (code, status["reason"], status["details"]["name"]) == (409, "AlreadyExists", "a")


def test_not_found(core, namespace):
    code, status = _error(core.read_namespaced_config_map, "missing", namespace)
    assert (code, status["reason"], status["status"]) == (404, "NotFound", "Failure")


def test_create_in_missing_namespace_is_not_found(core):
    code, status = _error(core.create_namespaced_config_map, "no-such-ns", {"metadata": {"name": "a"}})
    assert (code, status["reason"]) == (404, "NotFound")
    assert "namespaces" in status["message"]


def test_namespace_mismatch_is_bad_request(core, namespace):
    code, status = _error(
        core.create_namespaced_config_map, namespace, {"metadata": {"name": "a", "namespace": "other"}}
    )
    assert (code, status["reason"]) == (400, "BadRequest")


def test_invalid_name_is_unprocessable(core, namespace):
    code, status = _error(core.create_namespaced_config_map, namespace, {"metadata": {"name": "Bad_Name"}})
    assert (code, status["reason"]) == (422, "Invalid")


def test_missing_name_is_invalid(core, namespace):
    code, status = _error(core.create_namespaced_config_map, namespace, {"metadata": {}})
    assert (code, status["reason"]) == (422, "Invalid")


def test_dry_run_persists_nothing(core, namespace):
    answer = core.create_namespaced_config_map(namespace, {"metadata": {"name": "dry"}}, dry_run="All")
    assert answer.metadata.name == "dry"
    code, _ = _error(core.read_namespaced_config_map, "dry", namespace)
    assert code == 404


def test_unknown_resource_is_not_found(sandbox_api):
    from urllib.error import HTTPError

    with pytest.raises(HTTPError) as caught:
        sandbox_api.request("GET", "/apis/nothing.example.com/v1/things")
    assert caught.value.code == 404


def test_protobuf_body_without_a_kind_is_unsupported_media_type(sandbox_api, namespace):
    import json
    import ssl
    import urllib.request
    from urllib.error import HTTPError

    request = urllib.request.Request(
        f"{sandbox_api.url}/api/v1/namespaces/{namespace}/configmaps",
        data=b"k8s\x00",
        method="POST",
        headers={
            "Authorization": f"Bearer {sandbox_api.token}",
            "Content-Type": "application/vnd.kubernetes.protobuf",
        },
    )
    with pytest.raises(HTTPError) as caught:
        urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(sandbox_api.ca_cert)))
    assert caught.value.code == 415
    status = json.loads(caught.value.read())
    assert status["reason"] == "UnsupportedMediaType"
    assert "JSON" in status["message"], status["message"]


def test_secret_string_data_becomes_data(core, namespace):
    secret = core.create_namespaced_secret(
        namespace, {"metadata": {"name": "s"}, "stringData": {"pw": "hunter2"}}
    )
    assert base64.b64decode(secret.data["pw"]) == b"hunter2"
    assert secret.type == "Opaque" and not secret.string_data


def test_status_subresource_separates_spec_and_status(apps, namespace):
    body = {**_deployment(), "status": {"replicas": 9}}
    created = apps.create_namespaced_deployment(namespace, body)
    assert not (created.status and created.status.replicas)
    written = apps.patch_namespaced_deployment_status(
        "d", namespace, {"status": {"readyReplicas": 1}, "spec": {"replicas": 5}}
    )
    assert written.status.ready_replicas == 1 and written.spec.replicas == 1
    main = apps.patch_namespaced_deployment("d", namespace, {"status": {"readyReplicas": 7}})
    assert main.status.ready_replicas == 1
    read = apps.read_namespaced_deployment_status("d", namespace)
    assert read.status.ready_replicas == 1


def test_scale_subresource(apps, namespace):
    body = _deployment(replicas=2)
    apps.create_namespaced_deployment(namespace, body)
    scale = apps.read_namespaced_deployment_scale("d", namespace)
    assert (scale.kind, scale.spec.replicas, scale.status.selector) == ("Scale", 2, "a=b")
    apps.patch_namespaced_deployment_scale("d", namespace, {"spec": {"replicas": 5}})
    assert apps.read_namespaced_deployment("d", namespace).spec.replicas == 5
    scale = apps.read_namespaced_deployment_scale("d", namespace)
    scale.spec.replicas = 1
    assert apps.replace_namespaced_deployment_scale("d", namespace, scale).spec.replicas == 1


def test_deployment_selector_must_match_template(apps, namespace):
    body = _deployment(labels={"a": "other"})
    code, status = _error(apps.create_namespaced_deployment, namespace, body)
    assert (code, status["reason"]) == (422, "Invalid")


def test_service_allocates_cluster_ip_and_node_ports(core, namespace):
    a = core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "a"},
            "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    b = core.create_namespaced_service(
        namespace, {"metadata": {"name": "b"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert a.spec.cluster_ip.startswith("10.96.") and a.spec.cluster_ip != b.spec.cluster_ip
    assert a.spec.cluster_ips == [a.spec.cluster_ip]
    assert 30000 <= a.spec.ports[0].node_port <= 32767 and b.spec.ports[0].node_port is None
    assert b.spec.ports[0].target_port == 80
    updated = core.patch_namespaced_service("a", namespace, {"metadata": {"labels": {"x": "y"}}})
    assert (updated.spec.cluster_ip, updated.spec.ports[0].node_port) == (
        a.spec.cluster_ip,
        a.spec.ports[0].node_port,
    )
    code, status = _error(
        core.create_namespaced_service,
        namespace,
        {"metadata": {"name": "c"}, "spec": {"clusterIP": a.spec.cluster_ip, "ports": [{"port": 80}]}},
    )
    assert (code, status["reason"]) == (422, "Invalid")
    headless = core.create_namespaced_service(
        namespace, {"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}
    )
    assert headless.spec.cluster_ip == "None"


def test_kubernetes_service_points_at_the_server(core, sandbox_api):
    service = core.read_namespaced_service("kubernetes", "default")
    assert service.spec.cluster_ip == "10.96.0.1"
    endpoints = core.read_namespaced_endpoints("kubernetes", "default")
    assert endpoints.subsets[0].ports[0].port == int(sandbox_api.url.rsplit(":", 1)[1])


def test_pod_defaults_and_service_account_volume(core, namespace):
    pod = core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "img:1"}]}}
    )
    assert pod.status.phase == "Pending"
    assert pod.spec.service_account_name == "default" and pod.spec.restart_policy == "Always"
    volume = next(v for v in pod.spec.volumes if v.name.startswith("kube-api-access-"))
    assert volume.projected.sources[0].service_account_token.path == "token"
    mounts = pod.spec.containers[0].volume_mounts
    assert [m.mount_path for m in mounts] == ["/var/run/secrets/kubernetes.io/serviceaccount"]
    opted_out = core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "q"},
            "spec": {"automountServiceAccountToken": False, "containers": [{"name": "c", "image": "img:1"}]},
        },
    )
    assert not opted_out.spec.volumes


def test_pod_binding_sets_node_name(core, namespace):
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "img:1"}]}}
    )
    # upstream answers a Status, which the typed client cannot read as V1Binding: take the raw response
    response = core.create_namespaced_pod_binding(
        "p",
        namespace,
        {"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "sandbox"}},
        _preload_content=False,
    )
    assert response.status == 201
    assert core.read_namespaced_pod("p", namespace).spec.node_name == "sandbox"


def test_owner_reference_without_uid_is_invalid(sandbox_api, namespace):
    from urllib.error import HTTPError

    body = {
        "metadata": {"name": "c", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o"}]}
    }
    with pytest.raises(HTTPError) as caught:
        sandbox_api.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", body)
    assert caught.value.code == 422


def test_replace_with_another_uid_is_conflict(core, namespace):
    created = core.create_namespaced_config_map(namespace, {"metadata": {"name": "a"}})
    created.metadata.uid = "00000000-0000-0000-0000-000000000000"
    created.metadata.resource_version = None
    code, status = _error(core.replace_namespaced_config_map, "a", namespace, created)
    assert (code, status["reason"]) == (409, "Conflict")


def test_pod_logs_come_from_the_attached_source(private_api):
    from kubernetes import client, config

    calls = []

    def logs(namespace: str, pod: str, container: str, tail: int | None) -> str:
        calls.append((namespace, pod, container, tail))
        return "line 1\nline 2\n"

    core = client.CoreV1Api(config.new_client_from_config(config_file=str(private_api.kubeconfig)))
    core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "i:1"}, {"name": "b", "image": "i:1"}]},
        },
    )
    code, status = _error(core.read_namespaced_pod_log, "p", "default", container="a")
    assert code == 400 and "no runner" in status["message"]
    private_api.server.set_log_source(logs)
    assert core.read_namespaced_pod_log("p", "default", container="b", tail_lines=5) == "line 1\nline 2\n"
    assert calls == [("default", "p", "b", 5)]
    code, _ = _error(core.read_namespaced_pod_log, "p", "default")
    assert code == 400  # two containers: one must be named


def test_server_side_apply_creates_then_merges(core, namespace):
    apply = {"_content_type": "application/apply-patch+yaml", "field_manager": "tests"}
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "1"}}
    core.patch_namespaced_config_map("ssa", namespace, body, **apply)
    body["data"] = {"b": "2"}
    merged = core.patch_namespaced_config_map("ssa", namespace, body, **apply)
    assert merged.data == {"a": "1", "b": "2"}

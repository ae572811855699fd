"""Authentication and transport: bearer tokens, verified TLS, ServiceAccount tokens, the subprocess mode."""

from __future__ import annotations

import json
import ssl
import urllib.request
from urllib.error import HTTPError, URLError

import pytest

pytestmark = pytest.mark.cluster


def _get(url: str, token: str | None, cafile=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), context=context, timeout=5
    ) as r:
        return json.loads(r.read())


def test_requests_without_a_valid_token_are_unauthorized(sandbox_api):
    for token in (None, "wrong"):
        with pytest.raises(HTTPError) as caught:
            _get(f"{sandbox_api.url}/api/v1/namespaces", token, sandbox_api.ca_cert)
        assert caught.value.code == 401
        assert json.loads(caught.value.read())["reason"] == "Unauthorized"


def test_version_is_anonymous_and_complete(sandbox_api, api_client):
    from kubernetes import client

    assert _get(f"{sandbox_api.url}/version", None, sandbox_api.ca_cert)["major"] == "1"
    info = client.VersionApi(api_client).get_code()
    assert (info.major, info.minor) == ("1", "30") and info.platform and info.build_date


def test_tls_is_verified_against_the_generated_ca(sandbox_api):
    with pytest.raises(URLError):
        _get(f"{sandbox_api.url}/version", None, None)  # system trust store does not know the sandbox CA
    kubeconfig = json.loads(sandbox_api.kubeconfig.read_text())
    assert kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]
    assert "insecure-skip-tls-verify" not in kubeconfig["clusters"][0]["cluster"]


def test_service_account_token_is_accepted_while_the_account_exists(sandbox_api, core, namespace):
    from kubernetes import client

    core.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})
    request = core.create_namespaced_service_account_token(
        "robot",
        namespace,
        {"spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 600}},
    )
    token = request.status.token
    assert token.count(".") == 2 and request.status.expiration_timestamp
    assert _get(f"{sandbox_api.url}/api/v1/namespaces/{namespace}/configmaps", token, sandbox_api.ca_cert)
    review = client.AuthenticationV1Api(core.api_client).create_token_review({"spec": {"token": token}})
    assert review.status.authenticated
    assert review.status.user.username == f"system:serviceaccount:{namespace}:robot"
    core.delete_namespaced_service_account("robot", namespace)
    with pytest.raises(HTTPError) as caught:
        _get(f"{sandbox_api.url}/api/v1/namespaces", token, sandbox_api.ca_cert)
    assert caught.value.code == 401
    assert (
        not client.AuthenticationV1Api(core.api_client)
        .create_token_review({"spec": {"token": token}})
        .status.authenticated
    )


def test_pod_bound_token_dies_with_the_pod(sandbox_api, core, namespace):
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}
    )
    token = sandbox_api.issue_token(namespace, "default", pod="p")
    assert _get(f"{sandbox_api.url}/api", token, sandbox_api.ca_cert)["kind"] == "APIVersions"
    core.delete_namespaced_pod("p", namespace)
    with pytest.raises(HTTPError):
        _get(f"{sandbox_api.url}/api", token, sandbox_api.ca_cert)


def test_forged_token_is_rejected(sandbox_api, namespace):
    token = sandbox_api.issue_token(namespace, "default")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}AA"
    with pytest.raises(HTTPError):
        _get(f"{sandbox_api.url}/api", forged, sandbox_api.ca_cert)


def test_subprocess_server_starts_answers_and_stops(tmp_path):
    from kubernetes import client, config

    from tests.sandbox.apiserver.serve import start_subprocess

    api = start_subprocess(state_dir=tmp_path / "state")
    try:
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(api.kubeconfig)))
        names = {n.metadata.name for n in core.list_namespace().items}
        assert {"default", "kube-system", "kube-public"} <= names
        assert (tmp_path / "state" / "apiserver.json").exists()
    finally:
        api.stop()
    assert not (tmp_path / "state" / "apiserver.json").exists()
    with pytest.raises(URLError):
        _get(f"{api.url}/version", None, api.ca_cert)


def test_extra_tokens_are_accepted(tmp_path):
    from tests.sandbox.apiserver.serve import start

    api = start(state_dir=tmp_path, extra_tokens={"fixed-token-for-a-test": "tester"})
    try:
        assert _get(f"{api.url}/api", "fixed-token-for-a-test", api.ca_cert)["kind"] == "APIVersions"
        with pytest.raises(HTTPError):
            _get(f"{api.url}/api", "another-token", api.ca_cert)
    finally:
        api.stop()


@pytest.mark.parametrize("backend", ["auto", "openssl"])
def test_tls_backends_serve_a_verified_certificate(tmp_path, backend):
    from kubernetes import client, config

    from tests.sandbox.apiserver.serve import start

    api = start(state_dir=tmp_path, tls_backend=backend)
    try:
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(api.kubeconfig)))
        assert "default" in {n.metadata.name for n in core.list_namespace().items}
        assert sorted(p.name for p in (tmp_path / "pki").iterdir()) == [
            "apiserver.crt",
            "apiserver.key",
            "ca.crt",
        ]
        assert (tmp_path / "pki" / "apiserver.key").stat().st_mode & 0o077 == 0
    finally:
        api.stop()


def test_access_reviews_allow_and_whoami_names_the_caller(api_client, kubectl, sandbox_api, core, namespace):
    from kubernetes import client

    review = client.AuthorizationV1Api(api_client).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": namespace}}}
    )
    assert review.status.allowed
    assert kubectl("auth", "can-i", "delete", "deployments", "-n", namespace).stdout.strip() == "yes"
    assert "sandbox-admin" in kubectl("auth", "whoami").stdout
    token = sandbox_api.issue_token(namespace, "default")
    who = sandbox_api.request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        token=token,
    )
    assert who["status"]["userInfo"]["username"] == f"system:serviceaccount:{namespace}:default"

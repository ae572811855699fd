"""The Operator's one boundary to the Kubernetes API (the official client): plain dicts in and out, and one
error type carrying the HTTP status."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from gefyra.cluster import names

Obj = dict[str, Any]
_LOCK = threading.Lock()
_CLIENT: Any = None


class KubeError(Exception):
    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def api_client() -> Any:
    """One ApiClient per process: in-cluster config in a Pod, else the kubeconfig (tests, a laptop)."""
    global _CLIENT
    with _LOCK:
        if _CLIENT is None:
            from kubernetes import client, config

            if os.environ.get("KUBERNETES_SERVICE_HOST"):
                config.load_incluster_config()  # type: ignore[no-untyped-call]
                _CLIENT = client.ApiClient()
            else:
                # $KUBECONFIG read now: the client library reads it once, when it is imported.
                path = os.environ.get("KUBECONFIG") or None
                _CLIENT = config.new_client_from_config(config_file=path)  # type: ignore[no-untyped-call]
        return _CLIENT


def request(
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Any:
    """A raw call: JSON back as dicts (no model round trip that could drop fields of a Pod we restore)."""
    client = api_client()
    headers = {"Accept": "application/json", "Content-Type": content_type}
    try:
        method_, url, headers, body_, post = client.param_serialize(
            method,
            path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = client.call_api(method_, url, header_params=headers, body=body_, post_params=post)
        response.read()
    except Exception as error:  # noqa: BLE001 - urllib3/TLS errors: one type at this boundary
        raise KubeError(f"{method} {path}: {error}") from None
    raw = response.data
    if not 200 <= response.status < 300:
        try:
            message = json.loads(raw or b"{}").get("message") or response.reason
        except ValueError:
            message = response.reason
        raise KubeError(f"{method} {path}: {response.status} {message}", response.status)
    return json.loads(raw) if raw else None


def get(path: str, **query: str) -> Obj | None:
    """GET, or None on 404."""
    try:
        result: Obj = request("GET", path, query=query or None)
    except KubeError as error:
        if error.status == 404:
            return None
        raise
    return result


def items(path: str, **query: str) -> list[Obj]:
    found = get(path, **query)
    return list((found or {}).get("items") or [])


def create(path: str, body: Obj) -> Obj:
    result: Obj = request("POST", path, body)
    return result


def delete(path: str) -> bool:
    """DELETE; False when it was gone already."""
    try:
        request("DELETE", path, {"propagationPolicy": "Background"})
    except KubeError as error:
        if error.status == 404:
            return False
        raise
    return True


def patch(path: str, body: Obj, kind: str = "merge") -> Obj:
    content = {
        "merge": "application/merge-patch+json",
        "strategic": "application/strategic-merge-patch+json",
    }[kind]
    result: Obj = request("PATCH", path, body, content_type=content)
    return result


# ------------------------------------------------------------------------------------------- paths
def core(namespace: str, plural: str, name: str | None = None) -> str:
    path = f"/api/v1/namespaces/{namespace}/{plural}"
    return path if name is None else f"{path}/{name}"


def apps(namespace: str, plural: str, name: str | None = None) -> str:
    path = f"/apis/apps/v1/namespaces/{namespace}/{plural}"
    return path if name is None else f"{path}/{name}"


def custom(namespace: str, plural: str, name: str | None = None) -> str:
    path = f"/apis/{names.GROUP}/{names.VERSION}/namespaces/{namespace}/{plural}"
    return path if name is None else f"{path}/{name}"


def token_review(token: str) -> Obj:
    """Ask the API server who a bearer token belongs to (status.authenticated, status.user)."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
    result = create("/apis/authentication.k8s.io/v1/tokenreviews", body)
    status: Obj = result.get("status") or {}
    return status


def reset_client() -> None:
    """Forget the ApiClient (a test pointing the Operator at another cluster)."""
    global _CLIENT
    with _LOCK:
        _CLIENT = None

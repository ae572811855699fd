"""authentication.k8s.io: TokenRequest (serviceaccounts/token) mints tokens, TokenReview checks them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import errors
from .api import Api
from .tokens import TokenAuthority


def token_request(
    api: Api, tokens: TokenAuthority, ns: str, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    """A token for ServiceAccount `ns/name`, optionally bound to a Pod (then it dies with the Pod)."""
    sa_type = api.registry.get("", "v1", "serviceaccounts")
    assert sa_type is not None
    account = api.get(sa_type, ns, name)
    spec = body.get("spec") or {}
    pod = None
    bound = spec.get("boundObjectRef") or {}
    if bound.get("kind") == "Pod":
        pod = api.store.get(("", "pods"), ns, bound.get("name", ""))
        if pod is None:
            raise errors.not_found("pods", bound.get("name", ""))
    seconds = int(spec.get("expirationSeconds") or 3600)
    token, expires = tokens.issue(ns, name, account["metadata"]["uid"], spec.get("audiences"), seconds, pod)
    stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": None},
        "spec": {**spec, "expirationSeconds": seconds},
        "status": {"token": token, "expirationTimestamp": stamp},
    }


def token_review(tokens: TokenAuthority, lookup: Callable[..., Any], body: Any) -> dict[str, Any]:
    spec = (body or {}).get("spec") or {}
    identity = tokens.identify(spec.get("token", ""), lookup)
    status: dict[str, Any] = {"authenticated": identity is not None}
    if identity is not None:
        status["user"] = {"username": identity.username, "uid": identity.uid, "groups": identity.groups}
        status["audiences"] = spec.get("audiences") or []
    return {
        "kind": "TokenReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }

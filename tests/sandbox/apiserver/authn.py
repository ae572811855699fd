"""authentication.k8s.io and authorization.k8s.io: TokenRequest mints tokens, reviews answer questions.

There is no RBAC: every authenticated identity may do everything, so access reviews always allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import errors
from .api import Api
from .tokens import Identity, TokenAuthority

REVIEWS = {
    ("authentication.k8s.io", "tokenreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
}


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


def review(
    key: tuple[str, str], body: Any, caller: Identity, tokens: TokenAuthority, lookup: Callable[..., Any]
) -> dict[str, Any]:
    """Answer a review object (never stored, as upstream)."""
    body = body if isinstance(body, dict) else {}
    if key == ("authentication.k8s.io", "tokenreviews"):
        return token_review(tokens, lookup, body)
    group, kind = (
        key[0],
        body.get("kind")
        or {
            "selfsubjectreviews": "SelfSubjectReview",
            "selfsubjectaccessreviews": "SelfSubjectAccessReview",
            "subjectaccessreviews": "SubjectAccessReview",
        }[key[1]],
    )
    answer: dict[str, Any] = {
        "kind": kind,
        "apiVersion": f"{group}/v1",
        "metadata": {"creationTimestamp": None},
    }
    if key[1] == "selfsubjectreviews":
        answer["status"] = {
            "userInfo": {"username": caller.username, "uid": caller.uid, "groups": caller.groups}
        }
    else:
        answer["spec"] = body.get("spec") or {}
        answer["status"] = {"allowed": True, "reason": "the sandbox does not enforce RBAC"}
    return answer

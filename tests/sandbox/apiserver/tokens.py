"""Bearer tokens: the admin token of the kubeconfig plus signed ServiceAccount tokens (JWT, HS256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from pydantic import BaseModel

ISSUER = "https://kubernetes.default.svc.cluster.local"


class Identity(BaseModel):
    """Who a valid token belongs to."""

    username: str
    uid: str = ""
    groups: list[str] = []
    namespace: str = ""
    service_account: str = ""
    pod_name: str = ""
    pod_uid: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """Mints and verifies tokens. Account tokens live only as long as their account (and pod)."""

    def __init__(self, admin_token: str | None = None, key: bytes | None = None) -> None:
        self.admin_token = admin_token or secrets.token_urlsafe(32)
        self._key = key or secrets.token_bytes(32)
        self._static: dict[str, Identity] = {}

    def add_static(self, token: str, identity: Identity) -> None:
        """Accept an extra fixed token (e.g. one a test or the runner chose)."""
        self._static[token] = identity

    def issue(
        self,
        namespace: str,
        account: str,
        account_uid: str,
        audiences: list[str] | None = None,
        seconds: int = 3600,
        pod: dict[str, Any] | None = None,
    ) -> tuple[str, int]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": f"system:serviceaccount:{namespace}:{account}",
            "aud": audiences or [ISSUER],
            "iat": now,
            "nbf": now,
            "exp": now + seconds,
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": account, "uid": account_uid},
            },
        }
        if pod:
            claims["kubernetes.io"]["pod"] = {"name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "sandbox"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}", now + seconds

    def claims(self, token: str) -> dict[str, Any] | None:
        """Signature- and expiry-checked claims of a ServiceAccount token, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = _b64(hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        if claims.get("exp", 0) < time.time():
            return None
        return claims

    def identify(self, token: str, lookup: Any) -> Identity | None:
        """The identity behind a token. `lookup(plural, namespace, name)` reads live objects."""
        if hmac.compare_digest(token, self.admin_token):
            return Identity(username="sandbox-admin", groups=["system:masters", "system:authenticated"])
        if token in self._static:
            return self._static[token]
        claims = self.claims(token)
        if claims is None:
            return None
        info = claims.get("kubernetes.io") or {}
        namespace, account = info.get("namespace", ""), (info.get("serviceaccount") or {})
        live = lookup("serviceaccounts", namespace, account.get("name", ""))
        if live is None or live["metadata"].get("uid") != account.get("uid"):
            return None
        pod = info.get("pod") or {}
        if pod:
            live_pod = lookup("pods", namespace, pod.get("name", ""))
            if live_pod is None or live_pod["metadata"].get("uid") != pod.get("uid"):
                return None
        return Identity(
            username=claims["sub"],
            uid=account.get("uid", ""),
            groups=["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
            namespace=namespace,
            service_account=account.get("name", ""),
            pod_name=pod.get("name", ""),
            pod_uid=pod.get("uid", ""),
        )

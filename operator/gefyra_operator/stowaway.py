"""Talking to Stowaway: its API token (a Secret only the Operator reads, made here), the typed client, and the
address Carriers proxy to (the Stowaway Pod's IP: its proxy ports are dynamic, no Service lists them)."""

from __future__ import annotations

import base64
import secrets

from pydantic import SecretStr

from gefyra.cluster import names
from gefyra.stowaway.client import StowawayClient, StowawayError
from gefyra_operator import kube
from gefyra_operator.reconcile import is_terminating
from gefyra_operator.settings import Settings

__all__ = ["StowawayError", "client", "ensure_token", "pod_ip"]


def _read_token(namespace: str) -> SecretStr | None:
    secret = kube.get(kube.core(namespace, "secrets", names.STOWAWAY_TOKEN))
    raw = ((secret or {}).get("data") or {}).get("token")
    return SecretStr(base64.b64decode(raw).decode()) if raw else None


def ensure_token(namespace: str) -> SecretStr:
    """The control API's token; made once (random, 256 bits) when the Secret does not exist yet. Stowaway's
    Pod mounts the Secret and waits for it; nobody else needs it."""
    token = _read_token(namespace)
    if token is not None:
        return token
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": names.STOWAWAY_TOKEN,
            "namespace": namespace,
            "labels": names.labels("stowaway"),
        },
        "stringData": {"token": secrets.token_urlsafe(32)},
    }
    try:
        kube.create(kube.core(namespace, "secrets"), body)
    except kube.KubeError as error:
        if error.status != 409:  # another Operator start made it first: use theirs
            raise
    token = _read_token(namespace)
    if token is None:
        raise kube.KubeError(f"Secret {namespace}/{names.STOWAWAY_TOKEN} has no token")
    return token


def client(settings: Settings) -> StowawayClient:
    return StowawayClient(settings.stowaway_api, ensure_token(settings.namespace), timeout=10.0)


def pod_ip(namespace: str) -> str | None:
    """The running Stowaway Pod's IP (None while there is none)."""
    for pod in kube.items(kube.core(namespace, "pods"), labelSelector=names.selector("stowaway")):
        status = pod.get("status") or {}
        if status.get("phase") == "Running" and status.get("podIP") and not is_terminating(pod):
            return str(status["podIP"])
    return None

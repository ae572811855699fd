"""Write a kubeconfig for the sandbox: one cluster, one user with a bearer token, one current context."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

CONTEXT = "gefyra-sandbox"


def write_kubeconfig(
    path: Path, server: str, token: str, ca_pem: str | None, namespace: str = "default"
) -> Path:
    """JSON is valid YAML, so kubectl, the official client and kopf all read this file."""
    cluster: dict[str, object] = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [
            {"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle, indent=2)
    return path

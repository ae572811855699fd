"""The runner's only way to the API server: the official `kubernetes` client over HTTP, answers as plain
dicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Obj = dict[str, Any]
MERGE = "application/merge-patch+json"


class Kube:
    """Typed client APIs from one kubeconfig; `call` returns the JSON body or raises ApiException."""

    def __init__(self, kubeconfig: Path) -> None:
        # Build the client from the file, not from $KUBECONFIG (read once, at import time: a trap).
        from kubernetes import client, config

        self.api_client = config.new_client_from_config(config_file=str(kubeconfig))
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)
        self.batch = client.BatchV1Api(self.api_client)

    def call(self, fn, *args: Any, **kwargs: Any) -> Obj:
        from kubernetes.client.rest import ApiException

        response = fn(*args, _preload_content=False, _request_timeout=30, **kwargs)
        status = getattr(response, "status", 200)
        data = response.data
        if not 200 <= status <= 299:
            error = ApiException(status=status, reason=getattr(response, "reason", ""))
            error.body = data.decode(errors="replace") if isinstance(data, bytes) else data
            raise error
        return json.loads(data) if data else {}

    def close(self) -> None:
        self.api_client.close()


def status_code(error: Exception) -> int:
    return int(getattr(error, "status", 0) or 0)

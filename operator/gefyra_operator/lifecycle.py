"""Start and stop of the Operator process: kopf's settings, the Carrier config server, the janitor."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import kopf

from gefyra.cluster import names
from gefyra_operator import carrier, janitor, stowaway
from gefyra_operator.settings import Settings


def configure(kopf_settings: kopf.OperatorSettings) -> None:
    """Keep kopf's bookkeeping under gefyra.dev (annotations, not status: the status schema is strict)."""
    kopf_settings.persistence.finalizer = names.FINALIZER
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="gefyra.dev")
    kopf_settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="gefyra.dev", key="last-handled-configuration"
    )
    kopf_settings.posting.level = logging.WARNING
    kopf_settings.watching.server_timeout = 60
    kopf_settings.execution.max_workers = 8


def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a Pod: its service account; elsewhere (tests, a laptop): $KUBECONFIG, read now (not at import)."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return kopf.login_with_service_account(**kwargs)
    return kopf.login_with_kubeconfig(**kwargs)


async def start(settings: Settings, memo: Any) -> None:
    memo.server = await carrier.start_server(settings)
    await asyncio.to_thread(stowaway.ensure_secrets, settings.namespace)
    memo.janitor = asyncio.create_task(janitor.run(settings))


async def stop(memo: Any) -> None:
    task = getattr(memo, "janitor", None)
    if task is not None:
        task.cancel()
    server = getattr(memo, "server", None)
    if server is not None:
        await server.cleanup()

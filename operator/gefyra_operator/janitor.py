"""Housekeeping no single object triggers: bridges whose client is gone are deleted (their Pods restored);
when no client is left and gefyra made the install, everything of gefyra is removed, the Operator last.

Restart-safe: whether gefyra made the install and whether a client ever existed are namespace annotations.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gefyra.cluster import names, rbac
from gefyra_operator import kube, reconcile
from gefyra_operator.settings import Settings

log = logging.getLogger(__name__)
Obj = dict[str, Any]


def sweep(settings: Settings) -> str:
    """One round; returns what it did ("idle", "orphans", "waiting", "uninstalled")."""
    ns = settings.namespace
    clients = {c["metadata"]["name"] for c in kube.items(kube.custom(ns, names.CLIENT_PLURAL))}
    bridges = kube.items(kube.custom(ns, names.BRIDGE_PLURAL))
    orphans = [b for b in bridges if (b.get("spec") or {}).get("client") not in clients]
    for bridge in orphans:
        if not reconcile.is_terminating(bridge):
            log.info("bridge %s: its client is gone; removing it", bridge["metadata"]["name"])
            kube.delete(kube.custom(ns, names.BRIDGE_PLURAL, bridge["metadata"]["name"]))
    if clients:
        return "orphans" if orphans else "idle"
    annotations = ((kube.get(f"/api/v1/namespaces/{ns}") or {}).get("metadata") or {}).get(
        "annotations"
    ) or {}
    if annotations.get(names.INSTALLED_BY) != "gefyra" or annotations.get(names.HAD_CLIENTS) != "true":
        return "idle"
    if bridges:
        return "waiting"  # their delete handlers restore Pods first
    uninstall(ns)
    return "uninstalled"


def uninstall(namespace: str) -> None:
    """Remove gefyra from the cluster. The namespace (with the Operator) and the ClusterRole go last: the
    Operator needs its rights until the very end."""
    log.info("no client left: removing gefyra from the cluster")
    selector = names.selector()
    for plural in ("deployments",):
        for item in kube.items(kube.apps(namespace, plural), labelSelector=names.selector("stowaway")):
            kube.delete(kube.apps(namespace, plural, item["metadata"]["name"]))
    for plural in ("services", "secrets", "serviceaccounts"):
        for item in kube.items(kube.core(namespace, plural), labelSelector=selector):
            if (item["metadata"].get("labels") or {}).get(names.COMPONENT) != "operator":
                kube.delete(kube.core(namespace, plural, item["metadata"]["name"]))
    for crd in rbac.crd_names():
        kube.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")
    kube.delete(f"/api/v1/namespaces/{namespace}")
    kube.delete(f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{names.OPERATOR}")
    kube.delete(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{names.OPERATOR}")


async def run(settings: Settings) -> None:
    """Sweep every reap interval until cancelled; an error is logged and the next round tries again."""
    while True:
        await asyncio.sleep(settings.reap_interval)
        try:
            if await asyncio.to_thread(sweep, settings) == "uninstalled":
                return
        except kube.KubeError as error:
            log.warning("janitor: %s", error)

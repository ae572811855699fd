"""Carrier's side of the Operator: the HTTP endpoint serving each bridged Pod its nginx config, and reloads.

Carrier asks `GET /v1/carrier/<namespace>/<pod>` (its namespace and hostname) with its service-account token
as bearer when the Pod mounts one: the Operator asks the API server whose token it is (TokenReview) and serves
only the Pod's own service account. A source IP proves nothing (kube-proxy may masquerade it). The config
holds no secret (Stowaway's address and proxy ports), so a Pod without a token gets it unauthenticated.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from gefyra.cluster import bridged, names
from gefyra.cluster.crds import RoutePort
from gefyra.dataplane.render import render_carrier_nginx
from gefyra_operator import kube, reconcile, stowaway
from gefyra_operator.settings import Settings

log = logging.getLogger(__name__)
Obj = dict[str, Any]
POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name"


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def authenticate(pod: Obj, token: str | None) -> None:
    """Raise Refused unless `token` belongs to the Pod's service account (and, when bound, to this Pod)."""
    if not reconcile.token_mounted(pod):
        return
    if not token:
        raise Refused(401, "this Pod mounts a service-account token: send it as the bearer token")
    review = kube.token_review(token)
    user = review.get("user") or {}
    if not review.get("authenticated") or user.get("username") != reconcile.service_account_username(pod):
        raise Refused(403, "the token does not belong to this Pod's service account")
    bound = (user.get("extra") or {}).get(POD_NAME_EXTRA)
    if bound and pod["metadata"]["name"] not in bound:
        raise Refused(403, "the token is bound to another Pod")


def config_for(settings: Settings, namespace: str, pod_name: str, token: str | None) -> str:
    """The nginx config of a bridged Pod's Carrier."""
    pod = kube.get(kube.core(namespace, "pods", pod_name))
    if pod is None:
        raise Refused(404, f"no Pod {namespace}/{pod_name}")
    authenticate(pod, token)
    for container in pod["spec"].get("containers") or []:
        record = bridged.bridged_record(pod, container["name"])
        if record is None:
            continue
        bridge_ns, _, bridge_name = str(record.get("bridge", "")).partition("/")
        bridge = kube.get(kube.custom(bridge_ns, names.BRIDGE_PLURAL, bridge_name))
        status = (bridge or {}).get("status") or {}
        routes = [RoutePort.model_validate(r) for r in status.get("routes") or []]
        address = stowaway.pod_ip(settings.namespace)
        if not routes or address is None:
            raise Refused(503, f"bridge {record.get('bridge')} has no route yet")
        return rsync_directive([address]) + render_carrier_nginx(reconcile.carrier_ports(routes, address))
    raise Refused(404, f"Pod {namespace}/{pod_name} is not bridged")


def rsync_directive(hosts: list[str]) -> str:
    """The line of the config that sets Carrier's rsync `hosts allow` (a bridged Pod's env cannot be
    patched). Clients come through the tunnel, masqueraded by Stowaway: its Pod IP is what Carrier sees;
    which peer may pass is Stowaway's guard for the bridge."""
    return f"# carrier: rsync-hosts-allow {' '.join(hosts)}\n"


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return header[len("Bearer ") :].strip() or None


def make_app(settings: Settings) -> web.Application:
    async def config(request: web.Request) -> web.Response:
        ns, pod = request.match_info["namespace"], request.match_info["pod"]
        try:
            text = await asyncio.to_thread(config_for, settings, ns, pod, _bearer(request))
        except Refused as refused:
            log.info("carrier config for %s/%s refused: %s", ns, pod, refused)
            return web.json_response({"error": str(refused)}, status=refused.status)
        except kube.KubeError as error:
            return web.json_response({"error": str(error)}, status=502)
        return web.Response(text=text, content_type="text/plain", headers={"Cache-Control": "no-store"})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/v1/carrier/{namespace}/{pod}", config)
    return app


async def start_server(settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(make_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info("serving Carrier configs on %s:%s", settings.host, settings.port)
    return runner


def reload(pod_ips: Iterable[str | None], port: int) -> None:
    """Ask each Carrier to fetch its config again (best effort: one that misses it fetches at its restart)."""
    for ip in filter(None, pod_ips):
        request = urllib.request.Request(f"http://{ip}:{port}/reload", data=b"", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5):
                pass
        except OSError as error:
            log.warning("Carrier at %s did not reload: %s", ip, error)

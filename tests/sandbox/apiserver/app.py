"""The aiohttp application: authentication, URL routing onto the registry, and request/response encoding."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import authn, discovery, errors, protobuf
from .api import Api, present
from .errors import ApiError
from .patch import APPLY_PATCH, MERGE_PATCH, STRATEGIC_PATCH, apply_patch
from .registry import ResourceType
from .tables import table, wants_table
from .tokens import Identity, TokenAuthority
from .watch import WatchStream

log = logging.getLogger(__name__)
IDENTITY = web.RequestKey("identity", Identity)
ANONYMOUS = {"/version", "/version/", "/healthz", "/livez", "/readyz"}
PROTOBUF = "application/vnd.kubernetes.protobuf"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


@dataclass
class Target:
    """A parsed resource URL."""

    rt: ResourceType
    namespace: str | None  # None: all namespaces (or a cluster-scoped kind)
    name: str | None
    sub: str | None


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(), status=status, content_type="application/json"
    )


def paginate(objects: list[dict[str, Any]], query: Any, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """`limit` / `continue`: pages in (namespace, name) order; a token names the last key served. Unlike
    upstream, later pages show the current state, not a snapshot at the first page's resourceVersion."""

    def key(obj: dict[str, Any]) -> list[str]:
        return [obj["metadata"].get("namespace", ""), obj["metadata"]["name"]]

    objects = sorted(objects, key=key)
    if query.get("continue"):
        try:
            after = json.loads(base64.urlsafe_b64decode(query["continue"].encode()))["after"]
        except (ValueError, KeyError, TypeError):
            raise errors.bad_request("invalid continue token") from None
        objects = [o for o in objects if key(o) > after]
    try:
        limit = int(query.get("limit") or 0)
    except ValueError:
        raise errors.bad_request(f"invalid limit {query.get('limit')!r}") from None
    if 0 < limit < len(objects):
        metadata["remainingItemCount"] = len(objects) - limit
        objects = objects[:limit]
        token = json.dumps({"after": key(objects[-1])}).encode()
        metadata["continue"] = base64.urlsafe_b64encode(token).decode()
    return objects


class Handlers:
    """Routes every path through one dispatcher so URLs follow the registry as CRDs come and go."""

    def __init__(self, api: Api, tokens: TokenAuthority, address: str, bookmark_interval: float) -> None:
        self.api = api
        self.tokens = tokens
        self.address = address
        self.bookmark_interval = bookmark_interval
        # (namespace, pod, container, tail lines or None) -> text; set by a runner that has the containers
        self.log_source: Callable[[str, str, str, int | None], str] | None = None

    # --- plumbing -------------------------------------------------------------------------------------------
    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            if request.path not in ANONYMOUS:
                self._authenticate(request)
            return await handler(request)
        except ApiError as error:
            return json_response(error.status(), error.code)
        except web.HTTPException:
            raise
        except Exception as error:
            # answer a Status instead of a bare 500 page, and keep the trace in the log
            log.exception("sandbox API server failed on %s %s", request.method, request.path)
            return json_response(ApiError(500, "InternalError", f"internal error: {error}").status(), 500)

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        identity = self.tokens.identify(token, self.lookup) if token else None
        if identity is None:
            raise errors.unauthorized()
        request[IDENTITY] = identity

    def lookup(self, plural: str, ns: str, name: str) -> dict[str, Any] | None:
        return self.api.store.get(("", plural), ns, name)

    @staticmethod
    async def _body(request: web.Request) -> Any:
        content_type = request.content_type or "application/json"
        if "cbor" in content_type or "protobuf" in content_type and content_type != PROTOBUF:
            accepted = ["application/json", PROTOBUF, *PATCH_TYPES[:3]]
            raise errors.unsupported_media_type(content_type, accepted)
        raw = await request.read()
        if not raw:
            return None
        if content_type == PROTOBUF:  # kubectl >= 1.32 sends what its imperative verbs build this way
            return protobuf.decode_body(raw)
        try:
            return json.loads(raw)
        except ValueError:
            if "yaml" in content_type:
                import yaml

                return yaml.safe_load(raw)
            raise errors.bad_request("the request body is not valid JSON") from None

    def app(self) -> web.Application:
        application = web.Application(middlewares=[self.middleware], client_max_size=64 * 1024 * 1024)
        application.router.add_route("*", "/{tail:.*}", self.dispatch)
        return application

    # --- dispatch -------------------------------------------------------------------------------------------
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "GET":
            answer = self._discovery(parts)
            if answer is not None:
                return answer
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        watch_path = rest[:1] == ["watch"]
        target = self._target(group, version, rest[1:] if watch_path else rest)
        return await self._serve(request, target, watch_path)

    def _discovery(self, parts: list[str]) -> web.Response | None:
        registry = self.api.registry
        if parts in (["version"],):
            return json_response(discovery.VERSION)
        if parts and parts[0] in ("healthz", "livez", "readyz"):
            return web.Response(text="ok")
        if parts == ["api"]:
            return json_response(discovery.api_versions(self.address))
        if parts == ["apis"]:
            return json_response(discovery.group_list(registry))
        if parts == ["api", "v1"]:
            return json_response(discovery.resource_list(registry, "", "v1"))
        if len(parts) == 2 and parts[0] == "apis":
            body = discovery.group(registry, parts[1])
            if body is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return json_response(body)
        if len(parts) == 3 and parts[0] == "apis":
            if not registry.has_group_version(parts[1], parts[2]):
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return json_response(discovery.resource_list(registry, parts[1], parts[2]))
        return None

    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        def lookup(plural: str) -> ResourceType:
            rt = self.api.registry.get(group, version, plural)
            if rt is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return rt

        if (
            rest
            and rest[0] == "namespaces"
            and len(rest) >= 3
            and not (len(rest) == 3 and rest[2] in ("status", "finalize"))
        ):
            rt = lookup(rest[2])
            if not rt.namespaced or len(rest) > 5:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return Target(rt, rest[1], rest[3] if len(rest) > 3 else None, rest[4] if len(rest) > 4 else None)
        if not rest or len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        rt = lookup(rest[0])
        if rt.namespaced and len(rest) > 1:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return Target(rt, None, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)

    async def _serve(self, request: web.Request, t: Target, watch_path: bool) -> web.StreamResponse:
        method, query = request.method, request.rel_url.query
        if t.sub is not None and t.sub not in t.rt.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if t.name is None:
            if method == "GET":
                if watch_path or query.get("watch") in ("true", "1"):
                    stream = WatchStream(
                        self.api,
                        t.rt,
                        t.namespace,
                        query,
                        request.headers.get("Accept", ""),
                        self.bookmark_interval,
                    )
                    return await stream.run(request)
                return self._list(request, t)
            if method == "POST":
                return await self._create(request, t)
            if method == "DELETE":
                return await self._delete_collection(request, t)
            raise errors.method_not_allowed()
        if method == "GET":
            obj = self.api.get(t.rt, t.namespace or "", t.name)
            if t.sub == "log":
                return await self._log(request, obj)
            if t.sub == "scale":
                return json_response(self.api.scale_of(t.rt, obj))
            return self._object(request, t.rt, obj)
        if method == "POST":
            return await self._post_sub(request, t)
        if method == "PUT":
            return await self._put(request, t)
        if method == "PATCH":
            return await self._patch(request, t)
        if method == "DELETE":
            return await self._delete(request, t)
        raise errors.method_not_allowed()

    async def _log(self, request: web.Request, pod: dict[str, Any]) -> web.Response:
        """`pods/log` from the runner's log source (a blocking call, so off the event loop)."""
        if self.log_source is None:
            raise errors.bad_request("pod logs are not available: no runner attached to this API server")
        query = request.rel_url.query
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        container = query.get("container") or (containers[0] if len(containers) == 1 else None)
        if container is None:
            raise errors.bad_request(
                f"a container name must be specified for pod {pod['metadata']['name']}, "
                f"choose one of: {containers}"
            )
        tail = int(query["tailLines"]) if query.get("tailLines") else None
        source = self.log_source
        text = await asyncio.get_running_loop().run_in_executor(
            None, lambda: source(pod["metadata"]["namespace"], pod["metadata"]["name"], container, tail)
        )
        return web.Response(text=text, content_type="text/plain")

    # --- verbs ----------------------------------------------------------------------------------------------
    def _object(
        self, request: web.Request, rt: ResourceType, obj: dict[str, Any], status: int = 200
    ) -> web.Response:
        if wants_table(request.headers.get("Accept", "")):
            include = request.rel_url.query.get("includeObject", "Metadata")
            return json_response(
                table(rt, [present(rt, obj)], obj["metadata"]["resourceVersion"], include), status
            )
        return json_response(present(rt, obj), status)

    def _list(self, request: web.Request, t: Target) -> web.Response:
        query = request.rel_url.query
        objects = self.api.list(t.rt, t.namespace, query.get("labelSelector"), query.get("fieldSelector"))
        metadata: dict[str, Any] = {"resourceVersion": str(self.api.store.rv)}
        objects = paginate(objects, query, metadata)
        items = [present(t.rt, o) for o in objects]
        if wants_table(request.headers.get("Accept", "")):
            answer = table(t.rt, items, metadata["resourceVersion"], query.get("includeObject", "Metadata"))
            answer["metadata"] = metadata
            return json_response(answer)
        return json_response(
            {"kind": t.rt.list_kind, "apiVersion": t.rt.api_version, "metadata": metadata, "items": items}
        )

    @staticmethod
    def _dry_run(request: web.Request) -> bool:
        return bool(request.rel_url.query.getall("dryRun", []))

    async def _create(self, request: web.Request, t: Target) -> web.Response:
        body = await self._body(request)
        if t.rt.key in authn.REVIEWS:
            return json_response(
                authn.review(t.rt.key, body, request[IDENTITY], self.tokens, self.lookup), 201
            )
        obj = self.api.create(t.rt, t.namespace or "", body, self._dry_run(request))
        return self._object(request, t.rt, obj, 201)

    async def _put(self, request: web.Request, t: Target) -> web.Response:
        body = await self._body(request)
        assert t.name is not None
        if t.sub == "scale":
            obj = self.api.write_scale(t.rt, t.namespace or "", t.name, body or {})
            return json_response(self.api.scale_of(t.rt, obj))
        obj = self.api.replace(t.rt, t.namespace or "", t.name, body, t.sub, self._dry_run(request))
        return self._object(request, t.rt, obj)

    async def _patch(self, request: web.Request, t: Target) -> web.Response:
        body = await self._body(request)
        assert t.name is not None
        content_type = request.content_type
        if t.sub == "scale":
            current = self.api.scale_of(t.rt, self.api.get(t.rt, t.namespace or "", t.name))
            obj = self.api.write_scale(
                t.rt, t.namespace or "", t.name, apply_patch(current, body, content_type, False)
            )
            return json_response(self.api.scale_of(t.rt, obj))
        if content_type == APPLY_PATCH and t.sub is None:
            return self._server_side_apply(request, t, body)
        obj = self.api.patch(
            t.rt, t.namespace or "", t.name, body, content_type, t.sub, self._dry_run(request)
        )
        return self._object(request, t.rt, obj)

    def _server_side_apply(self, request: web.Request, t: Target, body: Any) -> web.Response:
        """An approximation of server-side apply: create, or merge the applied fields (no field ownership)."""
        assert t.name is not None
        if not request.rel_url.query.get("fieldManager"):
            raise errors.bad_request("PATCH requests with apply content type require a fieldManager")
        if not isinstance(body, dict):
            raise errors.bad_request("an apply patch must be an object")
        ns, dry_run = t.namespace or "", self._dry_run(request)
        if self.api.store.get(t.rt.key, ns if t.rt.namespaced else "", t.name) is None:
            body.setdefault("metadata", {}).setdefault("name", t.name)
            return self._object(request, t.rt, self.api.create(t.rt, ns, body, dry_run), 201)
        merge_type = MERGE_PATCH if t.rt.custom else STRATEGIC_PATCH
        return self._object(request, t.rt, self.api.patch(t.rt, ns, t.name, body, merge_type, None, dry_run))

    def _delete_options(self, request: web.Request, body: Any) -> dict[str, Any]:
        options = dict(body) if isinstance(body, dict) else {}
        query = request.rel_url.query
        if "propagationPolicy" in query:
            options["propagationPolicy"] = query["propagationPolicy"]
        if "gracePeriodSeconds" in query:
            options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
        if query.get("orphanDependents") == "true":
            options["orphanDependents"] = True
        return options

    async def _delete(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        options = self._delete_options(request, await self._body(request))
        answer = self.api.delete(t.rt, t.namespace or "", t.name, options, self._dry_run(request))
        return json_response(answer)

    async def _delete_collection(self, request: web.Request, t: Target) -> web.Response:
        options = self._delete_options(request, await self._body(request))
        query = request.rel_url.query
        for obj in self.api.list(t.rt, t.namespace, query.get("labelSelector"), query.get("fieldSelector")):
            md = obj["metadata"]
            try:
                self.api.delete(t.rt, md.get("namespace", ""), md["name"], options, self._dry_run(request))
            except ApiError as error:
                if error.code != 404:
                    raise
        return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})

    async def _post_sub(self, request: web.Request, t: Target) -> web.Response:
        body = await self._body(request) or {}
        assert t.name is not None
        if t.sub == "token":
            return json_response(
                authn.token_request(self.api, self.tokens, t.namespace or "", t.name, body), 201
            )
        if t.sub == "binding":
            pod = self.api.get(t.rt, t.namespace or "", t.name)
            node = (body.get("target") or {}).get("name")
            if not node:
                raise errors.invalid("Binding", t.name, "target.name: Required value")
            if (pod.get("spec") or {}).get("nodeName"):
                raise errors.conflict("pods", t.name, "", f"pod {t.name} is already assigned to a node")
            patched = self.api.patch(
                t.rt, t.namespace or "", t.name, {"spec": {"nodeName": node}}, "application/merge-patch+json"
            )
            del patched
            return json_response(
                {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201
            )
        raise errors.method_not_allowed()

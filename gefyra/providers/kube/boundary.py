"""The one boundary to a Kubernetes API server: typed REST calls through the official client's ApiClient.

Every call goes through `Kube` and every error is translated here, once, into gefyra.providers.errors:
404 -> NotFound (the only answer that means "missing"), 409 -> Conflict, 401/403 -> EnginePermission,
no answer -> EngineUnavailable, anything else -> EngineFailure. `kubernetes` is imported only when a
connection is made, so a project without `cluster:` never imports it.

Config: `kubernetes` reads KUBECONFIG when it is imported, so the file is resolved here at call time
(cluster.kubeconfig, else $KUBECONFIG, else ~/.kube/config) and passed explicitly, with cluster.context.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gefyra.errors import ProviderError
from gefyra.providers.errors import EngineError, EngineUnavailable, NotFound, from_status

Json = dict[str, JsonValue]
PatchType = Literal["merge", "strategic", "json"]
_PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}
_TIMEOUT_S = 30


@dataclass(frozen=True)
class ApiType:
    """Where objects of one kind live in the REST API."""

    api_version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None, name: str | None = None, sub: str | None = None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


# Every kind gefyra reads or writes (the install manifests, its custom resources, Pods and workloads).
TYPES: dict[str, ApiType] = {
    "Namespace": ApiType("v1", "namespaces", namespaced=False),
    "Node": ApiType("v1", "nodes", namespaced=False),
    "Pod": ApiType("v1", "pods"),
    "Service": ApiType("v1", "services"),
    "ServiceAccount": ApiType("v1", "serviceaccounts"),
    "Secret": ApiType("v1", "secrets"),
    "ConfigMap": ApiType("v1", "configmaps"),
    "Deployment": ApiType("apps/v1", "deployments"),
    "StatefulSet": ApiType("apps/v1", "statefulsets"),
    "ReplicaSet": ApiType("apps/v1", "replicasets"),
    "Role": ApiType("rbac.authorization.k8s.io/v1", "roles"),
    "RoleBinding": ApiType("rbac.authorization.k8s.io/v1", "rolebindings"),
    "ClusterRole": ApiType("rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
    "ClusterRoleBinding": ApiType("rbac.authorization.k8s.io/v1", "clusterrolebindings", namespaced=False),
    "CustomResourceDefinition": ApiType(
        "apiextensions.k8s.io/v1", "customresourcedefinitions", namespaced=False
    ),
    "GefyraClient": ApiType("gefyra.dev/v1", "gefyraclients"),
    "GefyraBridge": ApiType("gefyra.dev/v1", "gefyrabridges"),
    "SelfSubjectAccessReview": ApiType(
        "authorization.k8s.io/v1", "selfsubjectaccessreviews", namespaced=False
    ),
}


def api_type(kind: str) -> ApiType:
    try:
        return TYPES[kind]
    except KeyError:
        raise ProviderError(f"gefyra does not handle Kubernetes kind {kind!r}") from None


class Meta(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = Field("", alias="resourceVersion")
    generation: int = 0
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    finalizers: list[str] = []
    deletion_timestamp: str | None = Field(None, alias="deletionTimestamp")
    creation_timestamp: str | None = Field(None, alias="creationTimestamp")


class KubeObject(BaseModel):
    """One object as the API server returned it (the parts gefyra reads; `spec`/`status`/`data` as JSON)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    kind: str = ""
    metadata: Meta = Meta()
    spec: Json = {}
    status: Json = {}
    data: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self.metadata.name


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED | BOOKMARK | ERROR
    object: KubeObject


@dataclass(frozen=True)
class ClusterRef:
    """Which cluster: a kubeconfig file and a context (None: its current context)."""

    kubeconfig: str
    context: str | None = None

    @classmethod
    def resolve(cls, kubeconfig: Path | str | None, context: str | None) -> ClusterRef:
        """cluster.kubeconfig, else $KUBECONFIG (read now, not at import), else ~/.kube/config."""
        path = str(kubeconfig) if kubeconfig else os.environ.get("KUBECONFIG", "").strip()
        return cls(path or str(Path.home() / ".kube" / "config"), context)

    def __str__(self) -> str:
        return self.kubeconfig + (f" (context {self.context})" if self.context else "")


def _translate(error: BaseException, what: str, where: str) -> EngineError:
    from kubernetes.client.exceptions import ApiException

    if isinstance(error, ApiException) and error.status:
        message = _reason(error.body) or error.reason or ""
        return from_status(error.status, f"{what}: {error.status} {message}".strip())
    return EngineUnavailable(
        f"{what}: the Kubernetes API at {where} does not answer ({type(error).__name__}: {error})",
        hint="is the cluster running? check cluster.kubeconfig / cluster.context in gefyra.yaml",
    )


def _reason(body: object) -> str:
    try:
        payload = json.loads(body) if isinstance(body, (str, bytes)) else None
    except ValueError:
        return str(body)[:200]
    return str(payload.get("message", "")) if isinstance(payload, dict) else ""


def _open() -> None:
    """The gate of a client nobody gates: every call may start."""


class Kube:
    """Typed calls on one API server. Build it with `Kube.connect(ref)`."""

    def __init__(self, api: object, ref: ClusterRef) -> None:
        self._api: Any = cast(Any, api)  # the official client is untyped; it never leaves this class
        self.ref = ref
        self.host = str(self._api.configuration.host)
        self._before: Callable[[], None] = _open

    def gated(self, check: Callable[[], None]) -> Kube:
        """This client (same connection) whose every call first calls `check`, which raises to refuse it: the
        executor's gate for steps it abandoned (gefyra/apply/gate.py)."""
        clone = copy.copy(self)
        clone._before = check
        return clone

    @classmethod
    def connect(cls, ref: ClusterRef) -> Kube:
        """A client for `ref`; a clear ProviderError when the kubeconfig or context cannot be used."""
        if not Path(ref.kubeconfig.split(os.pathsep)[0]).expanduser().is_file():
            raise ProviderError(
                f"kubeconfig {ref.kubeconfig} does not exist",
                hint="set cluster.kubeconfig in gefyra.yaml or KUBECONFIG",
            )
        config: Any = importlib.import_module("kubernetes.config")
        try:
            api = config.new_client_from_config(
                config_file=ref.kubeconfig, context=ref.context, persist_config=False
            )
        except (config.ConfigException, ValueError, OSError) as error:
            raise ProviderError(f"cannot use kubeconfig {ref}: {error}") from None
        return cls(api, ref)

    def close(self) -> None:
        self._api.close()

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        self._before()
        try:
            yield
        except EngineError:
            raise
        except Exception as error:  # noqa: BLE001 - the one place client errors become ours
            raise _translate(error, what, self.host) from None

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: object = None,
        content_type: str = "application/json",
        timeout: float = _TIMEOUT_S,
    ) -> Json:
        what = f"{method} {path}"
        with self._call(what):
            request = self._api.param_serialize(
                method,
                path,
                query_params=list((query or {}).items()),
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
            )
            response: Any = self._api.call_api(*request, _request_timeout=timeout)
            raw = response.read()
        if not 200 <= response.status <= 299:
            raise from_status(response.status, f"{what}: {response.status} {_reason(raw)}".strip())
        payload = json.loads(raw) if raw else {}
        return payload if isinstance(payload, dict) else {}

    # ---- reads -----------------------------------------------------------------------------------------
    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject:
        return KubeObject.model_validate(self._request("GET", api_type(kind).path(namespace, name)))

    def find(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None:
        """The object, or None when the server says 404 (any other error is raised)."""
        try:
            return self.get(kind, name, namespace)
        except NotFound:
            return None

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        labels: str | None = None,
        fields: str | None = None,
    ) -> list[KubeObject]:
        """Objects of `kind` (in `namespace`, or in every namespace when None) matching the selectors."""
        query = {k: v for k, v in (("labelSelector", labels), ("fieldSelector", fields)) if v}
        found = self._request("GET", api_type(kind).path(namespace), query=query)
        items = found.get("items")
        return [KubeObject.model_validate(item) for item in items] if isinstance(items, list) else []

    def list_version(self, kind: str, namespace: str | None = None, *, fields: str | None = None) -> str:
        """The list's resourceVersion (to watch from)."""
        query = {"fieldSelector": fields} if fields else {}
        found = self._request("GET", api_type(kind).path(namespace), query={**query, "limit": "1"})
        meta = found.get("metadata")
        return str(meta.get("resourceVersion", "")) if isinstance(meta, dict) else ""

    # ---- writes ----------------------------------------------------------------------------------------
    def create(self, manifest: Mapping[str, object]) -> KubeObject:
        kind, namespace, _ = _identity(manifest)
        path = api_type(kind).path(namespace)
        return KubeObject.model_validate(self._request("POST", path, body=dict(manifest)))

    def patch(
        self,
        kind: str,
        name: str,
        body: object,
        namespace: str | None = None,
        *,
        how: PatchType = "merge",
        sub: str | None = None,
    ) -> KubeObject:
        path = api_type(kind).path(namespace, name, sub)
        payload = self._request("PATCH", path, body=body, content_type=_PATCH_TYPES[how])
        return KubeObject.model_validate(payload)

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete (background propagation); False when it was already gone."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        try:
            self._request("DELETE", api_type(kind).path(namespace, name), body=body)
        except NotFound:
            return False
        return True

    def apply(self, manifest: Mapping[str, object]) -> KubeObject:
        """Create, or merge-patch the existing object to the manifest (no server-side apply needed)."""
        kind, namespace, name = _identity(manifest)
        try:
            return self.create(manifest)
        except EngineError as error:
            if error.status != 409:
                raise
        return self.patch(kind, name, dict(manifest), namespace)

    def server_version(self) -> str:
        """The API server's version (`GET /version`: `v1.30.2`; "" when it names none)."""
        answer = self._request("GET", "/version")
        return str(answer.get("gitVersion") or "")

    def review_access(self, verb: str, resource: str, group: str = "", namespace: str = "") -> bool:
        """SelfSubjectAccessReview: may the current user do `verb` on `resource`?"""
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "verb": verb,
                    "resource": resource,
                    "group": group,
                    "namespace": namespace,
                }
            },
        }
        answer = self._request("POST", api_type("SelfSubjectAccessReview").path(None), body=body)
        status = answer.get("status")
        return isinstance(status, dict) and status.get("allowed") is True

    # ---- watch -----------------------------------------------------------------------------------------
    def watch(
        self,
        kind: str,
        namespace: str | None,
        *,
        fields: str | None = None,
        resource_version: str = "",
        timeout_s: float = 30,
    ) -> Iterator[WatchEvent]:
        """Events of `kind` from `resource_version` until the server ends the watch after `timeout_s`."""
        iter_resp_lines: Any = importlib.import_module("kubernetes.watch.watch").iter_resp_lines
        query = {"watch": "true", "timeoutSeconds": str(max(1, int(timeout_s)))}
        if fields:
            query["fieldSelector"] = fields
        if resource_version:
            query["resourceVersion"] = resource_version
        path = api_type(kind).path(namespace)
        with self._call(f"watch {path}"):
            request = self._api.param_serialize(
                "GET", path, query_params=list(query.items()), auth_settings=["BearerToken"]
            )
            response: Any = self._api.call_api(*request, _request_timeout=(10, timeout_s + 10))
            if response.status != 200:
                raw = response.read()
                raise from_status(response.status, f"watch {path}: {_reason(raw)}")
            try:
                for line in iter_resp_lines(response.response):
                    if line:
                        event = json.loads(line)
                        obj = event.get("object") if isinstance(event, dict) else None
                        yield WatchEvent(str(event.get("type", "")), KubeObject.model_validate(obj or {}))
            finally:
                response.response.release_conn()


def _identity(manifest: Mapping[str, object]) -> tuple[str, str | None, str]:
    meta = manifest.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise ProviderError(f"a {manifest.get('kind')} manifest without metadata.name")
    namespace = meta.get("namespace")
    return str(manifest.get("kind")), namespace if isinstance(namespace, str) else None, meta["name"]

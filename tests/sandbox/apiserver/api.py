"""The object lifecycle: create, read, replace, patch and delete with the semantics the real server has."""

from __future__ import annotations

import copy
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from . import crds, errors, scale
from .defaults import Defaulter, validate_name
from .errors import ApiError
from .patch import apply_patch
from .registry import DELETE_RETURNS_OBJECT, Registry, ResourceType
from .selection import field_matcher, label_matcher
from .store import Store

PROTECTED_NAMESPACES = {"default", "kube-system", "kube-public"}
PROTECTED_METADATA = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "namespace",
    "name",
    "generation",
)
# Built-in kinds whose status a create resets (the status subresource owns it).
RESET_STATUS = {
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
}
_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(_SUFFIX_CHARS) for _ in range(length))


def present(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the requested version shows it (CRD versions share storage, no conversion)."""
    return {
        "apiVersion": rt.api_version,
        "kind": rt.kind,
        **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
    }


def _spec_part(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def strip(obj: dict[str, Any]) -> dict[str, Any]:
        out = dict(obj)
        out["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
        return out

    return strip(a) == strip(b)


def validate_owner_references(rt: ResourceType, obj: dict[str, Any]) -> None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        missing = [f for f in ("apiVersion", "kind", "name", "uid") if not ref.get(f)]
        if missing:
            message = (
                f'metadata.ownerReferences.{missing[0]}: Invalid value: "": {missing[0]} must not be empty'
            )
            raise errors.invalid(rt.kind, obj["metadata"]["name"], message)


class Api:
    """Verbs over the store; the HTTP layer only parses requests and serialises answers."""

    def __init__(self, registry: Registry, store: Store, defaulter: Defaulter) -> None:
        self.registry = registry
        self.store = store
        self.defaulter = defaulter

    # --- reads ----------------------------------------------------------------------------------------------
    def get(self, rt: ResourceType, ns: str, name: str) -> dict[str, Any]:
        obj = self.store.get(rt.key, ns if rt.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rt.plural, name, rt.group)
        return obj

    def list(
        self, rt: ResourceType, ns: str | None, labels: str | None = None, fields: str | None = None
    ) -> list[dict[str, Any]]:
        by_label, by_field = label_matcher(labels), field_matcher(fields)
        return [
            o for o in self.store.list(rt.key, ns if rt.namespaced else None) if by_label(o) and by_field(o)
        ]

    def require_namespace(self, ns: str, creating: bool = False) -> None:
        namespace = self.store.get(("", "namespaces"), "", ns)
        if namespace is None:
            raise errors.not_found("namespaces", ns)
        if creating and namespace["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f"unable to create new content in namespace {ns} because it is being terminated",
                {"name": ns, "kind": "namespaces"},
            )

    # --- create ---------------------------------------------------------------------------------------------
    def create(self, rt: ResourceType, ns: str, body: Any, dry_run: bool = False) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        obj = copy.deepcopy(body)
        if obj.get("kind") and obj["kind"] != rt.kind:
            raise errors.bad_request(
                f"the kind of the object ({obj['kind']}) does not match the resource ({rt.kind})"
            )
        md = obj.setdefault("metadata", {})
        if rt.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            md["namespace"] = ns
            self.require_namespace(ns, creating=True)
        else:
            md.pop("namespace", None)
        if not md.get("name") and md.get("generateName"):
            md["name"] = f"{md['generateName']}{random_suffix()}"
        if not md.get("name"):
            raise errors.invalid(
                rt.kind, "", "metadata.name: Required value: name or generateName is required"
            )
        validate_name(rt.kind, md["name"])
        validate_owner_references(rt, obj)
        if self.store.get(rt.key, md.get("namespace", ""), md["name"]) is not None:
            raise errors.already_exists(rt.plural, md["name"], rt.group)
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            md.pop(field, None)
        md.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        if "status" in rt.subresources and (rt.custom or rt.key in RESET_STATUS):
            obj.pop("status", None)
        if rt.key == crds.KEY:
            crds.prepare(obj)
        self.defaulter.on_write(rt.key, obj, None)
        if dry_run:
            return obj
        self.store.put(rt.key, obj, None)
        self._after_create(rt, obj)
        return obj

    def _after_create(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        if rt.key == ("", "namespaces"):
            self.seed_namespace(obj["metadata"]["name"])
        elif rt.key == crds.KEY:
            crds.register(self.registry, obj)

    def seed_namespace(self, ns: str) -> None:
        """What controllers put in every namespace: the `default` ServiceAccount and `kube-root-ca.crt`."""
        sa = self.registry.get("", "v1", "serviceaccounts")
        cm = self.registry.get("", "v1", "configmaps")
        assert sa is not None and cm is not None
        if self.store.get(sa.key, ns, "default") is None:
            self.create(sa, ns, {"metadata": {"name": "default"}})
        if self.store.get(cm.key, ns, "kube-root-ca.crt") is None:
            self.create(cm, ns, {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": self.ca_pem}})

    ca_pem = ""

    # --- CRDs -----------------------------------------------------------------------------------------------
    # --- update / patch -------------------------------------------------------------------------------------
    def replace(
        self, rt: ResourceType, ns: str, name: str, body: Any, sub: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        old = self.get(rt, ns, name)
        md = body.get("metadata") or {}
        if md.get("name") and md["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({md['name']}) does not match the name on the URL ({name})"
            )
        if rt.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if md.get("resourceVersion") and md["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rt.plural, name, rt.group)
        return self._commit(rt, old, copy.deepcopy(body), sub, dry_run)

    def patch(
        self,
        rt: ResourceType,
        ns: str,
        name: str,
        body: Any,
        content_type: str,
        sub: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        old = self.get(rt, ns, name)
        patched = apply_patch(copy.deepcopy(old), body, content_type, rt.custom)
        rv = (patched.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rt.plural, name, rt.group)
        return self._commit(rt, old, patched, sub, dry_run)

    def _commit(
        self, rt: ResourceType, old: dict[str, Any], new: dict[str, Any], sub: str | None, dry_run: bool
    ) -> dict[str, Any]:
        """The shared tail of PUT, PATCH and subresource writes: protect server-owned fields, default,
        bump generation, store (not for a no-op), and finish a deletion whose finalizers are gone."""
        new = self._protect(rt, old, new, sub)
        md, old_md = new["metadata"], old["metadata"]
        if old_md.get("deletionTimestamp"):
            if set(md.get("finalizers") or []) - set(old_md.get("finalizers") or []):
                message = "metadata.finalizers: Forbidden: no new finalizers can be added while deleting"
                raise errors.invalid(rt.kind, old_md["name"], message)
        validate_owner_references(rt, new)
        if rt.key == crds.KEY and sub is None:
            crds.prepare(new, old)
        self.defaulter.on_write(rt.key, new, old)
        if _spec_part(new) != _spec_part(old):
            md["generation"] = old_md.get("generation", 1) + 1
        if _same(new, old):
            return old  # a no-op write stores nothing and bumps no resourceVersion, as upstream
        if dry_run:
            return new
        self.store.put(rt.key, new, old)
        if rt.key == crds.KEY:
            crds.register(self.registry, new)
        if md.get("deletionTimestamp") and self._finalized(rt, new):
            self.store.remove(rt.key, new)
            self._after_delete(rt, new)
        return new

    @staticmethod
    def _protect(
        rt: ResourceType, old: dict[str, Any], new: dict[str, Any], sub: str | None
    ) -> dict[str, Any]:
        """Server-owned fields come from the stored object; a subresource write changes only its part."""
        if sub in ("status", "finalize"):
            part = "status" if sub == "status" else "spec"
            value = new.get(part)
            new = copy.deepcopy(old)
            if sub == "finalize":
                new.setdefault("spec", {})["finalizers"] = (value or {}).get("finalizers") or []
            elif value is None:
                new.pop("status", None)
            else:
                new["status"] = value
        old_md = old["metadata"]
        md = new.setdefault("metadata", {})
        if md.get("uid") and md["uid"] != old_md["uid"]:
            raise errors.conflict(rt.plural, old_md["name"], rt.group, "Precondition failed: UID mismatch")
        for field in PROTECTED_METADATA:
            if field in old_md:
                md[field] = old_md[field]
            else:
                md.pop(field, None)
        md["resourceVersion"] = old_md["resourceVersion"]
        new["apiVersion"], new["kind"] = old.get("apiVersion", rt.api_version), rt.kind
        if sub is None and "status" in rt.subresources:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        if rt.key == ("", "namespaces") and sub != "finalize":
            new.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers", [])
        return new

    @staticmethod
    def _finalized(rt: ResourceType, obj: dict[str, Any]) -> bool:
        if obj["metadata"].get("finalizers"):
            return False
        if rt.key == ("", "namespaces") and (obj.get("spec") or {}).get("finalizers"):
            return False
        return True

    # --- scale ----------------------------------------------------------------------------------------------
    def scale_of(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        return scale.scale_of(rt, obj)

    def write_scale(self, rt: ResourceType, ns: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        old = self.get(rt, ns, name)
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(rt.plural, name, rt.group)
        replicas = (body.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(
                "Scale", name, "spec.replicas: Invalid value: must be a non-negative integer"
            )
        new = copy.deepcopy(old)
        scale.set_replicas(rt, new, replicas)
        return self._commit(rt, old, new, None, False)

    # --- delete ---------------------------------------------------------------------------------------------
    def delete(
        self,
        rt: ResourceType,
        ns: str,
        name: str,
        options: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Remove now, or mark with deletionTimestamp while finalizers or a Pod's grace period hold it."""
        options = options or {}
        obj = self.get(rt, ns, name)
        self._check_deletable(rt, obj, options)
        if dry_run:
            return self._deleted_answer(rt, obj)
        policy = options.get("propagationPolicy") or (
            "Orphan" if options.get("orphanDependents") else "Background"
        )
        if policy == "Orphan":
            self._orphan(obj["metadata"]["uid"])
        new = copy.deepcopy(obj)
        md = new["metadata"]
        if policy == "Foreground" and "foregroundDeletion" not in (md.get("finalizers") or []):
            if self.dependents(md["uid"]):
                md.setdefault("finalizers", []).append("foregroundDeletion")
        grace = self._grace(rt, new, options)
        if rt.key == ("", "namespaces"):
            new.setdefault("status", {})["phase"] = "Terminating"
        if md.get("finalizers") or grace or (rt.key == ("", "namespaces") and self._has_spec_finalizers(new)):
            if not md.get("deletionTimestamp"):
                stamp = datetime.now(UTC) + timedelta(seconds=grace)
                md["deletionTimestamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
                md["deletionGracePeriodSeconds"] = grace
            return obj if _same(new, obj) else self.store.put(rt.key, new, obj)
        gone = self.store.remove(rt.key, obj)
        self._after_delete(rt, obj)
        return self._deleted_answer(rt, gone)

    @staticmethod
    def _check_deletable(rt: ResourceType, obj: dict[str, Any], options: dict[str, Any]) -> None:
        md = obj["metadata"]
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != md["uid"]:
            why = f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {md['uid']}"
            raise errors.conflict(rt.plural, md["name"], rt.group, why)
        if pre.get("resourceVersion") and pre["resourceVersion"] != md["resourceVersion"]:
            why = f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}"
            raise errors.conflict(rt.plural, md["name"], rt.group, why)
        if rt.key == ("", "namespaces") and md["name"] in PROTECTED_NAMESPACES:
            message = f'namespaces "{md["name"]}" is forbidden: this namespace may not be deleted'
            raise ApiError(403, "Forbidden", message, {"name": md["name"], "kind": "namespaces"})

    @staticmethod
    def _has_spec_finalizers(ns: dict[str, Any]) -> bool:
        return bool((ns.get("spec") or {}).get("finalizers"))

    @staticmethod
    def _grace(rt: ResourceType, pod: dict[str, Any], options: dict[str, Any]) -> int:
        """Pods bound to a node terminate gracefully: the kubelet (the runner) confirms with a grace of 0."""
        if rt.key != ("", "pods") or not (pod.get("spec") or {}).get("nodeName"):
            return 0
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        current = pod["metadata"].get("deletionGracePeriodSeconds")
        if current is not None:
            grace = min(grace, current)
        return max(int(grace), 0)

    def _deleted_answer(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        if rt.key in DELETE_RETURNS_OBJECT or obj["metadata"].get("deletionTimestamp"):
            return present(rt, obj)
        details = {"name": obj["metadata"]["name"], "kind": rt.plural, "uid": obj["metadata"]["uid"]}
        if rt.group:
            details["group"] = rt.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def _after_delete(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        if rt.key == crds.KEY:
            crds.unregister(self.registry, self.store, obj)

    def dependents(self, uid: str) -> list[tuple[tuple[str, str], dict[str, Any]]]:
        return [
            (key, o)
            for key, o in self.store.all_objects()
            if any(ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or [])
        ]

    def _orphan(self, uid: str) -> None:
        for key, dependent in self.dependents(uid):
            new = copy.deepcopy(dependent)
            refs = [r for r in new["metadata"]["ownerReferences"] if r.get("uid") != uid]
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences")
            self.store.put(key, new, dependent)

    def force_remove(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        """Remove now, whatever grace period is pending (the kubelet's final delete, the sweep)."""
        current = self.store.get(rt.key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if current is not None and current["metadata"]["uid"] == obj["metadata"]["uid"]:
            self.store.remove(rt.key, current)
            self._after_delete(rt, current)

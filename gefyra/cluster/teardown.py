"""What a client-side `down` patches when the Operator is gone (pure: objects in, patches out).

The Operator's delete handlers (restore Pods, remove peers) run behind kopf's finalizer `gefyra.dev/finalizer`
on every GefyraClient and GefyraBridge. Without an Operator, deleting them - or the namespace `gefyra`, or the
CRDs - waits for that finalizer forever. `release_patches` lists what to patch instead, in order: first every
Pod a bridge of `namespace` swapped gets its original image back (the Pod's own annotation says which), then
the finalizer goes from each custom resource (other finalizers stay; the resourceVersion makes the patch fail
with 409 when the object changed meanwhile: list again and recompute).

```python
for patch in release_patches("gefyra", clients + bridges, pods_of_every_namespace):
    api.patch(patch.path, patch.body, content_type=patch.content_type)
```
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gefyra.cluster import bridged, names

Obj = dict[str, Any]
PLURALS = {names.CLIENT_KIND: names.CLIENT_PLURAL, names.BRIDGE_KIND: names.BRIDGE_PLURAL}


class Patch(BaseModel):
    """One PATCH request: the API path, its body, and why (for the user's output)."""

    model_config = ConfigDict(frozen=True)

    path: str
    body: Obj
    kind: Literal["strategic", "merge"]
    why: str

    @property
    def content_type(self) -> str:
        return f"application/{'strategic-merge' if self.kind == 'strategic' else 'merge'}-patch+json"


def restore_pod_patches(namespace: str, pods: Iterable[Obj]) -> list[Patch]:
    """A restore patch for every container a bridge of `namespace` swapped (any Pod, any namespace)."""
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        for container, image in sorted(bridged.bridged_containers(pod).items()):
            record = bridged.bridged_record(pod, container) or {}
            if not str(record.get("bridge", "")).startswith(f"{namespace}/"):
                continue
            out.append(
                Patch(
                    path=f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                    body=bridged.restore_patch(container, image),
                    kind="strategic",
                    why=f"Pod {meta['namespace']}/{meta['name']}: container {container} back to {image}",
                )
            )
    return out


def finalizer_patches(custom_objects: Iterable[Obj]) -> list[Patch]:
    """Drop gefyra's finalizer from every GefyraClient and GefyraBridge that holds it."""
    out = []
    for obj in custom_objects:
        meta = obj.get("metadata") or {}
        finalizers = list(meta.get("finalizers") or [])
        plural = PLURALS.get(obj.get("kind", ""))
        if plural is None or names.FINALIZER not in finalizers:
            continue
        rest = [f for f in finalizers if f != names.FINALIZER]
        path = f"/apis/{names.API_VERSION}/namespaces/{meta['namespace']}/{plural}/{meta['name']}"
        body = {"metadata": {"finalizers": rest or None, "resourceVersion": meta.get("resourceVersion")}}
        why = f"{obj['kind']} {meta['namespace']}/{meta['name']}: finalizer {names.FINALIZER} removed"
        out.append(Patch(path=path, body=body, kind="merge", why=why))
    return out


def release_patches(namespace: str, custom_objects: Iterable[Obj], pods: Iterable[Obj]) -> list[Patch]:
    """Everything to patch, in order: Pods restored first, then the finalizers released."""
    return [*restore_pod_patches(namespace, pods), *finalizer_patches(custom_objects)]

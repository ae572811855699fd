"""Removing this client's cluster objects, also when the Operator is gone.

A GefyraBridge is deleted and the Operator restores its Pods; when no Operator runs (or it does not finish in
time) the client restores each Pod itself from the Pod's `bridge.gefyra.dev/<container>` annotation (the same
one patch the Operator makes) and removes the finalizers, so nothing is left waiting for an Operator.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from gefyra.cluster import names
from gefyra.providers.errors import Conflict, EngineError, NotFound
from gefyra.providers.kube.boundary import Kube, KubeObject
from gefyra.providers.kube.waiting import wait_object

Log = Callable[[str], None]
OPERATOR_GRACE_S = 60  # how long a running Operator gets to undo a bridge or a client


def operator_running(kube: Kube) -> bool:
    found = kube.find("Deployment", names.OPERATOR, names.NAMESPACE)
    return found is not None and int(str(found.status.get("readyReplicas") or 0)) >= 1


def _gone(obj: KubeObject | None) -> bool | None:
    return True if obj is None else None


def bridged_pods(kube: Kube, bridge: str, namespace: str | None = None) -> list[tuple[KubeObject, str, str]]:
    """(Pod, container, original image) of every Pod whose annotation names GefyraBridge `bridge`."""
    found = []
    owner = f"{names.NAMESPACE}/{bridge}"
    for pod in kube.list("Pod", namespace):
        for key, value in pod.metadata.annotations.items():
            if not key.startswith(names.BRIDGED_PREFIX):
                continue
            try:
                record = json.loads(value)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("bridge") == owner and record.get("originalImage"):
                found.append((pod, key[len(names.BRIDGED_PREFIX) :], str(record["originalImage"])))
    return found


def restore_pod(kube: Kube, pod: KubeObject, container: str, image: str) -> None:
    """The Operator's restore patch: the original image back, the annotation gone (a strategic merge)."""
    body = {
        "spec": {"containers": [{"name": container, "image": image}]},
        "metadata": {"annotations": {names.bridged_annotation(container): None}},
    }
    try:
        kube.patch("Pod", pod.name, body, pod.metadata.namespace, how="strategic")
    except NotFound:
        pass  # the Pod went away: its replacement never was bridged


def drop_finalizers(kube: Kube, kind: str, name: str) -> None:
    try:
        kube.patch(kind, name, {"metadata": {"finalizers": None}}, names.NAMESPACE)
    except NotFound:
        pass


def remove_bridge(kube: Kube, obj: KubeObject, log: Log, *, grace_s: float = OPERATOR_GRACE_S) -> None:
    """Delete the bridge; restore its Pods ourselves when the Operator does not (then drop finalizers)."""
    namespace = obj.spec.get("namespace")
    kube.delete(names.BRIDGE_KIND, obj.name, names.NAMESPACE)
    if operator_running(kube):
        try:
            wait_object(
                kube,
                names.BRIDGE_KIND,
                obj.name,
                names.NAMESPACE,
                _gone,
                timeout_s=grace_s,
                what=f"the Operator to remove bridge {obj.name}",
            )
            return
        except EngineError:
            raise
        except Exception as error:  # noqa: BLE001 - timed out: restore below, then say so
            log(f"{error}; restoring its Pods directly")
    else:
        log(f"no Operator runs: restoring the Pods of bridge {obj.name} from their annotations")
    for pod, container, image in bridged_pods(
        kube, obj.name, namespace if isinstance(namespace, str) else None
    ):
        restore_pod(kube, pod, container, image)
        log(f"restored Pod {pod.metadata.namespace}/{pod.name} ({container}: {image})")
    drop_finalizers(kube, names.BRIDGE_KIND, obj.name)
    wait_object(
        kube,
        names.BRIDGE_KIND,
        obj.name,
        names.NAMESPACE,
        _gone,
        timeout_s=30,
        what=f"bridge {obj.name} gone",
    )


def client_exists(kube: Kube, name: str) -> bool:
    try:
        return kube.find(names.CLIENT_KIND, name, names.NAMESPACE) is not None
    except NotFound:  # no CRD: no GefyraClient either
        return False


def remove_client(kube: Kube, name: str, log: Log, *, grace_s: float = OPERATOR_GRACE_S) -> None:
    """Delete the GefyraClient (its bridges first); without an Operator also its per-client objects."""
    for bridge in kube.list(names.BRIDGE_KIND, names.NAMESPACE):
        if bridge.spec.get("client") == name:
            remove_bridge(kube, bridge, log, grace_s=grace_s)
    try:
        kube.delete(names.CLIENT_KIND, name, names.NAMESPACE)
    except Conflict:
        pass
    if operator_running(kube):
        try:
            wait_object(
                kube,
                names.CLIENT_KIND,
                name,
                names.NAMESPACE,
                _gone,
                timeout_s=grace_s,
                what=f"the Operator to remove client {name}",
            )
        except EngineError:
            raise
        except Exception as error:  # noqa: BLE001 - timed out: finish it below
            log(f"{error}; removing it directly")
    drop_finalizers(kube, names.CLIENT_KIND, name)
    wait_object(
        kube, names.CLIENT_KIND, name, names.NAMESPACE, _gone, timeout_s=30, what=f"client {name} gone"
    )
    for kind in ("Secret", "RoleBinding", "Role", "ServiceAccount"):
        for item in kube.list(kind, names.NAMESPACE, labels=f"{names.CLIENT}={name}"):
            kube.delete(kind, item.name, names.NAMESPACE)


def client_leftovers(kube: Kube, client: str, selector: str) -> list[str]:
    """What of this client still exists: its custom resources, per-client objects, Pods it bridged."""
    left: list[str] = []
    try:
        for kind in (names.CLIENT_KIND, names.BRIDGE_KIND):
            left += [f"{kind} {item.name}" for item in kube.list(kind, names.NAMESPACE, labels=selector)]
    except NotFound:
        pass  # no CRDs (any more): no custom resources either
    if kube.find("Namespace", names.NAMESPACE) is not None:
        for kind in ("Secret", "RoleBinding", "Role", "ServiceAccount"):
            items = kube.list(kind, names.NAMESPACE, labels=f"{names.CLIENT}={client}")
            left += [f"{kind} {item.name}" for item in items]
    prefix = f"{names.NAMESPACE}/{client}-"
    for pod in kube.list("Pod"):
        for key, value in pod.metadata.annotations.items():
            if key.startswith(names.BRIDGED_PREFIX) and f'"{prefix}' in value:
                left.append(f"Pod {pod.metadata.namespace}/{pod.name} (bridged: {key})")
    return left

"""A bridged Pod's record (pure): the annotation `bridge.gefyra.dev/<container>` =
`{"bridge": "<ns>/<name>", "originalImage": "<image>"}`, written in the same patch that swaps the image for
Carrier, and the patches that make and undo the swap. The Operator and a client cleaning up without it
(`gefyra.cluster.teardown`) read the same record."""

from __future__ import annotations

import json
from typing import Any

from gefyra.cluster import names

Obj = dict[str, Any]


def bridged_record(pod: Obj, container: str) -> Obj | None:
    """The annotation a bridge left on a Pod for `container` ({"bridge", "originalImage"}), if any."""
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(names.bridged_annotation(container))
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def bridged_containers(pod: Obj, bridge: str | None = None) -> dict[str, str]:
    """container -> original image, for every container of `pod` that bridge `ns/name` swapped (any bridge
    when `bridge` is None)."""
    out = {}
    for key in (pod.get("metadata") or {}).get("annotations") or {}:
        if key.startswith(names.BRIDGED_PREFIX):
            record = bridged_record(pod, key[len(names.BRIDGED_PREFIX) :])
            if not record or not isinstance(record.get("originalImage"), str):
                continue
            if bridge is None or record.get("bridge") == bridge:
                out[key[len(names.BRIDGED_PREFIX) :]] = record["originalImage"]
    return out


def current_image(pod: Obj, container: str) -> str | None:
    for item in (pod.get("spec") or {}).get("containers") or []:
        if item["name"] == container:
            image = item.get("image")
            return str(image) if image is not None else None
    return None


def bridge_patch(container: str, original_image: str, carrier_image: str, bridge: str) -> Obj:
    """One strategic-merge patch: Carrier's image for that container, and the record of the original."""
    record = json.dumps({"bridge": bridge, "originalImage": original_image}, separators=(",", ":"))
    return {
        "metadata": {"annotations": {names.bridged_annotation(container): record}},
        "spec": {"containers": [{"name": container, "image": carrier_image}]},
    }


def restore_patch(container: str, original_image: str) -> Obj:
    """Undo `bridge_patch` exactly: the original image back, the annotation gone."""
    return {
        "metadata": {"annotations": {names.bridged_annotation(container): None}},
        "spec": {"containers": [{"name": container, "image": original_image}]},
    }

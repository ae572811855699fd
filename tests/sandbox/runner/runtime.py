"""The container runtime side of the kubelet.

One infra container per Pod holds the Pod IP on the cluster network; the Pod's containers join its network
(and IPC) namespace. Docker names follow dockershim's scheme (`<prefix>_<container>_<pod>_<ns>_<uid8>_<n>`)
and every container carries labels to find it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .settings import (
    LABEL,
    LABEL_CONTAINER,
    LABEL_POD,
    LABEL_POD_UID,
    LABEL_RESTARTS,
    LABEL_ROLE,
    LABEL_SPEC_HASH,
    Settings,
)

log = logging.getLogger(__name__)

Obj = dict[str, Any]
INFRA = "POD"


def spec_hash(container: Obj) -> str:
    """Hash of a container's spec: a change (in practice the image) restarts that container in place."""
    return hashlib.sha256(json.dumps(container, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Running:
    """What the runtime knows about one container of a Pod."""

    name: str
    container: Any  # docker Container
    restarts: int
    spec_hash: str

    @property
    def state(self) -> Obj:
        return self.container.attrs["State"]


class Runtime:
    def __init__(self, client, settings: Settings, infra_image: str) -> None:
        self.client = client
        self.settings = settings
        self.infra_image = infra_image

    def _name(self, pod: Obj, container: str, restarts: int) -> str:
        meta = pod["metadata"]
        return (
            f"gsbx-{self.settings.instance}_{container}_{meta['name']}_{meta.get('namespace', 'default')}_"
            f"{meta['uid'][:8]}_{restarts}"
        )

    def _labels(
        self, pod: Obj, container: str, role: str, restarts: int = 0, digest: str = ""
    ) -> dict[str, str]:
        meta = pod["metadata"]
        return {
            **self.settings.labels,
            LABEL_ROLE: role,
            LABEL_POD_UID: meta["uid"],
            LABEL_POD: f"{meta.get('namespace', 'default')}/{meta['name']}",
            LABEL_CONTAINER: container,
            LABEL_RESTARTS: str(restarts),
            LABEL_SPEC_HASH: digest,
        }

    # --- reading --------------------------------------------------------------------------------------------
    def pod_containers(self, uid: str) -> list[Any]:
        return self.list(
            all=True, filters={"label": [f"{LABEL}={self.settings.instance}", f"{LABEL_POD_UID}={uid}"]}
        )

    def all_pod_uids(self) -> dict[str, str]:
        """uid -> "<namespace>/<name>" of every Pod that has containers."""
        found = {}
        for container in self.list(all=True, filters={"label": f"{LABEL}={self.settings.instance}"}):
            labels = container.labels
            if labels.get(LABEL_POD_UID):
                found[labels[LABEL_POD_UID]] = labels.get(LABEL_POD, "")
        return found

    def list(self, all: bool = True, filters: dict[str, Any] | None = None) -> list[Any]:
        """Inspected containers; one removed between listing and inspecting is skipped, not an error."""
        return inspected(self.client, filters or {})

    @staticmethod
    def split(containers: list[Any]) -> tuple[Any | None, dict[str, list[Running]]]:
        """(infra container, app/init containers by name, newest first)."""
        infra, apps = None, {}
        for container in containers:
            labels = container.labels
            name = labels.get(LABEL_CONTAINER, "")
            if labels.get(LABEL_ROLE) == "infra":
                infra = container
                continue
            apps.setdefault(name, []).append(
                Running(
                    name, container, int(labels.get(LABEL_RESTARTS, "0")), labels.get(LABEL_SPEC_HASH, "")
                )
            )
        for runs in apps.values():
            runs.sort(key=lambda r: r.restarts, reverse=True)
        return infra, apps

    def pod_ip(self, infra) -> str:
        networks = infra.attrs["NetworkSettings"]["Networks"]
        return (networks.get(self.settings.network_name) or {}).get("IPAddress", "")

    def logs(self, namespace: str, pod: str, container: str, tail: int | None = None) -> str:
        """Output of the newest run of a container (what `kubectl logs` shows)."""
        found = self.list(
            filters={
                "label": [
                    f"{LABEL}={self.settings.instance}",
                    f"{LABEL_POD}={namespace}/{pod}",
                    f"{LABEL_CONTAINER}={container}",
                ]
            }
        )
        runs = [c for c in found if c.labels.get(LABEL_ROLE) != "infra"]
        if not runs:
            return ""
        newest = max(runs, key=lambda c: int(c.labels.get(LABEL_RESTARTS, "0")))
        return newest.logs(tail=tail if tail is not None else "all").decode(errors="replace")

    # --- writing --------------------------------------------------------------------------------------------
    def start_infra(self, pod: Obj) -> Any:
        """Create and start the Pod's infra container; returns it reloaded (with its IP)."""
        spec = pod.get("spec") or {}
        sysctls = {s["name"]: s["value"] for s in (spec.get("securityContext") or {}).get("sysctls") or []}
        hostname = spec.get("hostname") or pod["metadata"]["name"]
        container = self.client.containers.run(
            self.infra_image,
            ["sleep", "infinity"],
            name=self._name(pod, INFRA, 0),
            detach=True,
            hostname=hostname[:63],
            network=self.settings.network_name,
            labels=self._labels(pod, INFRA, "infra"),
            sysctls=sysctls or None,
            ipc_mode="shareable",
            init=True,
        )
        container.reload()
        self._hairpin()
        return container

    def _hairpin(self) -> None:
        """Let a Pod reach itself through its own Service (kubelet's hairpin-veth mode)."""
        for port in Path(f"/sys/class/net/{self.settings.bridge}/brif").glob("*"):
            try:
                (port / "hairpin_mode").write_text("1\n")
            except OSError:
                pass

    def start_container(
        self,
        pod: Obj,
        container: Obj,
        infra,
        restarts: int,
        env: dict[str, str],
        mounts: list[Any],
        tmpfs: dict[str, str],
        digest: str,
        init: bool = False,
    ) -> Any:
        import docker.types

        security = {
            **((pod.get("spec") or {}).get("securityContext") or {}),
            **(container.get("securityContext") or {}),
        }
        user = None
        if security.get("runAsUser") is not None:
            user = str(security["runAsUser"])
            if security.get("runAsGroup") is not None:
                user += f":{security['runAsGroup']}"
        caps = security.get("capabilities") or {}
        kwargs: dict[str, Any] = {
            "name": self._name(pod, container["name"], restarts),
            "labels": self._labels(pod, container["name"], "init" if init else "container", restarts, digest),
            "environment": env,
            "network_mode": f"container:{infra.id}",
            "ipc_mode": f"container:{infra.id}",
            "mounts": [
                docker.types.Mount(target, source, type="bind", read_only=ro) for target, source, ro in mounts
            ],
            "tmpfs": tmpfs or None,
            "working_dir": container.get("workingDir"),
            "user": user,
            "privileged": bool(security.get("privileged")),
            "cap_add": caps.get("add"),
            "cap_drop": caps.get("drop"),
            "tty": bool(container.get("tty")),
            "stdin_open": bool(container.get("stdin")),
            "detach": True,
        }
        if (pod.get("spec") or {}).get("shareProcessNamespace"):
            kwargs["pid_mode"] = f"container:{infra.id}"
        if container.get("command"):
            kwargs["entrypoint"] = container["command"]
        if container.get("args"):
            kwargs["command"] = container["args"]
        created = self.client.containers.create(container["image"], **kwargs)
        created.start()
        created.reload()
        return created

    def remove(self, containers: list[Any]) -> None:
        import docker.errors

        for container in containers:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as error:
                if "already in progress" not in str(error):
                    raise


def inspected(client, filters: dict[str, Any]) -> list[Any]:
    import docker.errors

    found = []
    for summary in client.api.containers(all=True, filters=filters):
        try:
            found.append(client.containers.get(summary["Id"]))
        except docker.errors.NotFound:
            continue
    return found

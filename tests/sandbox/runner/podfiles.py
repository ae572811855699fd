"""A Pod's files on the node: volumes (see volumes.py), service-account tokens from the TokenRequest API,
resolv.conf and hosts, and the bind mounts that put them into each container.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from . import volumes
from .informer import Informer
from .kubeapi import Kube
from .podenv import ConfigError
from .settings import Settings

Obj = dict[str, Any]


class PodFiles:
    def __init__(self, settings: Settings, kube: Kube, configmaps: Informer, secrets: Informer) -> None:
        self.settings, self.kube, self.configmaps, self.secrets = settings, kube, configmaps, secrets
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    def remove(self, uid: str) -> None:
        volumes.remove_pod_dir(self.pod_dir(uid))
        for key in [k for k in self._tokens if k[0] == uid]:
            del self._tokens[key]

    # --- files --------------------------------------------------------------------------------------------
    def pod_dir(self, uid: str) -> Path:
        return self.settings.state_dir / "pods" / uid

    def _token(self, pod: Obj, projection: Obj) -> str:
        """A real token from the TokenRequest API, bound to this Pod, refreshed at 80% of its life."""
        meta = pod["metadata"]
        account = pod["spec"].get("serviceAccountName") or "default"
        cache_key = (meta["uid"], account, projection.get("audience", ""))
        cached = self._tokens.get(cache_key)
        if cached and cached[1] > time.time():
            return cached[0]
        seconds = int(projection.get("expirationSeconds", 3607))
        spec: Obj = {
            "expirationSeconds": seconds,
            "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]},
        }
        if projection.get("audience"):
            spec["audiences"] = [projection["audience"]]
        answer = self.kube.call(
            self.kube.core.create_namespaced_service_account_token,
            account,
            meta["namespace"],
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
        )
        token = answer["status"]["token"]
        self._tokens[cache_key] = (token, time.time() + seconds * 0.8)
        return token

    def prepare(self, pod: Obj, pod_ip: str, waiting: dict[str, Obj]) -> dict[str, Path | None]:
        """Materialise every volume; a missing ConfigMap/Secret makes the containers that mount it wait."""
        pod_dir = self.pod_dir(pod["metadata"]["uid"])
        claims = self.settings.state_dir / "claims" / pod["metadata"]["namespace"]
        sources: dict[str, Path | None] = {}
        write_etc_files(pod_dir, pod, pod_ip, self.settings)
        for volume in pod["spec"].get("volumes") or []:
            path = volumes.host_source(volume, pod_dir, claims)
            sources[volume["name"]] = path
            if not volumes.is_generated(volume):
                continue
            try:
                files = volumes.volume_files(
                    volume, pod, pod_ip, self.settings.gateway, self.configmap, self.secret, self._token
                )
            except ConfigError as error:
                for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]:
                    if any(m["name"] == volume["name"] for m in container.get("volumeMounts") or []):
                        waiting[container["name"]] = {
                            "reason": "ContainerCreating",
                            "message": f"MountVolume.SetUp failed: {error}",
                        }
                continue
            volumes.sync_files(path, files)
        return sources

    def configmap(self, namespace: str, name: str) -> Obj | None:
        return self.configmaps.get(namespace, name)

    def secret(self, namespace: str, name: str) -> Obj | None:
        return self.secrets.get(namespace, name)

    def mounts(
        self, pod: Obj, container: Obj, sources: dict[str, Path | None]
    ) -> tuple[list, dict[str, str]]:
        pod_dir = self.pod_dir(pod["metadata"]["uid"])
        mounts = [
            ("/etc/resolv.conf", str(pod_dir / "resolv.conf"), False),
            ("/etc/hosts", str(pod_dir / "hosts"), False),
        ]
        tmpfs: dict[str, str] = {}
        for mount in container.get("volumeMounts") or []:
            if mount["name"] not in sources:
                raise ConfigError(f'volume "{mount["name"]}" not found')
            source = sources[mount["name"]]
            if source is None:
                tmpfs[mount["mountPath"]] = ""
                continue
            if mount.get("subPath"):
                source = source / mount["subPath"]
                if not source.exists():
                    source.mkdir(parents=True, exist_ok=True)
            mounts.append((mount["mountPath"], str(source), bool(mount.get("readOnly"))))
        return mounts, tmpfs


def write_etc_files(pod_dir: Path, pod: Obj, pod_ip: str, settings: Settings) -> None:
    """The Pod's resolv.conf (ClusterFirst DNS) and hosts file, bind-mounted into every container."""
    pod_dir.mkdir(parents=True, exist_ok=True)
    namespace, domain = pod["metadata"]["namespace"], settings.cluster_domain
    spec = pod["spec"]
    dns = spec.get("dnsConfig") or {}
    servers = [settings.dns_service_ip] + list(dns.get("nameservers") or [])
    search = [f"{namespace}.svc.{domain}", f"svc.{domain}", domain] + list(dns.get("searches") or [])
    options = ["ndots:5"] + [
        o["name"] + (f":{o['value']}" if o.get("value") else "") for o in dns.get("options") or []
    ]
    if spec.get("dnsPolicy") == "None":
        servers, search = list(dns.get("nameservers") or []), list(dns.get("searches") or [])
    resolv = (
        "".join(f"nameserver {s}\n" for s in servers)
        + f"search {' '.join(search)}\noptions {' '.join(options)}\n"
    )
    hostname = spec.get("hostname") or pod["metadata"]["name"]
    hosts = (
        f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{pod_ip}\t{hostname}\n"
        + "".join(f"{h['ip']}\t{' '.join(h.get('hostnames') or [])}\n" for h in spec.get("hostAliases") or [])
    )
    for name, text in (("resolv.conf", resolv), ("hosts", hosts)):
        path = pod_dir / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)

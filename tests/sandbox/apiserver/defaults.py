"""Per-kind defaulting and validation done by a real API server on create and update."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from typing import Any

from .errors import ApiError, invalid
from .store import Store

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
LABEL_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NODE_PORTS = range(30000, 32768)
SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def validate_name(kind: str, name: str, dns_label: bool = False) -> None:
    pattern = LABEL_NAME_RE if dns_label else NAME_RE
    limit = 63 if dns_label else 253
    if not pattern.match(name) or len(name) > limit:
        raise invalid(
            kind,
            name,
            f'metadata.name: Invalid value: "{name}": a lowercase RFC 1123 '
            f"{'label' if dns_label else 'subdomain'} must consist of lower case "
            "alphanumeric characters, '-' or '.'",
        )


def pod_spec_defaults(spec: dict[str, Any]) -> None:
    """SetDefaults_PodSpec and friends: applied to Pods and to the Pod templates of workloads."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        tag = container.get("image", "").rsplit("/", 1)[-1]
        latest = (":" not in tag or tag.endswith(":latest")) and "@" not in tag
        container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")


class Defaulter:
    """Fills defaults (ClusterIPs, NodePorts, Pod fields, Secret stringData) and rejects invalid objects."""

    def __init__(self, store: Store, service_cidr: str) -> None:
        self.store = store
        self.network = ipaddress.ip_network(service_cidr)

    @property
    def kubernetes_ip(self) -> str:
        return str(self.network.network_address + 1)

    def on_write(self, key: tuple[str, str], obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        handler = {
            ("", "pods"): self._pod,
            ("", "services"): self._service,
            ("", "secrets"): self._secret,
            ("", "namespaces"): self._namespace,
            ("apps", "deployments"): self._deployment,
            ("apps", "replicasets"): self._replicated,
            ("apps", "statefulsets"): self._replicated,
            ("apps", "daemonsets"): self._template,
            ("batch", "jobs"): self._template,
        }.get(key)
        if handler:
            handler(obj, old)

    # --- core kinds -----------------------------------------------------------------------------------------
    def _namespace(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        validate_name("Namespace", obj["metadata"]["name"], dns_label=True)
        if old is None:
            finalizers = obj.setdefault("spec", {}).setdefault("finalizers", [])
            if "kubernetes" not in finalizers:
                finalizers.insert(0, "kubernetes")
        obj.setdefault("status", {}).setdefault("phase", "Active")
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]

    def _secret(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None) or {}
        if string_data:
            data = obj.get("data") or {}
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            obj["data"] = data

    def _pod(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        name = obj["metadata"]["name"]
        spec = obj.setdefault("spec", {})
        if not spec.get("containers"):
            raise invalid("Pod", name, "spec.containers: Required value")
        if old is not None:
            return
        pod_spec_defaults(spec)
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = spec["serviceAccount"] = account
        self._service_account_volume(obj)
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", "BestEffort")

    def _service_account_volume(self, pod: dict[str, Any]) -> None:
        """The ServiceAccount admission plugin: a projected token, CA and namespace volume."""
        spec = pod["spec"]
        account = (
            self.store.get(
                ("", "serviceaccounts"), pod["metadata"].get("namespace", ""), spec["serviceAccountName"]
            )
            or {}
        )
        if (
            spec.get("automountServiceAccountToken", account.get("automountServiceAccountToken", True))
            is False
        ):
            return
        containers = spec.get("initContainers", []) + spec["containers"]
        if any(m.get("mountPath") == SA_MOUNT for c in containers for m in c.get("volumeMounts") or []):
            return
        suffix = base64.b32encode(os.urandom(5)).decode().lower()[:5]
        volume_name = f"kube-api-access-{suffix}"
        spec.setdefault("volumes", []).append(
            {
                "name": volume_name,
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {
                            "configMap": {
                                "name": "kube-root-ca.crt",
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            }
                        },
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "path": "namespace",
                                        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    }
                                ]
                            }
                        },
                    ],
                },
            }
        )
        for container in containers:
            container.setdefault("volumeMounts", []).append(
                {"name": volume_name, "readOnly": True, "mountPath": SA_MOUNT}
            )

    def _service(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        name = obj["metadata"]["name"]
        validate_name("Service", name, dns_label=True)
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        old_spec = (old or {}).get("spec") or {}
        if spec["type"] == "ExternalName":
            spec.pop("clusterIP", None)
        else:
            self._cluster_ip(obj, old_spec)
        old_node_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in old_spec.get("ports") or []
            if p.get("nodePort")
        }
        wants_node_port = spec["type"] in ("NodePort", "LoadBalancer")
        taken = self._node_ports_in_use(obj)
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
            if not wants_node_port:
                port.pop("nodePort", None)
                continue
            if not port.get("nodePort"):
                port["nodePort"] = old_node_ports.get((port.get("port"), port["protocol"])) or next(
                    (p for p in NODE_PORTS if p not in taken), None
                )
            if port["nodePort"] not in NODE_PORTS:
                raise invalid(
                    "Service",
                    name,
                    f"spec.ports.nodePort: Invalid value: {port['nodePort']}: "
                    "provided port is not in the valid range 30000-32767",
                )
            if port["nodePort"] in taken:
                raise invalid(
                    "Service",
                    name,
                    f"spec.ports.nodePort: Invalid value: {port['nodePort']}: "
                    "provided port is already allocated",
                )
            taken.add(port["nodePort"])
        if spec["type"] == "LoadBalancer":
            obj.setdefault("status", {}).setdefault("loadBalancer", {})
        else:
            obj.setdefault("status", {"loadBalancer": {}})

    def _cluster_ip(self, obj: dict[str, Any], old_spec: dict[str, Any]) -> None:
        spec, name = obj["spec"], obj["metadata"]["name"]
        wanted = spec.get("clusterIP") or old_spec.get("clusterIP")
        if old_spec.get("clusterIP") and wanted != old_spec.get("clusterIP"):
            raise invalid("Service", name, "spec.clusterIP: Invalid value: field is immutable")
        if wanted != "None":
            in_use = self._cluster_ips_in_use(obj)
            if not wanted:
                wanted = next(
                    (
                        str(ip)
                        for ip in self.network.hosts()
                        if str(ip) not in in_use and str(ip) != self.kubernetes_ip
                    ),
                    None,
                )
                if wanted is None:
                    raise ApiError(500, "InternalError", "no free ClusterIP in the service range")
            elif old_spec.get("clusterIP") != wanted:
                if ipaddress.ip_address(wanted) not in self.network:
                    raise invalid(
                        "Service",
                        name,
                        f'spec.clusterIP: Invalid value: "{wanted}": provided IP is '
                        f"not in the valid range ({self.network})",
                    )
                if wanted in in_use:
                    raise invalid(
                        "Service",
                        name,
                        f'spec.clusterIP: Invalid value: "{wanted}": provided IP is already allocated',
                    )
        spec["clusterIP"] = wanted
        spec["clusterIPs"] = [wanted]
        if wanted != "None":
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")

    def _others(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        md = obj["metadata"]
        return [
            s
            for s in self.store.list(("", "services"))
            if (s["metadata"].get("namespace"), s["metadata"]["name"]) != (md.get("namespace"), md["name"])
        ]

    def _cluster_ips_in_use(self, obj: dict[str, Any]) -> set[str]:
        return {s["spec"].get("clusterIP") for s in self._others(obj)}

    def _node_ports_in_use(self, obj: dict[str, Any]) -> set[int]:
        return {
            p["nodePort"]
            for s in self._others(obj)
            for p in s["spec"].get("ports") or []
            if p.get("nodePort")
        }

    # --- apps -----------------------------------------------------------------------------------------------
    def _template(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        template = (obj.get("spec") or {}).get("template") or {}
        if isinstance(template.get("spec"), dict):
            pod_spec_defaults(template["spec"])

    def _replicated(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        name = obj["metadata"]["name"]
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        self._template(obj, old)
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not spec.get("selector"):
            raise invalid(obj.get("kind", "Deployment"), name, "spec.selector: Required value")
        if any(labels.get(k) != v for k, v in selector.items()):
            raise invalid(
                obj.get("kind", "Deployment"),
                name,
                "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`",
            )

    def _deployment(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        self._replicated(obj, old)
        spec = obj["spec"]
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy.setdefault("type", "RollingUpdate")
            strategy.setdefault("rollingUpdate", {"maxSurge": "25%", "maxUnavailable": "25%"})
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)

"""Per-kind defaulting and validation done by a real API server on create and update."""

from __future__ import annotations

import base64
import ipaddress
import os
import random
import re
from typing import Any

from .errors import ApiError, invalid
from .store import Store

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
LABEL_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NODE_PORTS = range(30000, 32768)
# Upstream (ServiceNodePortStaticSubrange) hands out dynamic ports from above a small static band first, so
# that explicitly chosen low ports rarely collide with allocated ones: band size min(max(16, size / 32), 128).
NODE_PORT_STATIC_BAND = min(max(16, len(NODE_PORTS) // 32), 128)
_RANDOM = random.SystemRandom()  # not the module RNG: sandboxes started at once must not draw the same ports
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
            ("apps", "statefulsets"): self._stateful_set,
            ("apps", "daemonsets"): self._daemon_set,
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
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
        if spec["type"] != "ExternalName":
            spec.setdefault("internalTrafficPolicy", "Cluster")
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if spec["type"] == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        if spec["sessionAffinity"] == "ClientIP":
            spec.setdefault("sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 10800}})
        self._node_ports(obj, old_spec)
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
        # Set by the registry, headless Services included; one without a selector may span every family the
        # cluster has (here only IPv4), hence RequireDualStack.
        spec.setdefault("ipFamilies", ["IPv4"])
        selectorless_headless = wanted == "None" and not spec.get("selector")
        spec.setdefault("ipFamilyPolicy", "RequireDualStack" if selectorless_headless else "SingleStack")

    def _node_ports(self, obj: dict[str, Any], old_spec: dict[str, Any]) -> None:
        """Keep, check and allocate NodePorts as upstream's initNodePorts: ports sharing a port number share a
        NodePort; an update keeps the NodePort of the same (port, protocol); new ones are drawn at random."""
        spec, name = obj["spec"], obj["metadata"]["name"]
        ports = spec.get("ports") or []
        wanted = spec["type"] == "NodePort" or (
            spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True)
        )
        if spec["type"] not in ("NodePort", "LoadBalancer"):
            for port in ports:
                port.pop("nodePort", None)
            return
        old_node_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p["nodePort"]
            for p in old_spec.get("ports") or []
            if p.get("nodePort")
        }
        if wanted:
            for port in ports:
                if not port.get("nodePort") and (port.get("port"), port["protocol"]) in old_node_ports:
                    port["nodePort"] = old_node_ports[(port.get("port"), port["protocol"])]
        taken = self._node_ports_in_use(obj)
        by_service_port: dict[Any, int] = {}
        seen: set[tuple[int, str]] = set()
        for index, port in enumerate(ports):
            field = f"spec.ports[{index}].nodePort"
            if not port.get("nodePort"):
                if not wanted:
                    continue
                requested = next(
                    (p["nodePort"] for p in ports if p.get("port") == port.get("port") and p.get("nodePort")),
                    None,
                )
                port["nodePort"] = (
                    by_service_port.get(port.get("port")) or requested or self._free_node_port(obj, taken)
                )
            node_port = port["nodePort"]
            if node_port not in NODE_PORTS:
                raise invalid(
                    "Service",
                    name,
                    f"{field}: Invalid value: {node_port}: provided port is not in the valid range "
                    f"{NODE_PORTS.start}-{NODE_PORTS.stop - 1}",
                )
            if (node_port, port["protocol"]) in seen:
                raise invalid("Service", name, f"{field}: Duplicate value: {node_port}")
            if node_port in taken:
                message = f"{field}: Invalid value: {node_port}: provided port is already allocated"
                raise invalid("Service", name, message)
            seen.add((node_port, port["protocol"]))
            by_service_port.setdefault(port.get("port"), node_port)

    def _free_node_port(self, obj: dict[str, Any], taken: set[int]) -> int:
        """A random free NodePort, from above the static band first (as upstream's allocator)."""
        mine = {p.get("nodePort") for p in obj["spec"].get("ports") or []}
        static = NODE_PORTS.start + NODE_PORT_STATIC_BAND
        for band in (range(static, NODE_PORTS.stop), range(NODE_PORTS.start, static)):
            free = [p for p in band if p not in taken and p not in mine]
            if free:
                return _RANDOM.choice(free)
        raise ApiError(500, "InternalError", "failed to allocate a nodePort: range is full")

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
        """SetDefaults_Deployment (apps/v1)."""
        self._replicated(obj, old)
        spec = obj["spec"]
        _rolling(spec, "strategy", maxUnavailable="25%", maxSurge="25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)

    def _stateful_set(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """SetDefaults_StatefulSet (apps/v1); `kubectl rollout status` needs the update strategy."""
        self._replicated(obj, old)
        spec = obj["spec"]
        spec.setdefault("podManagementPolicy", "OrderedReady")
        _rolling(spec, "updateStrategy", partition=0)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
        )

    def _daemon_set(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """SetDefaults_DaemonSet (apps/v1); `kubectl rollout status` needs the update strategy."""
        name = obj["metadata"]["name"]
        spec = obj.setdefault("spec", {})
        self._template(obj, old)
        if not spec.get("selector"):
            raise invalid("DaemonSet", name, "spec.selector: Required value")
        _rolling(spec, "updateStrategy", maxUnavailable=1, maxSurge=0)
        spec.setdefault("revisionHistoryLimit", 10)


def _rolling(spec: dict[str, Any], field: str, **defaults: Any) -> None:
    """Default `spec.<field>` to RollingUpdate and fill each missing `rollingUpdate` knob (an explicit null
    counts as missing, as for a nil pointer upstream); other strategy types get no rollingUpdate defaults."""
    strategy = spec.get(field) or {}
    spec[field] = strategy
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] != "RollingUpdate":
        return
    rolling = strategy.get("rollingUpdate") or {}
    strategy["rollingUpdate"] = rolling
    for key, value in defaults.items():
        if rolling.get(key) is None:
            rolling[key] = value

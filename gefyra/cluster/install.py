"""The install manifests of gefyra's cluster side as Python data (`gefyra install --print` prints them).

Namespace `gefyra`: CRDs, the Operator (kopf, one replica, its own ServiceAccount and RBAC, a Service for
Carrier's config), Stowaway (one replica; UDP NodePort for WireGuard, ClusterIP for its control API). Stowaway
needs NET_ADMIN and /dev/net/tun (a hostPath CharDevice), never `privileged`. Its API token and server key
Secrets are not part of the manifests: the Operator makes them in the cluster, so neither passes through a
client or a printed manifest; Stowaway's Pod waits for them. Every object carries
`gefyra.dev/managed-by=gefyra` and a `gefyra.dev/component`.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gefyra.cluster import names, rbac
from gefyra.cluster.crds import crd_manifests
from gefyra.cluster.yamltext import dump_all

Manifest = dict[str, Any]


class InstallSettings(BaseModel):
    """What differs between clusters. Image references are configurable (registries, local tags)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field(names.NAMESPACE, pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    operator_image: str = Field(min_length=1)
    stowaway_image: str = Field(min_length=1)
    carrier_image: str = Field(min_length=1)
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    node_port: int = Field(names.DEFAULT_NODE_PORT, ge=30000, le=32767)
    tunnel_subnet: str = "100.87.0.0/24"
    cluster_routes: list[str] = Field(default_factory=list, description="Pod and Service ranges for peers.")
    cluster_dns: list[str] = Field(default_factory=list, description="The cluster DNS server(s).")
    mtu: str = "1420"
    endpoint: str | None = Field(None, description="host:port of the NodePort as clients reach it.")
    installed_by_gefyra: bool = True  # the Operator may remove everything when the last client is gone

    @field_validator("tunnel_subnet")
    @classmethod
    def _subnet(cls, value: str) -> str:
        return str(ipaddress.IPv4Network(value))

    @field_validator("cluster_routes")
    @classmethod
    def _routes(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.IPv4Network(v, strict=False)) for v in value]

    @field_validator("cluster_dns")
    @classmethod
    def _dns(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.IPv4Address(v)) for v in value]


def _meta(name: str, component: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = names.labels(component)
    meta.update(extra)
    return meta


def namespace_manifest(s: InstallSettings) -> Manifest:
    annotations = {names.INSTALLED_BY: "gefyra"} if s.installed_by_gefyra else {}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _meta(s.namespace, "namespace", annotations=annotations),
    }


def operator_rbac(s: InstallSettings) -> list[Manifest]:
    ns, name = s.namespace, names.OPERATOR
    rbac_v1 = "rbac.authorization.k8s.io/v1"
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": ns}]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, "operator", ns)},
        {
            "apiVersion": rbac_v1,
            "kind": "ClusterRole",
            "metadata": _meta(name, "rbac"),
            "rules": rbac.operator_cluster_rules(ns),
        },
        {
            "apiVersion": rbac_v1,
            "kind": "ClusterRoleBinding",
            "metadata": _meta(name, "rbac"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": subject,
        },
        {
            "apiVersion": rbac_v1,
            "kind": "Role",
            "metadata": _meta(name, "rbac", ns),
            "rules": rbac.operator_namespace_rules(),
        },
        {
            "apiVersion": rbac_v1,
            "kind": "RoleBinding",
            "metadata": _meta(name, "rbac", ns),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": subject,
        },
    ]


def _deployment(s: InstallSettings, name: str, component: str, pod_spec: dict[str, Any]) -> Manifest:
    match = {names.COMPONENT: component, names.MANAGED_BY: names.MANAGED_BY_VALUE}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, component, s.namespace),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},  # one WireGuard server / one kopf operator, never two at once
            "selector": {"matchLabels": match},
            "template": {"metadata": {"labels": names.labels(component)}, "spec": pod_spec},
        },
    }


def _env(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in values.items()]


def _probe(port: int) -> dict[str, Any]:
    return {"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 5, "failureThreshold": 3}


def operator_manifests(s: InstallSettings) -> list[Manifest]:
    env = {
        "GEFYRA_NAMESPACE": s.namespace,
        "GEFYRA_CARRIER_IMAGE": s.carrier_image,
        "GEFYRA_STOWAWAY_URL": f"http://{names.STOWAWAY_API}.{s.namespace}.svc:{names.STOWAWAY_API_PORT}",
        "GEFYRA_OPERATOR_PORT": str(names.OPERATOR_PORT),
    }
    container = {
        "name": "operator",
        "image": s.operator_image,
        "imagePullPolicy": s.image_pull_policy,
        "env": _env(env),
        "ports": [{"name": "http", "containerPort": names.OPERATOR_PORT, "protocol": "TCP"}],
        "readinessProbe": _probe(names.OPERATOR_PORT),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    pod = {"serviceAccountName": names.OPERATOR, "containers": [container]}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(names.OPERATOR, "operator", s.namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": {names.COMPONENT: "operator", names.MANAGED_BY: names.MANAGED_BY_VALUE},
            "ports": [
                {
                    "name": "http",
                    "port": names.OPERATOR_PORT,
                    "targetPort": names.OPERATOR_PORT,
                    "protocol": "TCP",
                }
            ],
        },
    }
    return [_deployment(s, names.OPERATOR, "operator", pod), service]


def stowaway_manifests(s: InstallSettings) -> list[Manifest]:
    env = {
        "STOWAWAY_SUBNET": s.tunnel_subnet,
        "STOWAWAY_LISTEN_PORT": str(names.WIREGUARD_PORT),
        "STOWAWAY_API_PORT": str(names.STOWAWAY_API_PORT),
        "STOWAWAY_CLUSTER_ROUTES": ",".join(s.cluster_routes),
        "STOWAWAY_DNS": ",".join(s.cluster_dns),
        "STOWAWAY_MTU": s.mtu,
        "STOWAWAY_TOKEN_FILE": "/run/secrets/stowaway/token",
    }
    if s.endpoint:
        env["STOWAWAY_ENDPOINT"] = s.endpoint
    container = {
        "name": "stowaway",
        "image": s.stowaway_image,
        "imagePullPolicy": s.image_pull_policy,
        "env": _env(env),
        "ports": [
            {"name": "wireguard", "containerPort": names.WIREGUARD_PORT, "protocol": "UDP"},
            {"name": "api", "containerPort": names.STOWAWAY_API_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": _probe(names.STOWAWAY_API_PORT),
        # NET_ADMIN: the WireGuard interface, routes and MASQUERADE; no other privilege.
        "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN"]}},
        "volumeMounts": [
            {"name": "tun", "mountPath": "/dev/net/tun"},
            {"name": "token", "mountPath": "/run/secrets/stowaway", "readOnly": True},
            {"name": "state", "mountPath": "/var/lib/stowaway"},
            # The server key from a Secret the Operator made: a new Pod keeps the server's public key.
            {
                "name": "server-key",
                "mountPath": f"/var/lib/stowaway/{names.SERVER_KEY_FILE}",
                "subPath": names.SERVER_KEY_FILE,
                "readOnly": True,
            },
        ],
    }
    pod = {
        "serviceAccountName": names.STOWAWAY,
        "automountServiceAccountToken": False,  # Stowaway never talks to the Kubernetes API
        # Forwarding between the tunnel and the cluster; a namespaced sysctl (some kubelets need it allowed).
        "securityContext": {"sysctls": [{"name": "net.ipv4.ip_forward", "value": "1"}]},
        "containers": [container],
        "volumes": [
            {"name": "tun", "hostPath": {"path": "/dev/net/tun", "type": "CharDevice"}},
            {"name": "token", "secret": {"secretName": names.STOWAWAY_TOKEN, "defaultMode": 0o400}},
            {"name": "state", "emptyDir": {}},
            {
                "name": "server-key",
                "secret": {"secretName": names.STOWAWAY_SERVER_KEY, "defaultMode": 0o400},
            },
        ],
    }
    selector = {names.COMPONENT: "stowaway", names.MANAGED_BY: names.MANAGED_BY_VALUE}
    wireguard = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(names.STOWAWAY_WIREGUARD, "stowaway", s.namespace),
        "spec": {
            "type": "NodePort",
            "selector": selector,
            "ports": [
                {
                    "name": "wireguard",
                    "protocol": "UDP",
                    "port": names.WIREGUARD_PORT,
                    "targetPort": names.WIREGUARD_PORT,
                    "nodePort": s.node_port,
                }
            ],
        },
    }
    api = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(names.STOWAWAY_API, "stowaway", s.namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [
                {
                    "name": "api",
                    "protocol": "TCP",
                    "port": names.STOWAWAY_API_PORT,
                    "targetPort": names.STOWAWAY_API_PORT,
                }
            ],
        },
    }
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(names.STOWAWAY, "stowaway", s.namespace),
    }
    return [account, _deployment(s, names.STOWAWAY, "stowaway", pod), wireguard, api]


def install_manifests(s: InstallSettings) -> list[Manifest]:
    """Everything, in the order it can be created (namespace first, the Deployments last)."""
    return [
        namespace_manifest(s),
        *crd_manifests(),
        *operator_rbac(s),
        *stowaway_manifests(s),
        *operator_manifests(s),
    ]


def render_yaml(s: InstallSettings) -> str:
    """The install as multi-document YAML (for `gefyra install --print | kubectl apply -f -`)."""
    return dump_all(install_manifests(s))

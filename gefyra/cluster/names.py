"""Names of the cluster side: API group, fixed object names, every `gefyra.dev/*` label and annotation key.

One label sweep (`gefyra.dev/component`) finds every object gefyra installs; Pods of workloads are never
labelled by a bridge (only annotated), so a bridge cannot change Service or ReplicaSet membership.
"""

from __future__ import annotations

GROUP = "gefyra.dev"
VERSION = "v1"
API_VERSION = f"{GROUP}/{VERSION}"
NAMESPACE = "gefyra"

CLIENT_KIND, CLIENT_PLURAL, CLIENT_SINGULAR = "GefyraClient", "gefyraclients", "gefyraclient"
BRIDGE_KIND, BRIDGE_PLURAL, BRIDGE_SINGULAR = "GefyraBridge", "gefyrabridges", "gefyrabridge"

# Object names of the install (all in NAMESPACE unless cluster-scoped).
OPERATOR = "gefyra-operator"  # Deployment, ServiceAccount, Service (Carrier's config), ClusterRole(Binding)
STOWAWAY = "gefyra-stowaway"  # Deployment, ServiceAccount
STOWAWAY_WIREGUARD = "gefyra-stowaway-wireguard"  # UDP NodePort Service
STOWAWAY_API = "gefyra-stowaway-api"  # ClusterIP Service of the control API
STOWAWAY_TOKEN = "gefyra-stowaway-token"  # Secret (key `token`); made in the cluster by the Operator
# Secret (key `server.key`): Stowaway's WireGuard private key, made by the Operator, so a new Stowaway Pod
# keeps the server's public key (peers' configs stay valid).
STOWAWAY_SERVER_KEY = "gefyra-stowaway-server"
SERVER_KEY_FILE = "server.key"
CLIENT_ROLE_PREFIX = "gefyra-client-"  # per client: ServiceAccount, Role, RoleBinding
PEER_SECRET_PREFIX = "gefyra-peer-"  # per client: the WireGuard peer config

OPERATOR_PORT = 8080  # the Operator's HTTP endpoint (Carrier configs, health)
STOWAWAY_API_PORT = 8080
WIREGUARD_PORT = 51820
DEFAULT_NODE_PORT = 31820
# Proxy ports on Stowaway, one per bridged port (a stream server each); the API port is outside.
ROUTE_PORTS = range(10100, 11100)
# Carrier's rsync daemon (the Pod's service-account directory, read-only); Stowaway guards it per bridge.
CARRIER_RSYNC_PORT = 873

# Labels: every installed object carries COMPONENT and MANAGED_BY; per-client objects also CLIENT.
PREFIX = "gefyra.dev/"
COMPONENT = "gefyra.dev/component"  # operator | stowaway | crd | rbac | namespace | client | peer
MANAGED_BY = "gefyra.dev/managed-by"  # "gefyra"
PROJECT = "gefyra.dev/project"
CLIENT = "gefyra.dev/client"
SPEC_HASH = "gefyra.dev/spec-hash"
MANAGED_BY_VALUE = "gefyra"

# Annotations.
# On the namespace: gefyra made the install (so it may remove it when the last client is gone) ...
INSTALLED_BY = "gefyra.dev/installed-by"
# ... and at least one client has been seen since (a fresh install waiting for its first client stays).
HAD_CLIENTS = "gefyra.dev/had-clients"
# kopf's finalizer on GefyraClients and GefyraBridges (their delete handlers restore Pods, remove peers).
FINALIZER = "gefyra.dev/finalizer"
# On a bridged Pod, one per bridged container: JSON {"bridge": "<ns>/<name>", "originalImage": "<image>"}.
# Anyone can restore the Pod from it, even without the Operator.
BRIDGED_PREFIX = "bridge.gefyra.dev/"


def bridged_annotation(container: str) -> str:
    """The Pod annotation recording the original image of a bridged container."""
    return BRIDGED_PREFIX + container


def peer_secret_name(client: str) -> str:
    return PEER_SECRET_PREFIX + client


def client_access_name(client: str) -> str:
    return CLIENT_ROLE_PREFIX + client


def labels(component: str, **extra: str) -> dict[str, str]:
    """The labels of an object gefyra makes in a cluster."""
    return {COMPONENT: component, MANAGED_BY: MANAGED_BY_VALUE, **extra}


def selector(component: str | None = None) -> str:
    """A label selector for everything gefyra made (or one component of it)."""
    base = f"{MANAGED_BY}={MANAGED_BY_VALUE}"
    return base if component is None else f"{base},{COMPONENT}={component}"

"""RBAC of the cluster side: the Operator's rules, and the per-client access the Operator grants.

The client is allowed its own GefyraClient (by name), GefyraBridges in the gefyra namespace (Kubernetes cannot
limit `create` by name) and its own peer Secret (by name): nothing else, in particular not Stowaway's token.
"""

from __future__ import annotations

from typing import Any

from gefyra.cluster import names

Rule = dict[str, list[str]]


def _rule(groups: list[str], resources: list[str], verbs: list[str], names_: list[str] | None = None) -> Rule:
    rule = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names_:
        rule["resourceNames"] = names_
    return rule


def crd_names() -> list[str]:
    return [f"{plural}.{names.GROUP}" for plural in (names.CLIENT_PLURAL, names.BRIDGE_PLURAL)]


def operator_cluster_rules(namespace: str) -> list[Rule]:
    """Cluster-wide: its custom resources, Pods of any namespace (swap images), workloads (find their Pods),
    TokenReviews (Carrier's identity), and removing the install when the last client is gone."""
    read = ["get", "list", "watch"]
    custom = [names.CLIENT_PLURAL, names.BRIDGE_PLURAL]
    return [
        _rule([names.GROUP], custom, [*read, "patch", "update", "delete"]),
        _rule([names.GROUP], [f"{c}/status" for c in custom], ["get", "patch", "update"]),
        _rule([""], ["pods"], [*read, "patch"]),
        _rule(["apps"], ["deployments", "statefulsets", "replicasets"], read),
        _rule([""], ["events"], ["create", "patch"]),
        _rule(["events.k8s.io"], ["events"], ["create", "patch"]),
        _rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
        _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], read),
        _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["delete"], crd_names()),
        _rule([""], ["namespaces"], ["get", "patch", "delete"], [namespace]),
        _rule(
            ["rbac.authorization.k8s.io"],
            ["clusterroles", "clusterrolebindings"],
            ["delete"],
            [names.OPERATOR],
        ),
    ]


def operator_namespace_rules() -> list[Rule]:
    """In the gefyra namespace: peer Secrets, Stowaway's token, per-client access, the install itself."""
    crud = ["get", "list", "watch", "create", "update", "patch", "delete"]
    return [
        _rule([""], ["secrets"], crud),
        _rule([""], ["serviceaccounts", "services"], crud),
        _rule(["rbac.authorization.k8s.io"], ["roles", "rolebindings"], crud),
        _rule(["apps"], ["deployments"], crud),
        _rule([""], ["pods"], ["get", "list", "watch"]),
    ]


def client_rules(client: str) -> list[Rule]:
    custom = [names.BRIDGE_PLURAL, f"{names.BRIDGE_PLURAL}/status"]
    return [
        _rule([names.GROUP], [names.CLIENT_PLURAL], ["get", "watch", "patch", "delete"], [client]),
        _rule([names.GROUP], [f"{names.CLIENT_PLURAL}/status"], ["get"], [client]),
        _rule([names.GROUP], custom[:1], ["create", "get", "list", "watch", "patch", "delete"]),
        _rule([names.GROUP], custom[1:], ["get"]),
        _rule([""], ["secrets"], ["get"], [names.peer_secret_name(client)]),
    ]


def client_access(client: str, namespace: str, owner: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """ServiceAccount, Role and RoleBinding of one client (owned by its GefyraClient when `owner` is given:
    `{"name", "uid"}`, so they go with it)."""
    name = names.client_access_name(client)
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": names.labels("client", **{names.CLIENT: client}),
    }
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": names.API_VERSION,
                "kind": names.CLIENT_KIND,
                "name": owner["name"],
                "uid": owner["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": client_rules(client),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ]

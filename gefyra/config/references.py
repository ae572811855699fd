"""Checks across sections that a schema cannot express: bridges need a cluster and name a local container.

They read the plain YAML data (not the validated Config), so they are reported even when other parts are
invalid.
"""

from __future__ import annotations

from typing import Any

from gefyra.config.document import Document
from gefyra.config.model import Config
from gefyra.config.problems import did_you_mean

Located = tuple[tuple[int, int], str]


def check_references(doc: Document) -> list[Located]:
    data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
    bridges = data.get("bridges")
    if not isinstance(bridges, dict) or not bridges:
        return []
    problems: list[Located] = []
    if data.get("cluster") is None:
        problems.append(
            (
                doc.position(("bridges",), prefer_key=True),
                "bridges need a 'cluster' section (without one gefyra runs local containers only)",
            )
        )
    containers = data.get("containers")
    names = [n for n in containers if isinstance(n, str)] if isinstance(containers, dict) else []
    known = set(names)
    for name, bridge in bridges.items():
        local = bridge.get("local", name) if isinstance(bridge, dict) else None
        if not isinstance(local, str) or local in known:
            continue
        path = ("bridges", name, "local")
        explicit = isinstance(bridge, dict) and "local" in bridge
        where = doc.position(path if explicit else ("bridges", name), prefer_key=not explicit)
        if not names:
            hint = " (no containers are defined)"
        elif explicit:
            hint = did_you_mean(local, names)
        else:
            hint = f"; set 'local' to one of: {', '.join(names)}"
        problems.append((where, f"bridges.{name}.local: no container named '{local}'{hint}"))
    return problems


def check_conflicts(config: Config, doc: Document) -> list[Located]:
    """Clashes between entries of a valid config, which Docker or the cluster would refuse at apply."""
    problems: list[Located] = []
    published: dict[tuple[int, str], dict[str | None, str]] = {}  # (port, protocol) -> address -> where
    for name, container in config.containers.items():
        for index, port in enumerate(container.ports):
            here = f"containers.{name}.ports[{index}]"
            holders = published.setdefault((port.host_port, port.protocol), {})
            # one address, or "all addresses" (None) on either side, clash
            clash = holders.get(port.host_ip) or (
                next(iter(holders.values()), None) if port.host_ip is None else holders.get(None)
            )
            if clash:
                message = (
                    f"{here}: host port {port.host_port}/{port.protocol} is already published by {clash}"
                )
                problems.append((doc.position(("containers", name, "ports", index)), message))
            holders.setdefault(port.host_ip, here)
        for index, rule in enumerate(container.watch):
            if rule.action == "rebuild" and container.build is None:
                where = f"containers.{name}.watch[{index}].action"
                message = f"{where}: 'rebuild' needs 'build' (this container runs a ready image)"
                problems.append((doc.position(("containers", name, "watch", index, "action")), message))
    bridged: dict[tuple[str, str, str, str | None], str] = {}
    for name, bridge in config.bridges.items():
        key = (bridge.namespace, bridge.target.kind, bridge.target.name, bridge.container)
        if key in bridged:
            message = (
                f"bridges.{name}.target: {bridge.target} in namespace {bridge.namespace} "
                f"is already bridged by bridges.{bridged[key]}"
            )
            problems.append((doc.position(("bridges", name, "target")), message))
        else:
            bridged[key] = name
    return problems

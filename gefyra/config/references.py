"""Checks across sections that a schema cannot express: bridges need a cluster and name a local container.

They read the plain YAML data (not the validated Config), so they are reported even when other parts are
invalid.
"""

from __future__ import annotations

from typing import Any

from gefyra.config.document import Document
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
    for name, bridge in bridges.items():
        local = bridge.get("local", name) if isinstance(bridge, dict) else None
        if not isinstance(local, str) or local in names:
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

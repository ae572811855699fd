"""Deterministic topological ordering (pure). Ties break on the node's text so plans are stable."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TypeVar

from gefyra.errors import PlanError

T = TypeVar("T", bound=Hashable)


def topo_order(
    nodes: Iterable[T],
    edges: Mapping[T, Iterable[T]],
    sort_key: Callable[[T], str | tuple[int, str]] = str,
) -> list[T]:
    """Nodes so that every node follows the nodes it depends on (`edges[n]` = what n depends on, unknown
    ones ignored).

    Raises PlanError naming the nodes of a cycle."""
    nodes = list(nodes)
    position = {node: index for index, node in enumerate(nodes)}
    known = set(nodes)
    deps = {node: {dep for dep in edges.get(node, ()) if dep in known and dep != node} for node in nodes}
    dependants: dict[T, list[T]] = {node: [] for node in nodes}
    for node, node_deps in deps.items():
        for dep in node_deps:
            dependants[dep].append(node)
    remaining = {node: len(node_deps) for node, node_deps in deps.items()}
    heap = [(sort_key(node), index, node) for index, node in enumerate(nodes) if remaining[node] == 0]
    heapq.heapify(heap)
    order: list[T] = []
    while heap:
        _, _, node = heapq.heappop(heap)
        order.append(node)
        for dependant in dependants[node]:
            remaining[dependant] -= 1
            if remaining[dependant] == 0:
                heapq.heappush(heap, (sort_key(dependant), position[dependant], dependant))
    if len(order) != len(nodes):
        stuck = sorted(str(node) for node, count in remaining.items() if count > 0)
        raise PlanError(
            f"dependency cycle between {', '.join(stuck)}", hint="check depends_on of these resources"
        )
    return order

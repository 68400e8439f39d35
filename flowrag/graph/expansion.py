"""Multi-hop neighbourhood expansion, written once above the store port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowrag.graph.port import GraphStore, Neighbourhood, StoredEdge, StoredNode

__all__ = ["ExpansionStep", "expand"]


@dataclass(frozen=True)
class ExpansionStep:
    """One hop: which relationship types to follow and how many per node, type and direction."""

    rel_types: tuple[str, ...] = ()
    cap_per_node: int = 25
    max_frontier: int = 200  # nodes carried into the next hop (keeps hop 2 bounded)


async def expand(store: GraphStore, seeds: Sequence[str], steps: Sequence[ExpansionStep]) -> Neighbourhood:
    """Follow ``steps`` hop by hop from ``seeds``; returns every node and edge reached."""
    nodes: dict[str, StoredNode] = {n.uid: n for n in await store.get_nodes(list(seeds))}
    edges: dict[tuple[str, str, str], StoredEdge] = {}
    frontier = list(dict.fromkeys(seeds))
    visited = set(frontier)
    for step in steps:
        if not frontier:
            break
        hood = await store.neighbours(frontier[: step.max_frontier], step.rel_types, step.cap_per_node)
        reached: list[str] = []
        for node in hood.nodes:
            if node.uid not in nodes:
                nodes[node.uid] = node
        for edge in hood.edges:
            edges[(edge.type, edge.start, edge.end)] = edge
            for uid in (edge.start, edge.end):
                if uid not in visited:
                    visited.add(uid)
                    reached.append(uid)
        frontier = reached
    return Neighbourhood(tuple(nodes.values()), tuple(edges.values()))

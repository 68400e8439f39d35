"""Graph store port, its two adapters (Neo4j, embedded) and retrieval primitives above them."""

from flowrag.graph.factory import open_store
from flowrag.graph.port import (
    Filter,
    GraphStore,
    Neighbourhood,
    ScoredNode,
    StoredEdge,
    StoredNode,
    StoreStats,
    UpsertReport,
)

__all__ = [
    "Filter",
    "GraphStore",
    "Neighbourhood",
    "ScoredNode",
    "StoreStats",
    "StoredEdge",
    "StoredNode",
    "UpsertReport",
    "open_store",
]

"""The graph store port: what the rest of flowrag needs from a store, and nothing more.

Two adapters implement it fully (``Neo4jStore`` and ``EmbeddedStore``) and one contract suite
(``tests/integration/test_store_contract.py``) runs against both. Retrieval logic (multi-hop
expansion in ``flowrag.graph.expansion``, seeds, fusion and ranking in ``flowrag.answer.retrieval``) lives
above the port so it is written once; stores provide primitives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from flowrag.graph.aggregate import RunAggregate, RunQuery
from flowrag.schema import NodeRow, RelRow

__all__ = [
    "NODE_FIELDS",
    "REEMBED_HINT",
    "Filter",
    "GraphStore",
    "HealthCheck",
    "Neighbourhood",
    "ScoredNode",
    "StoreStats",
    "StoredEdge",
    "StoredNode",
    "UpsertReport",
    "all_nodes",
    "node_matches",
]

#: what to do when the store's vectors come from another model than the configured one
REEMBED_HINT = (
    "configure the model the store was built with (FLOWRAG_EMBEDDING__MODEL), or move to the new "
    "model: `flowrag export graph.jsonl.gz`, point the store settings at a new store "
    "(FLOWRAG_STORE__PATH, or another Neo4j database), then `flowrag import graph.jsonl.gz --reembed`"
)

FilterOp = Literal["=", "!=", "in", ">=", "<=", ">", "<"]


@dataclass(frozen=True)
class Filter:
    """A property condition. ``prop`` is a provenance column or a node property name."""

    prop: str
    op: FilterOp
    value: Any


@dataclass(frozen=True)
class StoredNode:
    uid: str
    label: str
    key: str
    name: str
    text: str
    source: str
    scope: str
    source_id: str
    content_hash: str
    first_seen: str
    last_seen: str
    props: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "label": self.label,
            "key": self.key,
            "name": self.name,
            "text": self.text,
            "source": self.source,
            "scope": self.scope,
            "source_id": self.source_id,
            "content_hash": self.content_hash,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "props": dict(self.props),
        }


@dataclass(frozen=True)
class StoredEdge:
    type: str
    start: str  # uid
    end: str  # uid
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoredNode:
    node: StoredNode
    score: float  # higher is better; cosine similarity for vectors, engine score for full-text


@dataclass(frozen=True)
class Neighbourhood:
    nodes: tuple[StoredNode, ...]
    edges: tuple[StoredEdge, ...]


@dataclass(frozen=True)
class UpsertReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertReport) -> UpsertReport:
        return UpsertReport(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True)
class StoreStats:
    nodes: dict[str, int]
    relationships: dict[str, int]

    @property
    def total_nodes(self) -> int:
        return sum(self.nodes.values())

    @property
    def total_relationships(self) -> int:
        return sum(self.relationships.values())


@dataclass(frozen=True)
class HealthCheck:
    """One finding of `flowrag doctor`: ``status`` is ok, warn or fail; ``fix`` names a command."""

    name: str
    status: Literal["ok", "warn", "fail"]
    detail: str
    fix: str = ""


#: The fields of a StoredNode that are not free-form properties (columns / core node properties).
NODE_FIELDS = frozenset(
    {
        "uid",
        "label",
        "key",
        "name",
        "text",
        "source",
        "scope",
        "source_id",
        "content_hash",
        "first_seen",
        "last_seen",
    }
)


def node_matches(node: StoredNode, filters: Sequence[Filter]) -> bool:
    """Evaluate filters on a node in Python (post-filtering of index hits)."""
    for flt in filters:
        value = getattr(node, flt.prop) if flt.prop in NODE_FIELDS else node.props.get(flt.prop)
        if flt.op == "in":
            if value not in set(flt.value):
                return False
            continue
        if value is None:
            return False
        try:
            ok = {
                "=": lambda a, b: a == b,
                "!=": lambda a, b: a != b,
                ">=": lambda a, b: a >= b,
                "<=": lambda a, b: a <= b,
                ">": lambda a, b: a > b,
                "<": lambda a, b: a < b,
            }[flt.op](value, flt.value)
        except TypeError:
            ok = False
        if not ok:
            return False
    return True


@runtime_checkable
class GraphStore(Protocol):
    """Async graph store. Labels and relationship types come only from the ontology."""

    kind: str

    async def migrate(self, dimension: int) -> None:
        """Create constraints, range, vector and full-text indexes. Idempotent."""

    async def upsert_nodes(self, rows: Sequence[NodeRow]) -> UpsertReport:
        """MERGE on (label, key). A row whose content hash is unchanged is not written."""

    async def upsert_relationships(self, rows: Sequence[RelRow]) -> int:
        """MERGE (start)-[type]->(end); rows whose endpoints do not exist are skipped.
        Returns how many relationships were created."""

    async def existing_hashes(self, uids: Sequence[str]) -> dict[str, str]:
        """uid -> content_hash for the uids that exist."""

    async def scope_uids(self, source: str, scope: str, label: str | None = None) -> set[str]:
        """Every uid written by ``source`` for ``scope`` (for full-sync deletion)."""

    async def scope_count(self, source: str, scope: str) -> int:
        """How many nodes ``source`` wrote for ``scope`` (a full sync that saw as many knows that
        nothing vanished without reading every uid back)."""

    async def delete_nodes(self, uids: Sequence[str]) -> int:
        """Delete nodes and their relationships. Returns nodes deleted."""

    async def delete_scope(self, source: str, scope: str) -> int:
        """Delete every node of a source scope (a collection, a repository, a spec)."""

    async def delete_relationships(self, start_uids: Sequence[str], types: Sequence[str]) -> int:
        """Delete outgoing relationships of the given types from these nodes."""

    async def vector_search(
        self,
        embedding: Sequence[float],
        labels: Sequence[str],
        k: int,
        filters: Sequence[Filter] = (),
    ) -> list[ScoredNode]:
        """Top-k by cosine similarity over the vector indexes of ``labels``."""

    async def fulltext_search(
        self,
        text: str,
        labels: Sequence[str],
        k: int,
        filters: Sequence[Filter] = (),
    ) -> list[ScoredNode]:
        """Top-k full-text matches (identifiers such as ``orders_qa`` or ``/v3/vdbs/{id}``)."""

    async def terms_present(self, terms: Sequence[Sequence[str]]) -> list[bool]:
        """For each term (a word and its other forms), whether any form occurs in the full-text
        index: the corpus-coverage probe of relevance, in one round trip."""

    async def neighbours(
        self,
        uids: Sequence[str],
        rel_types: Sequence[str] = (),
        cap_per_node: int = 25,
    ) -> Neighbourhood:
        """One hop in both directions, at most ``cap_per_node`` relationships per node and type.
        Empty ``rel_types`` = every type."""

    async def get_nodes(self, uids: Sequence[str]) -> list[StoredNode]:
        """The nodes that exist, in the order asked."""

    async def find_nodes(
        self,
        label: str,
        filters: Sequence[Filter] = (),
        order_by: str | None = None,
        descending: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[StoredNode]:
        """Structured lookup on one label (domain lists, aggregate questions)."""

    async def count_nodes(self, label: str, filters: Sequence[Filter] = ()) -> int:
        """How many nodes of ``label`` match ``filters``."""

    async def aggregate_runs(self, query: RunQuery) -> RunAggregate:
        """Counted runs grouped as ``query`` says, in one query inside the store."""

    async def cypher(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a read-only Cypher query (stores that speak Cypher)."""

    async def stats(self) -> StoreStats:
        """Node counts per label and relationship counts per type."""

    async def export_batch(
        self, after_uid: str, limit: int
    ) -> tuple[list[tuple[StoredNode, list[float] | None]], list[StoredEdge]]:
        """Nodes with uid > after_uid in uid order (with their embedding) and their outgoing
        relationships: the unit of `flowrag export`."""

    async def check(self, dimension: int) -> list[HealthCheck]:
        """Integrity of the store for a model of ``dimension``: files or server, indexes, vectors."""

    async def rebuild_vector_indexes(self) -> dict[str, int]:
        """Build every vector index again from the stored vectors; vectors indexed per label."""

    async def flush(self) -> None:
        """Make every write durable and searchable (the embedded store indexes pending vectors)."""

    async def wipe(self) -> None:
        """Delete every node and relationship (tests; a store rebuilt from scratch)."""

    async def close(self) -> None:
        """Flush and release resources."""


async def all_nodes(store: GraphStore, label: str, page: int = 5000) -> list[StoredNode]:
    """Every node of ``label``, read in pages of ``page``."""
    nodes: list[StoredNode] = []
    while True:
        batch = await store.find_nodes(label, limit=page, offset=len(nodes))
        nodes += batch
        if len(batch) < page:
            return nodes

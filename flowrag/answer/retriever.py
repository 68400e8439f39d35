"""Hybrid retrieval: vector + full-text seeds fused by RRF, typed 1–2 hop expansion with degree
caps, score propagation over the expanded subgraph. Works on any GraphStore (logic above the port).

Strategies are config objects with named presets (``STRATEGIES``)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from flowrag.answer.planner import Plan
from flowrag.extract.embeddings import Embedder
from flowrag.graph.port import GraphStore, StoredEdge, StoredNode
from flowrag.schema import ONTOLOGY

__all__ = ["LABELS_BY_SOURCE", "STRATEGIES", "Evidence", "RetrievalStrategy", "Retriever"]

LABELS_BY_SOURCE: dict[str, tuple[str, ...]] = {
    "mongo": ("Record", "Run", "Pipeline", "Error", "Technology", "Host", "Environment", "Collection"),
    "code": ("Repository", "File", "Class", "Function", "Route", "HttpCall", "DocChunk"),
    "openapi": ("ApiSpec", "Endpoint", "Schema", "Tag", "Parameter", "DelphixKind"),
    "html": ("DocPage", "DocSection"),
}

# What to follow from a node of each label (per-type templates).
EXPANSION: dict[str, tuple[str, ...]] = {
    "Endpoint": ("ACTS_ON", "ACCEPTS", "RETURNS", "TARGETS", "IMPLEMENTS", "TAGGED"),
    "Schema": ("ACCEPTS", "RETURNS", "REPRESENTS", "EXTENDS"),
    "DelphixKind": ("ACTS_ON", "REPRESENTS"),
    "Run": ("OF", "FAILED_WITH", "RAN_ON", "IN_ENVIRONMENT"),
    "Record": ("DESCRIBES", "MENTIONS", "HAS_RECORD"),
    "Pipeline": ("OF", "USES", "IMPLEMENTS"),
    "Error": ("FAILED_WITH",),
    "Function": ("MAKES", "SERVES", "CALLS", "IMPLEMENTS", "CONTAINS"),
    "Class": ("CONTAINS",),
    "File": ("CONTAINS", "IMPLEMENTS", "MAKES", "SERVES"),
    "HttpCall": ("TARGETS", "MAKES"),
    "Route": ("SERVES", "IMPLEMENTS"),
    "DocSection": ("SECTION_OF", "MENTIONS"),
    "DocChunk": ("MENTIONS", "CONTAINS"),
    "Technology": ("USES",),
    "Host": ("RAN_ON",),
}


@dataclass(frozen=True)
class RetrievalStrategy:
    name: str
    vector_k: int = 20
    fulltext_k: int = 20
    rrf_k: int = 60
    seeds: int = 8
    hops: int = 2
    cap_per_node: int = 10  # relationships per node, type and direction (hubs stay bounded)
    hop_decay: float = 0.5
    # e5-small cosines are compressed: on the demo graph unrelated FR/EN questions score <= 0.82,
    # related ones >= 0.835 (exact cosine); below this a vector hit is not evidence.
    min_vector_score: float = 0.83


STRATEGIES: dict[str, RetrievalStrategy] = {
    "balanced": RetrievalStrategy("balanced"),
    "precise": RetrievalStrategy("precise", vector_k=10, fulltext_k=10, seeds=5, hops=1, cap_per_node=5),
    "broad": RetrievalStrategy("broad", vector_k=40, fulltext_k=40, seeds=15, hops=2, cap_per_node=20),
    "vector_only": RetrievalStrategy("vector_only", fulltext_k=0, hops=0),
}


@dataclass
class Evidence:
    nodes: list[StoredNode] = field(default_factory=list)  # ranked
    scores: dict[str, float] = field(default_factory=dict)
    edges: list[StoredEdge] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)
    best_vector: float = 0.0
    fulltext_hits: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _labels(plan: Plan) -> list[str]:
    sources = plan.sources or tuple(LABELS_BY_SOURCE)
    return [label for s in sources for label in LABELS_BY_SOURCE[s]]


def _allowed(node: StoredNode, plan: Plan, labels: set[str]) -> bool:
    if node.label not in labels:
        return False
    return not (
        plan.collections
        and node.label in ("Record", "Run", "Collection")
        and node.scope not in plan.collections
    )


class Retriever:
    def __init__(
        self, store: GraphStore, embedder: Embedder, strategy: RetrievalStrategy = STRATEGIES["balanced"]
    ) -> None:
        self._store = store
        self._embedder = embedder
        self.strategy = strategy

    async def retrieve(self, plan: Plan, extra_seeds: Sequence[str] = ()) -> Evidence:
        s = self.strategy
        ev = Evidence()
        labels = _labels(plan)
        label_set = set(labels)
        embedded = [lbl for lbl in labels if ONTOLOGY.label(lbl).embedded]
        t0 = time.perf_counter()
        query_vec = (await asyncio.to_thread(self._embedder.embed_queries, [plan.question]))[0]
        ev.timings["embed_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        vector_hits = (
            await self._store.vector_search(query_vec.tolist(), embedded, s.vector_k) if embedded else []
        )
        ev.timings["vector_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        text_hits = []
        if s.fulltext_k:
            terms = " ".join(plan.identifiers) if plan.identifiers else " ".join(plan.keywords)
            text_hits = await self._store.fulltext_search(terms, labels, s.fulltext_k)
        ev.timings["fulltext_ms"] = (time.perf_counter() - t0) * 1000
        fused: dict[str, float] = defaultdict(float)
        nodes: dict[str, StoredNode] = {}
        for rank, hit in enumerate(h for h in vector_hits if _allowed(h.node, plan, label_set)):
            ev.best_vector = max(ev.best_vector, hit.score)
            if hit.score < s.min_vector_score:
                continue
            fused[hit.node.uid] += 1 / (s.rrf_k + rank + 1)
            nodes[hit.node.uid] = hit.node
        for rank, hit in enumerate(h for h in text_hits if _allowed(h.node, plan, label_set)):
            ev.fulltext_hits += 1
            # identifiers found verbatim weigh double: exact names beat paraphrases
            fused[hit.node.uid] += (2.0 if plan.identifiers else 1.0) / (s.rrf_k + rank + 1)
            nodes[hit.node.uid] = hit.node
        if not plan.identifiers and ev.best_vector < s.min_vector_score and not extra_seeds:
            # Keyword matches alone ("point", "format") are not evidence: without an exact
            # identifier or a semantically close node, the graph does not hold the answer.
            ev.timings["expand_ms"] = 0.0
            return ev
        for uid in extra_seeds:
            fused[uid] += 1 / s.rrf_k
        if extra_seeds:
            for node in await self._store.get_nodes(list(extra_seeds)):
                nodes[node.uid] = node
        seeds = sorted(fused, key=lambda u: -fused[u])[: s.seeds]
        ev.seeds = seeds
        top = max(fused.values(), default=1.0)
        scores = {uid: fused[uid] / top for uid in seeds}
        t0 = time.perf_counter()
        edges: dict[tuple[str, str, str], StoredEdge] = {}
        frontier = [nodes[u] for u in seeds if u in nodes]
        for hop in range(1, s.hops + 1):
            by_label: dict[str, list[str]] = defaultdict(list)
            for node in frontier:
                if node.label in EXPANSION:
                    by_label[node.label].append(node.uid)
            reached: list[StoredNode] = []
            for label, uids in by_label.items():
                cap = s.cap_per_node if hop == 1 else max(2, s.cap_per_node // 3)
                hood = await self._store.neighbours(uids, EXPANSION[label], cap)
                hood_nodes = {n.uid: n for n in hood.nodes}
                for edge in hood.edges:
                    edges[(edge.type, edge.start, edge.end)] = edge
                    for src, dst in ((edge.start, edge.end), (edge.end, edge.start)):
                        if (
                            src in scores
                            and dst in hood_nodes
                            and _allowed(hood_nodes[dst], plan, label_set | {"DelphixKind"})
                        ):
                            propagated = scores[src] * s.hop_decay
                            if propagated > scores.get(dst, 0.0):
                                if dst not in scores:
                                    reached.append(hood_nodes[dst])
                                scores[dst] = propagated
                                nodes[dst] = hood_nodes[dst]
            frontier = reached
        ev.timings["expand_ms"] = (time.perf_counter() - t0) * 1000
        # A node reached from several seeds is more central: small bonus per extra edge.
        degree: dict[str, int] = defaultdict(int)
        for edge in edges.values():
            if edge.start in scores and edge.end in scores:
                degree[edge.start] += 1
                degree[edge.end] += 1
        final = {uid: sc * (1 + 0.05 * min(degree[uid], 6)) for uid, sc in scores.items()}
        ev.scores = final
        ev.nodes = sorted((nodes[u] for u in final if u in nodes), key=lambda n: -final[n.uid])
        kept = {n.uid for n in ev.nodes}
        ev.edges = [e for e in edges.values() if e.start in kept and e.end in kept]
        return ev

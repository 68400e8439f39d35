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

__all__ = ["EDGE_WEIGHTS", "LABELS_BY_SOURCE", "STRATEGIES", "Evidence", "RetrievalStrategy", "Retriever"]

LABELS_BY_SOURCE: dict[str, tuple[str, ...]] = {
    "mongo": ("Record", "Run", "Pipeline", "Error", "Technology", "Host", "Environment", "Collection"),
    "code": ("Repository", "File", "Class", "Function", "Route", "HttpCall", "DocChunk"),
    "openapi": ("ApiSpec", "Endpoint", "Schema", "Tag", "Parameter", "DelphixKind"),
    "html": ("DocPage", "DocSection"),
}

# What to follow from a node of each label (per-type templates).
EXPANSION: dict[str, tuple[str, ...]] = {
    "Endpoint": ("ACTS_ON", "ACCEPTS", "RETURNS", "TARGETS", "IMPLEMENTS", "TAGGED", "CALLS_ENDPOINT"),
    "Schema": ("ACCEPTS", "RETURNS", "REPRESENTS", "EXTENDS"),
    "DelphixKind": ("ACTS_ON", "REPRESENTS"),
    "Run": ("OF", "FAILED_WITH", "RAN_ON", "IN_ENVIRONMENT", "DESCRIBES"),
    "Record": ("DESCRIBES", "MENTIONS", "HAS_RECORD"),
    "Pipeline": ("OF", "USES", "IMPLEMENTS"),
    "Error": ("FAILED_WITH",),
    "Function": ("MAKES", "SERVES", "CALLS", "IMPLEMENTS", "CONTAINS", "CALLS_ENDPOINT"),
    "Class": ("CONTAINS",),
    "File": ("CONTAINS", "IMPLEMENTS", "MAKES", "SERVES"),
    "HttpCall": ("TARGETS", "MAKES"),
    "Route": ("SERVES", "IMPLEMENTS"),
    "DocSection": ("SECTION_OF", "MENTIONS"),
    "DocChunk": ("MENTIONS", "CONTAINS"),
    "Technology": ("USES",),
    "Host": ("RAN_ON",),
}


# How much of a node's score flows along an edge, by (type, direction of travel). Fan-out from a
# kind to its many instances (a pipeline to its runs, a collection to its records, a Delphix kind
# to every endpoint acting on it) passes less than the way back; structural edges pass everything.
EDGE_WEIGHTS: dict[tuple[str, str], float] = {
    ("OF", "in"): 0.6,
    ("HAS_RECORD", "out"): 0.3,
    ("RAN_ON", "in"): 0.6,
    ("FAILED_WITH", "in"): 0.7,
    ("IN_ENVIRONMENT", "in"): 0.5,
    ("ACTS_ON", "in"): 0.3,
    ("ACTS_ON", "out"): 0.5,
    ("REPRESENTS", "in"): 0.5,
    ("TAGGED", "out"): 0.3,
    ("TAGGED", "in"): 0.3,
    ("MENTIONS", "out"): 0.7,
    ("MENTIONS", "in"): 0.7,
    ("RAN_ON", "out"): 0.4,
    ("IN_ENVIRONMENT", "out"): 0.3,
    ("HAS_RECORD", "in"): 0.4,
    ("RETURNS", "out"): 0.5,
}

# Attribute-like nodes are good paths but poor evidence: their rank is scaled down.
LABEL_PRIOR: dict[str, float] = {
    "Collection": 0.4,
    "Environment": 0.4,
    "Tag": 0.4,
    "Parameter": 0.5,
    "DelphixKind": 0.5,
    "ApiSpec": 0.5,
    "Repository": 0.5,
    "Host": 0.7,
}
# Instances that share a parent (runs of one pipeline, runs failing with one error template): the
# best SIBLINGS_KEPT keep their rank, the others step back so the parent and other facts show.
SIBLING_PARENTS: frozenset[str] = frozenset({"OF", "FAILED_WITH"})
SIBLINGS_KEPT = 2
SOURCE_HINT_BOOST = 1.25
ANSWER_TYPE_BOOST = 1.5


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
    # e5-small cosines are compressed: unrelated FR/EN questions score 0.77-0.86 against the DCT
    # spec + runs + code, related ones 0.84-0.96 (eval/gold.yaml). Below min_vector_score a vector
    # hit is not evidence; up to confident_vector_score it is evidence only if at least
    # min_term_coverage of the question's content words occur in the corpus (Kubernetes, tarte tatin
    # and football do not; "supprimer un bookmark" does through its translation).
    min_vector_score: float = 0.83
    confident_vector_score: float = 0.875
    min_term_coverage: float = 0.5
    # Between floor_vector_score and min_vector_score a question is still on topic when every
    # one of at least full_coverage_terms content words occurs in the corpus: masked templates
    # ("exited with return code <NUM> on <HOST>") embed a little further from a question that
    # names the values ("return code 137") than the raw text would.
    floor_vector_score: float = 0.80
    full_coverage_terms: int = 4


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
    term_coverage: float = 1.0
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

    @staticmethod
    def _rank(
        plan: Plan,
        scores: dict[str, float],
        nodes: dict[str, StoredNode],
        edges: dict[tuple[str, str, str], StoredEdge],
    ) -> dict[str, float]:
        final = dict(scores)
        for edge in edges.values():  # a Record and the Run it describes are one document: keep the Run
            if edge.type == "DESCRIBES" and edge.start in final and edge.end in final:
                final[edge.end] = max(final[edge.end], final.pop(edge.start))
        hinted = {label for hint in plan.hints for label in LABELS_BY_SOURCE.get(hint, ())}
        for uid in final:
            node = nodes.get(uid)
            if node is not None:
                final[uid] *= LABEL_PRIOR.get(node.label, 1.0)
                if node.label in hinted:
                    final[uid] *= SOURCE_HINT_BOOST
                if node.label in plan.answer_types:
                    final[uid] *= ANSWER_TYPE_BOOST
        parents: dict[str, list[str]] = defaultdict(list)
        for edge in edges.values():
            if edge.type in SIBLING_PARENTS and edge.start in final and edge.end in final:
                parents[edge.start].append(edge.end)
        seen: dict[str, int] = defaultdict(int)
        for uid in sorted(final, key=lambda u: -final[u]):
            groups = parents.get(uid, ())
            if any(seen[g] >= SIBLINGS_KEPT for g in groups):
                final[uid] *= 0.5
            for group in groups:
                seen[group] += 1
        return final

    async def _on_topic(self, plan: Plan, ev: Evidence, labels: list[str]) -> bool:
        s = self.strategy
        if ev.best_vector < s.floor_vector_score:
            return False
        if ev.best_vector >= s.confident_vector_score or not plan.terms:
            return ev.best_vector >= s.min_vector_score
        # one tiny full-text probe per content word (any of its forms), sent together
        probes = await asyncio.gather(
            *(self._store.fulltext_search(" ".join(forms), labels, 1) for forms in plan.terms)
        )
        known = sum(1 for hits in probes if hits)
        ev.term_coverage = known / len(plan.terms)
        if ev.best_vector < s.min_vector_score:
            return known == len(plan.terms) >= s.full_coverage_terms
        return ev.term_coverage >= s.min_term_coverage

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
        if not plan.identifiers and not extra_seeds and not await self._on_topic(plan, ev, labels):
            # Keyword matches alone ("point", "format") are not evidence: without an exact
            # identifier or a semantically close node, the graph does not hold the answer.
            ev.timings["expand_ms"] = 0.0
            return ev
        for uid in extra_seeds:
            fused[uid] += 1 / s.rrf_k
        if extra_seeds:
            for node in await self._store.get_nodes(list(extra_seeds)):
                nodes[node.uid] = node
        ranked = sorted(fused, key=lambda u: -fused[u])
        # RRF favours nodes found by both searches; the best hits of each search keep a seat anyway
        # (an error template that matches every word but is one of many similar vectors)
        firsts = [
            h.node.uid for h in vector_hits[:2] if h.node.uid in fused and h.score >= s.min_vector_score
        ]
        firsts += [h.node.uid for h in text_hits[:2] if h.node.uid in fused]
        seeds = sorted(list(dict.fromkeys([*firsts, *ranked]))[: s.seeds], key=lambda u: -fused[u])
        ev.seeds = seeds
        top = max(fused.values(), default=1.0)
        scores = {uid: fused[uid] / top for uid in seeds}
        t0 = time.perf_counter()
        edges: dict[tuple[str, str, str], StoredEdge] = {}
        contributed: set[tuple[str, str]] = set()
        frontier = [nodes[u] for u in seeds if u in nodes]
        for hop in range(1, s.hops + 1):
            base = dict(scores)  # contributions of this hop come from the scores before it
            by_label: dict[str, list[str]] = defaultdict(list)
            for node in frontier:
                if node.label in EXPANSION:
                    by_label[node.label].append(node.uid)
            reached: list[StoredNode] = []
            cap = s.cap_per_node if hop == 1 else max(2, s.cap_per_node // 3)
            # one query per label group, sent together (a Neo4j round trip each), used in order
            hoods = await asyncio.gather(
                *(self._store.neighbours(uids, EXPANSION[label], cap) for label, uids in by_label.items())
            )
            for hood in hoods:
                hood_nodes = {n.uid: n for n in hood.nodes}
                for edge in hood.edges:
                    edges[(edge.type, edge.start, edge.end)] = edge
                    for src, dst, direction in ((edge.start, edge.end, "out"), (edge.end, edge.start, "in")):
                        if src not in base or dst not in hood_nodes or (src, dst) in contributed:
                            continue
                        if not _allowed(hood_nodes[dst], plan, label_set | {"DelphixKind"}):
                            continue
                        contributed.add((src, dst))
                        share = base[src] * s.hop_decay * EDGE_WEIGHTS.get((edge.type, direction), 1.0)
                        if dst not in scores:
                            reached.append(hood_nodes[dst])
                            nodes[dst] = hood_nodes[dst]
                        # noisy-OR: a node reached from several evidence nodes rises, with
                        # diminishing returns (a pipeline seen from ten runs of a host)
                        scores[dst] = 1 - (1 - scores.get(dst, 0.0)) * (1 - share)
            frontier = reached
        ev.timings["expand_ms"] = (time.perf_counter() - t0) * 1000
        final = self._rank(plan, scores, nodes, edges)
        ev.scores = final
        ev.nodes = sorted((nodes[u] for u in final if u in nodes), key=lambda n: -final[n.uid])
        kept = {n.uid for n in ev.nodes}
        ev.edges = [e for e in edges.values() if e.start in kept and e.end in kept]
        return ev

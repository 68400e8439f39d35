"""The retrieval core, written once above the store port: seeds (vector + full-text with the
cross-lingual bridge) fused by rank, typed 1–2 hop expansion with degree caps and score
propagation, ranking by answer type, and a relevance judgement against the store's background.

``ask``, GraphQL ``search`` and the evaluation all go through :class:`Retriever`."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from flowrag.answer.planner import Plan
from flowrag.answer.retrieval.lexicon import Bridge
from flowrag.answer.retrieval.ranking import rank
from flowrag.answer.retrieval.relevance import PROBES, Background, Judgement, content_words, judge
from flowrag.answer.retrieval.strategy import EDGE_WEIGHTS, EXPANSION, LABELS_BY_SOURCE, RetrievalStrategy
from flowrag.graph.port import GraphStore, ScoredNode, StoredEdge, StoredNode
from flowrag.models.embeddings import Embedder
from flowrag.schema import ONTOLOGY

__all__ = ["Evidence", "Retriever", "domain_labels"]


@dataclass
class Evidence:
    nodes: list[StoredNode] = field(default_factory=list)  # ranked
    scores: dict[str, float] = field(default_factory=dict)
    edges: list[StoredEdge] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)
    best_vector: float = 0.0
    fulltext_hits: int = 0
    term_coverage: float = 0.0
    bridged: dict[str, tuple[str, ...]] = field(default_factory=dict)  # question word -> corpus words
    judgement: Judgement | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def off_topic(self) -> bool:
        return self.judgement is not None and self.judgement.verdict == "off-topic"


def domain_labels(sources: Sequence[str] = ()) -> list[str]:
    chosen = sources or tuple(LABELS_BY_SOURCE)
    return [label for s in chosen for label in LABELS_BY_SOURCE[s]]


def _allowed(node: StoredNode, plan: Plan, labels: set[str]) -> bool:
    if node.label not in labels:
        return False
    return not (
        plan.collections
        and node.label in ("Record", "Run", "Collection")
        and node.scope not in plan.collections
    )


@dataclass
class _Seeds:
    fused: dict[str, float]
    nodes: dict[str, StoredNode]
    vector_hits: list[ScoredNode]
    text_hits: list[ScoredNode]
    best_vector: float
    coverage: float
    bridged: dict[str, tuple[str, ...]]
    firsts: list[str]  # the best hits of each list: they keep a seat whatever the fusion says
    timings: dict[str, float]


class Retriever:
    def __init__(
        self, store: GraphStore, embedder: Embedder, strategy: RetrievalStrategy | None = None
    ) -> None:
        self._store = store
        self._embedder = embedder
        self.strategy = strategy or RetrievalStrategy()
        self._background: Background | None = None
        self._background_lock = asyncio.Lock()
        self._bridge = Bridge(store, embedder, [w for p in PROBES for w in content_words(p)])

    def invalidate(self) -> None:
        """The store's content changed: measure the background again on next use."""
        self._background = None

    # ------------------------------------------------------------------ seeds
    async def _coverage(self, words: Sequence[Sequence[str]]) -> list[bool]:
        """Which words (each with its other forms) the corpus holds (one store round trip)."""
        return await self._store.terms_present(words) if words else []

    async def _seeds(self, question: str, plan: Plan | None, labels: list[str]) -> _Seeds:
        s = self.strategy
        embedded = [lbl for lbl in labels if ONTOLOGY.label(lbl).embedded]
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query_vec = (await asyncio.to_thread(self._embedder.embed_queries, [question]))[0]
        timings["embed_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        terms = list(plan.terms) if plan and plan.terms else [(w,) for w in content_words(question)]
        vector_task = (
            self._store.vector_search(query_vec.tolist(), embedded, s.vector_k) if embedded else _empty()
        )
        vector_hits, found = await asyncio.gather(vector_task, self._coverage(terms))
        timings["vector_and_words_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        unknown = [forms[0] for forms, hit in zip(terms, found, strict=True) if not hit]
        bridged: dict[str, list[str]] = defaultdict(list)
        if unknown and s.bridge_words:
            for b in await self._bridge.bridge(unknown, s.bridge_words):
                bridged[b.word].append(b.term)
        timings["bridge_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        known = [w for forms, hit in zip(terms, found, strict=True) if hit for w in forms]
        identifiers = list(plan.identifiers) if plan else []
        text_terms = [*identifiers, *known]
        # the question's own words are one full-text list; each bridged word is a list of its own,
        # so a bridged word's best matches are not drowned by another word's frequent neighbours
        queries = [" ".join(dict.fromkeys(text_terms))] if text_terms else []
        queries += [" ".join(ts) for ts in bridged.values()]
        lists = (
            await asyncio.gather(*(self._store.fulltext_search(q, labels, s.fulltext_k) for q in queries))
            if s.fulltext_k and queries
            else []
        )
        timings["fulltext_ms"] = (time.perf_counter() - t0) * 1000
        own = bool(text_terms)
        text_hits = lists[0] if own and lists else []
        bridged_lists = lists[1:] if own else lists
        fused: dict[str, float] = defaultdict(float)
        nodes: dict[str, StoredNode] = {}
        label_set = set(labels)
        best = 0.0
        vector_hits = [h for h in vector_hits if plan is None or _allowed(h.node, plan, label_set)]
        text_hits = [h for h in text_hits if plan is None or _allowed(h.node, plan, label_set)]
        for position, hit in enumerate(vector_hits):
            best = max(best, hit.score)
            fused[hit.node.uid] += 1 / (s.rrf_k + position + 1)
            nodes[hit.node.uid] = hit.node
        for position, hit in enumerate(text_hits):
            # identifiers found verbatim weigh double: exact names beat paraphrases
            fused[hit.node.uid] += (2.0 if identifiers else 1.0) / (s.rrf_k + position + 1)
            nodes[hit.node.uid] = hit.node
        for hits in bridged_lists:  # a bridge is a guess: half the weight of a word found verbatim
            for position, hit in enumerate(
                h for h in hits if plan is None or _allowed(h.node, plan, label_set)
            ):
                fused[hit.node.uid] += 0.5 / (s.rrf_k + position + 1)
                nodes[hit.node.uid] = hit.node
        coverage = sum(found) / len(found) if found else 0.0
        firsts = [h.node.uid for h in vector_hits[:2]] + [h.node.uid for h in text_hits[:2]]
        firsts += [hits[0].node.uid for hits in bridged_lists if hits and hits[0].node.uid in fused]
        return _Seeds(
            fused,
            nodes,
            vector_hits,
            text_hits,
            best,
            coverage,
            {k: tuple(v) for k, v in bridged.items()},
            firsts,
            timings,
        )

    # ------------------------------------------------------------------ relevance
    async def background(self) -> Background:
        """What unrelated questions get from this store (measured once, see relevance.py)."""
        async with self._background_lock:
            if self._background is None:
                labels = domain_labels()
                embedded = [lbl for lbl in labels if ONTOLOGY.label(lbl).embedded]
                vectors = await asyncio.to_thread(self._embedder.embed_queries, list(PROBES))
                hits = await asyncio.gather(
                    *(
                        self._store.vector_search(v.tolist(), embedded, 1) if embedded else _empty()
                        for v in vectors
                    )
                )
                per_probe = [content_words(p) for p in PROBES]
                present = await self._coverage([(w,) for words in per_probe for w in words])
                coverage, at = [], 0
                for words in per_probe:  # one round trip for every probe's words, split back
                    found = present[at : at + len(words)]
                    at += len(words)
                    coverage.append(sum(found) / len(found) if found else 0.0)
                self._background = Background(
                    tuple(max((h.score for h in hs), default=0.0) for hs in hits), tuple(coverage)
                )
            return self._background

    # ------------------------------------------------------------------ search (no expansion)
    async def search(self, text: str, labels: Sequence[str], k: int) -> list[ScoredNode]:
        """Seeds only, fused by rank: GraphQL ``search``. Scores are the fused RRF values."""
        seeds = await self._seeds(text, None, list(labels))
        ranked = sorted(seeds.fused, key=lambda u: -seeds.fused[u])[:k]
        return [ScoredNode(seeds.nodes[u], seeds.fused[u]) for u in ranked]

    # ------------------------------------------------------------------ the whole path
    async def retrieve(self, plan: Plan, extra_seeds: Sequence[str] = ()) -> Evidence:
        s = self.strategy
        ev = Evidence()
        labels = domain_labels(plan.sources)
        label_set = set(labels)
        t0 = time.perf_counter()
        seeds = await self._seeds(plan.question, plan, labels)
        ev.timings["seeds_ms"] = (time.perf_counter() - t0) * 1000
        ev.timings.update({f"seeds.{k}": v for k, v in seeds.timings.items()})
        ev.best_vector, ev.term_coverage, ev.bridged = seeds.best_vector, seeds.coverage, seeds.bridged
        ev.fulltext_hits = len(seeds.text_hits)
        t0 = time.perf_counter()
        ev.judgement = judge(seeds.best_vector, seeds.coverage, await self.background())
        ev.timings["relevance_ms"] = (time.perf_counter() - t0) * 1000
        if ev.off_topic and not plan.identifiers and not extra_seeds:
            return ev  # neither signal above what unrelated questions get from this store
        fused, nodes = seeds.fused, seeds.nodes
        for uid in extra_seeds:
            fused[uid] += 1 / s.rrf_k
        if extra_seeds:
            for node in await self._store.get_nodes(list(extra_seeds)):
                nodes[node.uid] = node
        ranked = sorted(fused, key=lambda u: -fused[u])
        # RRF favours nodes found by several lists; the best hits of each list keep a seat anyway
        chosen = sorted(list(dict.fromkeys([*seeds.firsts, *ranked]))[: s.seeds], key=lambda u: -fused[u])
        ev.seeds = chosen
        top = max(fused.values(), default=1.0)
        scores = {uid: fused[uid] / top for uid in chosen}
        t0 = time.perf_counter()
        edges = await self._expand(plan, chosen, scores, nodes, label_set)
        ev.timings["expand_ms"] = (time.perf_counter() - t0) * 1000
        final = rank(plan, scores, nodes, edges, s)
        ev.scores = final
        ev.nodes = sorted((nodes[u] for u in final if u in nodes), key=lambda n: -final[n.uid])
        kept = {n.uid for n in ev.nodes}
        ev.edges = [e for e in edges.values() if e.start in kept and e.end in kept]
        return ev

    async def _expand(
        self,
        plan: Plan,
        seeds: list[str],
        scores: dict[str, float],
        nodes: dict[str, StoredNode],
        labels: set[str],
    ) -> dict[tuple[str, str, str], StoredEdge]:
        """Hop by hop from the seeds; a node's score flows to its neighbours (noisy-OR)."""
        s = self.strategy
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
                        if not _allowed(hood_nodes[dst], plan, labels | {"DelphixKind"}):
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
        return edges


async def _empty() -> list[ScoredNode]:
    return []

"""flowrag against what a user would pick instead, in one run, on the same data and questions.

1. **Ingestion, the seeds' pipeline**: one Chroma collection per Mongo collection, every document
   flattened to text, embedded with multilingual-e5-small through sentence-transformers, added with
   uuid ids — against `flowrag ingest` of the same documents (the bundled monitoring generator,
   ``--docs`` of them) into the embedded store. Records/s and the ratio.
2. **Retrieval on the gold set** (``--split``, test by default), on a Neo4j 5.26 graph built by
   flowrag from the gold corpus: flowrag's answer path; neo4j-graphrag's VectorRetriever,
   HybridRetriever and VectorCypherRetriever (one-hop expansion) on *that* graph (one vector index
   over every embedded node, flowrag's full-text index, the same e5 vectors and query embedder);
   BM25 (bm25s) and one vector per source document; the seeds' Chroma collections for the monitoring
   questions. recall@5 and latency per question, side by side.
3. Systems that need an LLM to index (LightRAG, Microsoft GraphRAG, Graphiti) get a row saying so.

pip install -e '.[peers]'   # chromadb, neo4j-graphrag, bm25s, sentence-transformers (not for the tests)
python bench/peers.py [--docs 5000] [--split test] [--skip-ingest] [--skip-retrieval]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import ROOT, median, percentile, report, store_server

from flowrag.eval.scoring import (
    BM25Baseline,
    DocumentBaseline,
    GoldItem,
    Outcome,
    evaluate,
    load_gold,
    score,
    select,
    source_documents,
)
from flowrag.settings import Settings, StoreKind

GOLD = ROOT / "eval" / "gold.yaml"
PEER_INDEX = "peer_all_embedded"  # the one vector index a neo4j-graphrag user creates


def _flatten(doc: dict[str, Any], prefix: str = "") -> list[str]:
    parts: list[str] = []
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            parts += _flatten(value, f"{name}.")
        else:
            parts.append(f"{name}: {value}")
    return parts


# ------------------------------------------------------------------------------------- ingestion
def ingest_side_by_side(docs: int, tmp: Path) -> list[tuple[str, str]]:
    from flowrag.examples.monitoring import example_database
    from flowrag.graph.embedded import EmbeddedStore
    from flowrag.ingest.monitoring import ingest_documents
    from flowrag.ingest.writer import IngestReport
    from flowrag.models.embeddings import CachedEmbedder, SentenceTransformerEmbedder, make_embedder
    from flowrag.models.vocabulary import load_vocabulary

    settings = Settings(data_dir=tmp)
    database = example_database(now=datetime(2026, 11, 22, 9, 30, tzinfo=UTC), runs=docs)
    total = sum(len(v) for v in database.values())
    # the seeds: Chroma + sentence-transformers e5, a collection per Mongo collection, uuid ids
    import chromadb

    st = SentenceTransformerEmbedder(settings.embedding, Settings().models_dir)
    st.embed_passages(["warm-up"])
    client = chromadb.PersistentClient(path=str(tmp / "chroma"))
    t0 = time.perf_counter()
    for name, rows in database.items():
        coll = client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"})
        for start in range(0, len(rows), 256):
            batch = rows[start : start + 256]
            texts = ["; ".join(_flatten(d)) for d in batch]
            vectors = st.embed_passages(texts)
            coll.add(
                ids=[str(uuid.uuid4()) for _ in batch],
                documents=texts,
                embeddings=[v.tolist() for v in vectors],
                metadatas=[{"_id": str(d["_id"])} for d in batch],
            )
    seeds_s = time.perf_counter() - t0
    # flowrag: the same documents, the default engine, a cold embedding cache
    inner = make_embedder(settings.embedding, Settings().models_dir)
    inner.embed_passages(["warm-up"])
    store = EmbeddedStore.open(tmp / "graph")

    async def ours() -> float:
        await store.migrate(384)
        embedder = CachedEmbedder(inner, None)
        t0 = time.perf_counter()
        for name, rows in database.items():
            await ingest_documents(
                store, embedder, load_vocabulary(), name, rows, IngestReport("mongo", name)
            )
        took = time.perf_counter() - t0
        await store.close()
        return took

    flowrag_s = asyncio.run(ours())
    return [
        ("documents (runs + alerts + tickets)", f"{total:,}"),
        (
            "seeds' pipeline (Chroma + sentence-transformers e5), s / docs/s",
            f"{seeds_s:.1f} / {total / seeds_s:,.0f}",
        ),
        ("flowrag ingest (embedded store), s / docs/s", f"{flowrag_s:.1f} / {total / flowrag_s:,.0f}"),
        ("flowrag / seeds throughput", f"{seeds_s / flowrag_s:.1f}x"),
    ]


# ------------------------------------------------------------------------------------- retrieval
def _graphrag_embedder(embedder: Any) -> Any:
    """neo4j-graphrag's embedder interface over flowrag's query embedder (the same vectors)."""
    from neo4j_graphrag.embeddings.base import Embedder

    class E5(Embedder):  # type: ignore[misc]
        def embed_query(self, text: str) -> list[float]:
            return [float(x) for x in embedder.embed_queries([text])[0]]

    return E5()


class GraphRagPeer:
    """One of neo4j-graphrag's retrievers on flowrag's Neo4j graph; uids ranked as returned."""

    def __init__(self, name: str, retriever: Any) -> None:
        self.name = name
        self._retriever = retriever
        self.escaped = 0  # questions Lucene refused as written

    async def build(self, docs: Any = None) -> int:
        return 0

    async def ask(self, item: GoldItem, k: int) -> Outcome:
        t0 = time.perf_counter()
        try:
            result = await asyncio.to_thread(self._retriever.search, query_text=item.question, top_k=k)
        except Exception as exc:  # HybridRetriever hands the text to Lucene as a query: escaped once
            if type(exc).__name__ != "SearchQueryParseError":
                raise
            self.escaped += 1
            text = re.sub(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)', r"\\\1", item.question)
            result = await asyncio.to_thread(self._retriever.search, query_text=text, top_k=k)
        ms = (time.perf_counter() - t0) * 1000
        ranked: list[str] = []
        for hit in result.items:
            data = json.loads(hit.content)
            for uid in [data.get("uid"), *(data.get("near") or [])]:
                if uid and uid not in ranked:
                    ranked.append(str(uid))
        return Outcome(item, tuple(ranked), tuple(ranked[:k]), "", False, ms)


def _as_item(record: Any) -> Any:
    """Each retriever's hit as its node's uid (and, for the one-hop query, its neighbours')."""
    from neo4j_graphrag.types import RetrieverResultItem

    node = record.get("node")
    uid = record.get("uid") or (node.get("uid") if hasattr(node, "get") else None)
    near = record.get("near")
    return RetrieverResultItem(content=json.dumps({"uid": uid, "near": near or []}), metadata={})


class ChromaSeedsPeer:
    """The seeds' Chroma collections over the gold corpus's monitoring documents: every collection
    queried, hits merged by distance (monitoring questions only)."""

    name = "seeds: Chroma + e5 (monitoring)"

    def __init__(self, store: Any, embedder: Any, tmp: Path) -> None:
        self._store = store
        self._embedder = embedder
        self._tmp = tmp
        self._collections: list[Any] = []

    async def build(self, docs: Any = None) -> int:
        import chromadb

        client = chromadb.PersistentClient(path=str(self._tmp / "chroma-gold"))
        records = [d for d in await source_documents(self._store) if d[1][0].startswith("Record:")]
        by_collection: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        for text, covers in records:
            by_collection[covers[0].split(":", 1)[1].split("/", 1)[0]].append((text, covers))
        for name, rows in by_collection.items():
            coll = client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"})
            vectors = self._embedder.embed_passages([t for t, _ in rows])
            coll.add(
                ids=[str(uuid.uuid4()) for _ in rows],
                documents=[t for t, _ in rows],
                embeddings=[v.tolist() for v in vectors],
                metadatas=[{"covers": json.dumps(c)} for _, c in rows],
            )
            self._collections.append(coll)
        return len(records)

    async def ask(self, item: GoldItem, k: int) -> Outcome:
        t0 = time.perf_counter()
        query = self._embedder.embed_queries([item.question])[0].tolist()
        hits: list[tuple[float, tuple[str, ...]]] = []
        for coll in self._collections:
            found = coll.query(query_embeddings=[query], n_results=k, include=["metadatas", "distances"])
            for meta, dist in zip(found["metadatas"][0], found["distances"][0], strict=True):
                hits.append((dist, tuple(json.loads(meta["covers"]))))
        hits.sort(key=lambda h: h[0])
        ranked: list[str] = []
        for _, covers in hits[:k]:
            ranked += [u for u in covers if u not in ranked]
        return Outcome(item, tuple(ranked), tuple(ranked[:k]), "", False, (time.perf_counter() - t0) * 1000)


async def retrieval_side_by_side(split: str, k: int, tmp: Path) -> list[tuple[str, str]]:
    from flowrag.answer.service import Answerer
    from flowrag.cli import _ingest_corpus
    from flowrag.runtime import Runtime

    gold = select(load_gold(GOLD), split)
    rows: list[tuple[str, str]] = [("questions", str(len(gold.items)))]
    with store_server("neo4j", tmp, (7698, 7485)) as bolt:
        settings = Settings(data_dir=tmp)
        settings.store.kind = StoreKind.NEO4J
        settings.store.neo4j_uri = bolt
        (tmp / "models").symlink_to(Settings().models_dir, target_is_directory=True)
        rt = await Runtime.open(settings)
        try:
            t0 = time.perf_counter()
            await _ingest_corpus(rt, load_gold(GOLD))
            rows.append(("gold corpus into Neo4j by flowrag, s", f"{time.perf_counter() - t0:.0f}"))
            peers = await _graphrag_peers(rt, bolt)
            answerer = Answerer(rt.store, rt.embedder, rt.nlp, settings.llm, timezone=gold.timezone)
            baselines: list[Any] = [DocumentBaseline(rt.store, rt.embedder), BM25Baseline(rt.store)]
            chroma = ChromaSeedsPeer(rt.store, rt.embedder, tmp)
            for b in [*baselines, chroma]:
                await b.build()
            ours, theirs = await evaluate(answerer, gold, k, baselines=[*peers, *baselines])
            monitoring = [
                i
                for i in gold.items
                if "mongo" in i.sources or i.category in ("monitoring", "temporal", "aggregate")
            ]
            chroma_out = [await chroma.ask(i, k) for i in monitoring]
        finally:
            await rt.close()
    systems: list[tuple[str, list[Outcome]]] = [("flowrag", ours)]
    systems += [(p.name, o) for p, o in zip([*peers, *baselines], theirs, strict=True)]
    for peer in peers:
        if peer.escaped:
            rows.append(
                (
                    f"{peer.name}: questions Lucene refused as written (escaped, asked again)",
                    str(peer.escaped),
                )
            )
    base = score(ours, k)
    for name, outcomes in systems:
        s = score(outcomes, k)
        ms = [o.ms for o in outcomes]
        rows.append(
            (
                f"{name}: recall@{k} / p50 ms / p95 ms",
                f"{s.recall_at_k:.3f} / {median(ms):.0f} / {percentile(ms, 95):.0f}"
                + (
                    ""
                    if name == "flowrag"
                    else f"  (flowrag recall {base.recall_at_k / s.recall_at_k:.2f}x)"
                    if s.recall_at_k
                    else ""
                ),
            )
        )
    ids = {i.id for i in monitoring}
    mon_ours = score([o for o in ours if o.item.id in ids], k)
    mon_chroma = score(chroma_out, k)
    rows.append(
        (
            f"monitoring questions ({len(ids)}): recall@{k} flowrag / seeds' Chroma",
            f"{mon_ours.recall_at_k:.3f} / {mon_chroma.recall_at_k:.3f}",
        )
    )
    return rows


async def _graphrag_peers(rt: Any, bolt: str) -> list[GraphRagPeer]:
    import neo4j
    from neo4j_graphrag.retrievers import HybridRetriever, VectorCypherRetriever, VectorRetriever

    from flowrag.graph.neo4j_queries import FULLTEXT_INDEX

    driver = neo4j.GraphDatabase.driver(bolt, auth=None)
    with driver.session() as session:
        # a neo4j-graphrag user indexes the domain nodes that carry a vector (not flowrag's Terms)
        session.run(
            "MATCH (n:FlowragNode) WHERE n.embedding IS NOT NULL AND NOT n:Term SET n:PeerIndexed"
        ).consume()
        session.run(
            f"CREATE VECTOR INDEX {PEER_INDEX} IF NOT EXISTS FOR (n:PeerIndexed) ON n.embedding "
            "OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine'}}"
        ).consume()
        session.run("CALL db.awaitIndexes(600)").consume()
    e5 = _graphrag_embedder(rt.embedder)
    one_hop = (
        "OPTIONAL MATCH (node)-[]-(m:FlowragNode) WITH node, score, collect(DISTINCT m.uid)[..4] AS near "
        "RETURN node.uid AS uid, near, score"
    )
    return [
        GraphRagPeer(
            "neo4j-graphrag VectorRetriever",
            VectorRetriever(driver, PEER_INDEX, e5, return_properties=["uid"], result_formatter=_as_item),
        ),
        GraphRagPeer(
            "neo4j-graphrag HybridRetriever",
            HybridRetriever(
                driver, PEER_INDEX, FULLTEXT_INDEX, e5, return_properties=["uid"], result_formatter=_as_item
            ),
        ),
        GraphRagPeer(
            "neo4j-graphrag VectorCypherRetriever (1 hop)",
            VectorCypherRetriever(driver, PEER_INDEX, one_hop, e5, result_formatter=_as_item),
        ),
    ]


LLM_INDEXERS = [
    (
        "LightRAG, Microsoft GraphRAG, Graphiti",
        "not run: each needs an LLM call per chunk (entities, relations, summaries; Graphiti also "
        "deduplicates each episode against the graph) before a question can be asked. Reported by users: "
        "GraphRAG ~$15 of gpt-4-turbo for 'a very small amount of text' and ~$12 for a book "
        "(microsoft/graphrag#431). flowrag indexes with 0 LLM tokens.",
    )
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=5000, help="monitoring runs for the ingestion comparison")
    parser.add_argument("--split", default="test")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-retrieval", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_ingest:
            (Path(tmp) / "ingest").mkdir()
            report(
                "Peers: ingestion of monitoring documents",
                ingest_side_by_side(args.docs, Path(tmp) / "ingest"),
            )
        if not args.skip_retrieval:
            (Path(tmp) / "retrieval").mkdir()
            rows = asyncio.run(retrieval_side_by_side(args.split, args.k, Path(tmp) / "retrieval"))
            report(f"Peers: retrieval on eval/gold.yaml ({args.split} split, Neo4j 5.26)", rows)
    report("Peers that index with an LLM", LLM_INDEXERS)


if __name__ == "__main__":
    main()

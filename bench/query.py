"""Answer-path latency without the LLM, on a graph grown to N nodes.

The graph is the gold set's corpus (DCT spec, example monitoring database, example repository)
plus a ``history`` collection of generated loghub-derived runs (two nodes each: Record + Run)
sized so the store holds about N nodes. Every question of ``eval/gold.yaml`` is asked in
extractive mode (plan -> vector + full-text -> expansion -> ranking -> context): the first pass
includes embedding the question with the model and whatever the store warms up (Neo4j compiles
and caches its query plans), the later passes find the question in the embedding cache (graph work,
the steady state of a running server). recall@5 at that size shows whether the distractors hurt retrieval.

python bench/query.py [--nodes 100000] [--store embedded|neo4j] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from _common import ROOT, median, percentile, report, store_server

from flowrag.answer.service import Answerer
from flowrag.eval.scoring import evaluate, load_gold, score
from flowrag.examples.monitoring import generate_runs
from flowrag.ingest.links import link_all
from flowrag.ingest.monitoring import ingest_documents
from flowrag.ingest.writer import IngestReport
from flowrag.runtime import Runtime
from flowrag.settings import Settings, StoreKind

GOLD = ROOT / "eval" / "gold.yaml"
NEO4J_PORTS = (7697, 7484)  # not the test suite's, so a test run can go on meanwhile


async def build(rt: Runtime, gold: Any, nodes: int) -> tuple[float, int]:
    from flowrag.cli import _ingest_corpus

    t0 = time.perf_counter()
    await _ingest_corpus(rt, gold)
    base = (await rt.store.stats()).total_nodes
    records = max(0, (nodes - base) // 2)
    if records:
        step = max(records // 10, 1000)

        def progress(collection: str, done: int, total: int | None) -> None:
            if done % step < 2000 or done == total:
                print(f"    {collection}: {done:,}/{total:,}", flush=True)

        await ingest_documents(
            rt.store,
            rt.embedder,
            rt.vocabulary,
            "history",
            # history: the 180 days before the gold set's week, so the gold's time windows
            # ("hier", "cette semaine") keep their answers while search sees every record
            generate_runs(
                records, now=gold.now - timedelta(days=8), days=180, start_index=10_000_000, seed=11
            ),
            IngestReport("mongo", "history"),
            batch_size=2000,
            progress=progress,
            total=records,
        )
        await link_all(rt.store)
    flush = getattr(rt.store, "flush", None)
    if flush is not None:
        await flush()
    return time.perf_counter() - t0, (await rt.store.stats()).total_nodes


async def measure(rt: Runtime, gold: Any, repeats: int) -> dict[str, Any]:
    answerer = Answerer(rt.store, rt.embedder, rt.nlp, rt.settings.llm)
    first: list[float] = []
    warm: list[float] = []
    for attempt in range(repeats):
        for item in gold.items:
            t0 = time.perf_counter()
            await answerer.ask(item.question, now=gold.now, use_llm=False)
            (first if attempt == 0 else warm).append((time.perf_counter() - t0) * 1000)
    outcomes, _ = await evaluate(answerer, gold, 5)
    scores = score(outcomes, 5)
    return {"first": first, "warm": warm, "recall": scores.recall_at_k, "mrr": scores.mrr}


async def run(kind: str, nodes: int, repeats: int, tmp: Path, uri: str) -> tuple[float, int, dict[str, Any]]:
    settings = Settings()
    settings.store.kind = StoreKind(kind)
    settings.store.path = tmp / "graph"
    settings.store.neo4j_uri = uri
    settings.store.batch_size = 5000
    gold = load_gold(GOLD)
    rt = await Runtime.open(settings)
    try:
        await rt.store.migrate(rt.embedder.dimension)
        built, total = await build(rt, gold, nodes)
        print(f"  built {total:,} nodes in {built:.0f} s", flush=True)
        return built, total, await measure(rt, gold, repeats)
    finally:
        await rt.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--store", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with tempfile.TemporaryDirectory() as name, store_server(args.store, Path(name), NEO4J_PORTS) as uri:
        built, total, m = asyncio.run(run(args.store, args.nodes, args.repeats, Path(name), uri))
    first, warm = m["first"], m["warm"] or m["first"]
    report(
        f"Answer path without LLM: {args.store} store, {total:,} nodes ({len(first)} gold questions)",
        [
            ("nodes", f"{total:,}"),
            ("graph build (ingest), s", f"{built:.0f}"),
            (
                "p50 / p95 ms, first pass (questions embedded, caches cold)",
                f"{median(first):.0f} / {percentile(first, 95):.0f}",
            ),
            (
                "p50 / p95 ms, later passes (goal < 50 / < 150)",
                f"{median(warm):.0f} / {percentile(warm, 95):.0f}",
            ),
            ("max ms, later passes", f"{max(warm):.0f}"),
            ("recall@5 / MRR at this size", f"{m['recall']:.3f} / {m['mrr']:.3f}"),
            ("passes over the gold set", str(args.repeats)),
        ],
    )


if __name__ == "__main__":
    main()

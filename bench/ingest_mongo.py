"""Monitoring ingestion at scale: N run records generated from the loghub-derived templates
(``flowrag.examples.monitoring.generate_runs``) into the embedded store, end to end (convert,
extract, template, embed distinct texts, write, checkpoint, link), then the unchanged full re-run
(raw-document hashes checked against the stored Records, deletions detected).

The pipeline is fed from the generator, as the Mongo connector feeds it from a pymongo cursor.
``--wire N`` separately measures how fast pymongo reads N documents back from the nx-27017
wire-protocol test server (and how fast they are inserted), to say which side bounds a real run.

python bench/ingest_mongo.py [--records 1000000] [--runs 1] [--wire 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import ROOT, median, report

from flowrag.examples.monitoring import generate_runs
from flowrag.graph.embedded import EmbeddedStore
from flowrag.ingest.links import link_all
from flowrag.ingest.monitoring import CollectionCheckpoint, delete_unseen, ingest_documents
from flowrag.ingest.writer import IngestReport
from flowrag.models.embeddings import CachedEmbedder, Embedder, make_embedder
from flowrag.models.vocabulary import load_vocabulary
from flowrag.schema import NodeLabel, make_uid
from flowrag.settings import Settings

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
NAME = "runs"
KEY = "bench:runs"


def _progress(every: int) -> Any:
    last = [time.perf_counter(), 0]

    def show(collection: str, done: int, total: int | None) -> None:
        if done - int(last[1]) >= every or done == total:
            now = time.perf_counter()
            rate = (done - int(last[1])) / max(now - float(last[0]), 1e-9)
            print(f"    {collection}: {done:,}/{total:,} ({rate:,.0f} rec/s)", flush=True)
            last[:] = [now, done]

    return show


async def one_pass(
    store: EmbeddedStore, embedder: CachedEmbedder, records: int, *, full: bool
) -> tuple[float, IngestReport]:
    vocabulary = load_vocabulary()
    found = await store.get_nodes([make_uid(NodeLabel.CHECKPOINT, KEY)])
    checkpoint = CollectionCheckpoint(store, KEY, NAME, "bench", dict(found[0].props) if found else {})
    report_ = IngestReport("mongo", NAME)
    seen: set[str] | None = set() if full else None
    t0 = time.perf_counter()
    await ingest_documents(
        store,
        embedder,
        vocabulary,
        NAME,
        generate_runs(records, now=NOW, days=30),
        report_,
        mapping=checkpoint.mapping,
        seen=seen,
        guard=checkpoint,
        progress=_progress(max(records // 10, 1000)),
        total=records,
    )
    if seen is not None:
        await checkpoint.finished_full_pass()
        await delete_unseen(store, NAME, seen, report_)
    await link_all(store)
    await store.flush()
    return time.perf_counter() - t0, report_.finish()


async def measure(
    path: Path, inner: Embedder, records: int
) -> tuple[float, IngestReport, float, IngestReport]:
    store = EmbeddedStore.open(path / "g")
    await store.migrate(384)
    embedder = CachedEmbedder(inner, None)  # cold embedding cache
    cold, first = await one_pass(store, embedder, records, full=False)
    print(f"    first pass {cold:.1f} s", flush=True)
    rerun, again = await one_pass(store, embedder, records, full=True)
    await store.close()
    return cold, first, rerun, again


def wire_rates(count: int) -> tuple[float, float]:
    """(insert docs/s, read docs/s) against a fresh nx-27017 server on loopback."""
    import sys

    sys.path.insert(0, str(ROOT))
    from pymongo import MongoClient

    from tests.support.mongo_server import MongoServer

    with tempfile.TemporaryDirectory() as tmp:
        server = MongoServer(Path(tmp))
        server.start()
        try:
            return _wire(MongoClient(server.uri), count)
        finally:
            server.stop()


def _wire(client: Any, count: int) -> tuple[float, float]:
    coll = client.bench.runs
    docs = list(generate_runs(count, now=NOW, days=30))
    t0 = time.perf_counter()
    for start in range(0, count, 1000):
        coll.insert_many(docs[start : start + 1000])
    inserted = count / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    read = sum(1 for _ in coll.find({}).sort("_id", 1).batch_size(1000))
    rate = read / (time.perf_counter() - t0)
    client.close()
    return inserted, rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--wire", type=int, default=20_000, help="documents for the wire-server read rate")
    args = parser.parse_args()
    settings = Settings()
    inner = make_embedder(settings.embedding, settings.models_dir)
    inner.embed_passages(["warm-up"])  # model load is not part of the ingestion figure
    firsts, reruns = [], []
    first = again = IngestReport("mongo", NAME)
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cold, first, rerun, again = asyncio.run(measure(Path(tmp), inner, args.records))
        assert again.writes == 0 and again.embedded == 0, again.as_dict()
        firsts.append(cold)
        reruns.append(rerun)
        print(f"  run {i + 1}: {cold:.1f} s first, {rerun:.1f} s unchanged full re-run", flush=True)
    rows = [
        ("records", f"{args.records:,}"),
        ("nodes created", f"{first.created:,}"),
        ("relationships", f"{first.relationships:,}"),
        ("distinct texts embedded", f"{first.embedded:,}"),
        ("first run, median s", f"{median(firsts):.1f}"),
        ("first run rec/s (goal >= 2,000)", f"{args.records / median(firsts):,.0f}"),
        ("unchanged full re-run, median s", f"{median(reruns):.1f}"),
        ("unchanged re-run rec/s (goal >= 20,000)", f"{args.records / median(reruns):,.0f}"),
        ("runs", str(args.runs)),
    ]
    if args.wire:
        inserted, read = wire_rates(args.wire)
        rows += [
            (f"nx-27017 insert rate ({args.wire:,} docs), docs/s", f"{inserted:,.0f}"),
            (f"nx-27017 read rate ({args.wire:,} docs), docs/s", f"{read:,.0f}"),
            (
                "bound, first run",
                "the wire server" if read < args.records / median(firsts) else "the pipeline",
            ),
            (
                "bound, unchanged re-run",
                "the wire server" if read < args.records / median(reruns) else "the pipeline",
            ),
        ]
    report(f"Monitoring ingestion: {args.records:,} loghub-derived run records, embedded store", rows)


if __name__ == "__main__":
    main()

"""Live Delphix estate through the DCT connector: 10,000 VDBs, 50,000 snapshots, 100,000 jobs
served by the tests' stateful fake DCT (cursor pages of 1,000, as DCT allows), then an unchanged
re-run (no-op: nothing written).

python bench/ingest_delphix.py [--store embedded|neo4j] [--runs 3] [--vdbs 10000] [--jobs 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import median, report, store_server

from flowrag.graph.factory import open_store
from flowrag.ingest.delphix import DctOptions, ingest_delphix
from flowrag.models.embeddings import make_embedder
from flowrag.settings import Settings, StoreKind
from tests.support.fake_dct import API_KEY, FakeDct, make_estate, serve


async def once(settings: Settings, embedder: object, url: str) -> tuple[float, float, dict[str, object], int]:
    store = await open_store(settings)
    await store.wipe()
    await store.migrate(384)
    options = DctOptions(url, API_KEY, name="dct-bench", since="7d")
    t0 = time.perf_counter()
    first = await ingest_delphix(store, embedder, options)  # type: ignore[arg-type]
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = await ingest_delphix(store, embedder, options)  # type: ignore[arg-type]
    rerun = time.perf_counter() - t0
    await store.close()
    return cold, rerun, first.as_dict(), again.writes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--vdbs", type=int, default=10_000)
    parser.add_argument("--snapshots", type=int, default=5, help="per dataset (dSources and VDBs)")
    parser.add_argument("--jobs", type=int, default=100_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    estate = make_estate(
        datetime.now(UTC), vdbs=args.vdbs, snapshots_per_dataset=args.snapshots, jobs=args.jobs
    )
    counts = estate.counts()
    print(f"  estate generated in {time.perf_counter() - t0:.1f} s: {counts}")
    fake = FakeDct(estate)
    colds, reruns = [], []
    first: dict[str, object] = {}
    writes = 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        store_server(args.store, Path(tmp), (7697, 7484)) as bolt,
        serve(fake) as url,
    ):
        settings = Settings(data_dir=Path(tmp))
        if args.store == "neo4j":
            settings.store.kind = StoreKind.NEO4J
            settings.store.neo4j_uri = bolt
        else:
            settings.store.path = Path(tmp) / "graph"
        embedder = make_embedder(settings.embedding, Settings().models_dir)
        for i in range(args.runs):
            before = len(fake.requests)
            cold, rerun, first, writes = asyncio.run(once(settings, embedder, url))
            colds.append(cold)
            reruns.append(rerun)
            pages = (len(fake.requests) - before) // 2
            print(
                f"  run {i + 1}: {cold:.1f} s first sync, {rerun:.1f} s unchanged re-run ({writes} writes), {pages} pages"
            )
    objects = int(first["created"])  # type: ignore[call-overload]
    report(
        f"Delphix estate sync through the DCT connector ({args.store} store, fake DCT on loopback)",
        [
            ("estate (read)", ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)),
            ("nodes written (snapshots: latest 3 + window)", f"{objects:,}"),
            ("relationships", f"{first['relationships']:,}"),
            ("first sync, median s", f"{median(colds):.1f}"),
            ("objects/s, first sync", f"{objects / median(colds):,.0f}"),
            ("unchanged re-run, median s", f"{median(reruns):.1f}"),
            ("unchanged re-run writes", str(writes)),
            ("runs", str(args.runs)),
        ],
    )


if __name__ == "__main__":
    main()

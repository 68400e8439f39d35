"""The morning report at scale: the time to build one day's report over N runs.

The runs are bench/aggregate.py's (default 1,000,000 over 180 days: 300 pipelines, 5 technologies,
40 hosts, 50 error templates, 8% failures). The report of the day before NOW (Europe/Paris) is
built ``--repeats`` times after one warm-up; the figure is the median and the worst build, and how
many typed aggregate queries one build runs.

Goal (morning-report issue): < 5 s over 1,000,000 runs on the embedded store and on Neo4j.

python bench/report.py [--runs 1000000] [--store embedded|neo4j] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import median, report, store_server
from aggregate import NEO4J_PORTS, NOW, load_runs

from flowrag.graph import open_store
from flowrag.report.facts import build_facts, yesterday
from flowrag.settings import Settings, StoreKind

TZ = "Europe/Paris"


class Counting:
    """The store, counting aggregate queries."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.queries = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def aggregate_runs(self, query: Any) -> Any:
        self.queries += 1
        return await self._store.aggregate_runs(query)


async def measure(kind: str, n: int, repeats: int, tmp: Path, uri: str) -> dict[str, Any]:
    settings = Settings()
    settings.store.kind = StoreKind(kind)
    settings.store.path = tmp / "graph"
    settings.store.neo4j_uri = uri
    store = await open_store(settings)
    try:
        load = await load_runs(store, n)
        day = yesterday(TZ, NOW)
        counting = Counting(store)
        times = []
        built = None
        for rep in range(repeats + 1):
            counting.queries = 0
            t = time.perf_counter()
            built = await build_facts(counting, day, TZ, "fr", now=NOW)  # type: ignore[arg-type]
            if rep:
                times.append(time.perf_counter() - t)
        assert built is not None
        return {
            "load": load,
            "times": times,
            "queries": counting.queries,
            "day": day.isoformat(),
            "failed": built.failed,
            "flows": built.failing_flows,
            "trends": len(built.trends),
            "streaks": len(built.streaks),
        }
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--store", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, store_server(args.store, Path(name), NEO4J_PORTS) as uri:
        m = asyncio.run(measure(args.store, args.runs, args.repeats, Path(name), uri))
    rows = [
        ("runs", f"{args.runs:,}"),
        ("load (upsert), s", f"{m['load']:.0f}"),
        ("report day", f"{m['day']} ({TZ})"),
        ("that day: failed runs / failing flows", f"{m['failed']:,} / {m['flows']}"),
        ("trends / streaks found", f"{m['trends']} / {m['streaks']}"),
        ("aggregate queries per report", str(m["queries"])),
        ("build median / worst, s (goal < 5)", f"{median(m['times']):.2f} / {max(m['times']):.2f}"),
        ("timed builds", str(args.repeats)),
    ]
    report(f"Morning report: {args.store} store, {args.runs:,} runs", rows)


if __name__ == "__main__":
    main()

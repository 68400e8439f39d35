"""Aggregates over runs at scale: typed run queries and the aggregate answer path over N runs.

N generated runs (default 1,000,000) over 180 days: 300 pipelines on 5 technologies, 40 hosts,
3 environments, 50 error templates, 8% failures. Twelve typed queries cover the shapes the
planner produces (a window, a group, a filter by a group value, negation scoped and unscoped,
days, durations, the last failure of one flow); each runs ``--repeats`` times after one warm-up
pass, and p50/p95 are over every timed run. The same questions in French and English are then
asked end to end (plan -> typed aggregate -> causes per group -> extractive answer).

Goal (monitoring issue): p95 < 150 ms over 1,000,000 runs on both stores.

python bench/aggregate.py [--runs 1000000] [--store embedded|neo4j] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import median, percentile, report, store_server

from flowrag.graph.aggregate import RunQuery
from flowrag.runtime import Runtime
from flowrag.schema import NodeLabel, NodeRow
from flowrag.settings import Settings, StoreKind
from flowrag.timeutil import to_iso

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
NEO4J_PORTS = (7698, 7485)
PIPES = [f"flow_{i:03d}" for i in range(300)]
TECHS = ["spark", "kafka", "airflow", "informatica", "control-m"]
HOSTS = [f"lx-{i:02d}" for i in range(40)]
ENVS = ["prod", "qa", "dev"]
TEMPLATES = [f"tpl{i:02d}" for i in range(50)]


def runs(n: int, batch: int = 10_000) -> Iterator[list[NodeRow]]:
    rng = random.Random(42)
    span = 180 * 24 * 3600
    rows: list[NodeRow] = []
    for i in range(n):
        pipe = PIPES[int(rng.paretovariate(1.2)) % len(PIPES)]
        failed = rng.random() < 0.08
        start = NOW - timedelta(seconds=rng.randrange(span))
        props: dict[str, object] = {
            "pipeline": pipe,
            "status": "FAILED" if failed else "SUCCESS",
            "started_at": to_iso(start),
            "duration_s": float(rng.randrange(5, 3600)),
            "technology": TECHS[PIPES.index(pipe) % len(TECHS)],
            "host": rng.choice(HOSTS),
            "environment": rng.choice(ENVS),
            "collection": "history",
        }
        if failed:
            props["error_template"] = rng.choice(TEMPLATES)
            props["error_message"] = (
                f"job {pipe} failed on step {rng.randrange(9)}: code {rng.randrange(255)}"
            )
        ref = f"history/{i}"
        rows.append(NodeRow(NodeLabel.RUN, ref, "mongo", "history", ref, name=f"{pipe} {i}", props=props))
        if len(rows) == batch:
            yield rows
            rows = []
    if rows:
        yield rows


def group_nodes() -> list[NodeRow]:
    out = [NodeRow(NodeLabel.PIPELINE, p, "mongo", "_shared", p, name=p) for p in PIPES]
    out += [NodeRow(NodeLabel.TECHNOLOGY, t, "mongo", "_shared", t, name=t) for t in TECHS]
    out += [NodeRow(NodeLabel.HOST, h, "mongo", "_shared", h, name=h) for h in HOSTS]
    out += [NodeRow(NodeLabel.ENVIRONMENT, e, "mongo", "_shared", e, name=e) for e in ENVS]
    out += [NodeRow(NodeLabel.ERROR, t, "mongo", "_shared", t, name=f"template {t}") for t in TEMPLATES]
    out.append(NodeRow(NodeLabel.COLLECTION, "history", "mongo", "history", "history", name="history"))
    return out


async def load_runs(store: Any, n: int) -> float:
    """The group nodes, then ``n`` runs in batches, with progress; seconds taken by the runs."""
    await store.upsert_nodes(group_nodes())
    t0 = time.perf_counter()
    done = 0
    for batch in runs(n):
        await store.upsert_nodes(batch)
        done += len(batch)
        if done % max(n // 10, 1) < len(batch):
            print(f"    {done:,}/{n:,} runs", flush=True)
    await store.flush()
    return time.perf_counter() - t0


def day(offset: int) -> str:
    return to_iso(NOW.replace(hour=0, minute=0, second=0) - timedelta(days=offset))


QUERIES: list[tuple[str, RunQuery]] = [
    ("failed yesterday by pipeline", RunQuery(("FAILED",), day(1), day(0))),
    ("failed this week by pipeline", RunQuery(("FAILED",), day(6), to_iso(NOW))),
    ("failed, all time, by technology", RunQuery(("FAILED",), group_by="technology", limit=1)),
    ("never failed, all time", RunQuery(("FAILED",), negate=True, limit=50)),
    ("never failed this week", RunQuery(("FAILED",), day(6), to_iso(NOW), negate=True, limit=50)),
    ("failed by host, last 7 days", RunQuery(("FAILED",), day(7), to_iso(NOW), group_by="host")),
    ("failed per day, 14 days", RunQuery(("FAILED",), day(13), to_iso(NOW), group_by="day", limit=31)),
    (
        "spark failures yesterday by host",
        RunQuery(("FAILED",), day(1), day(0), (("technology", ("spark",)),), "host"),
    ),
    ("longest runs yesterday", RunQuery((), day(1), day(0), order="longest")),
    ("last failure of one flow", RunQuery(("FAILED",), where=(("pipeline", ("flow_007",)),), order="last")),
    ("failed yesterday by error", RunQuery(("FAILED",), day(1), day(0), group_by="error_template")),
    ("failed, all time, by pipeline", RunQuery(("FAILED",), limit=10)),
]
QUESTIONS = [
    "Quels flux ont échoué hier et pourquoi ?",
    "Combien d'échecs cette semaine ?",
    "Quelle technologie échoue le plus ?",
    "Quels flux n'ont jamais échoué ?",
    "Which hosts had the most failures in the last 7 days?",
    "Nombre d'échecs par jour",
    "Which spark pipelines failed yesterday?",
    "Quand flow_007 a-t-il échoué pour la dernière fois ?",
    "Failures this week compared with last week",
]


async def measure(kind: str, n: int, repeats: int, tmp: Path, uri: str) -> dict[str, object]:
    settings = Settings()
    settings.store.kind = StoreKind(kind)
    settings.store.path = tmp / "graph"
    settings.store.neo4j_uri = uri
    rt = await Runtime.open(settings)
    try:
        await rt.store.migrate(rt.embedder.dimension)
        load = await load_runs(rt.store, n)
        per_query: dict[str, list[float]] = {}
        for rep in range(repeats + 1):
            for name, query in QUERIES:
                t = time.perf_counter()
                await rt.store.aggregate_runs(query)
                if rep:  # the first pass warms caches (and Neo4j's plan cache)
                    per_query.setdefault(name, []).append((time.perf_counter() - t) * 1000)
        answerer = rt.answerer
        answers: dict[str, list[float]] = {}
        routes = set()
        for rep in range(repeats + 1):
            for question in QUESTIONS:
                t = time.perf_counter()
                result = await answerer.ask(question, now=NOW, use_llm=False)
                routes.add(result.route)
                if rep:
                    answers.setdefault(question, []).append((time.perf_counter() - t) * 1000)
        return {"load": load, "queries": per_query, "answers": answers, "routes": routes}
    finally:
        await rt.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--store", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with tempfile.TemporaryDirectory() as name, store_server(args.store, Path(name), NEO4J_PORTS) as uri:
        m = asyncio.run(measure(args.store, args.runs, args.repeats, Path(name), uri))
    queries: dict[str, list[float]] = m["queries"]  # type: ignore[assignment]
    every = [t for times in queries.values() for t in times]
    per_answer: dict[str, list[float]] = m["answers"]  # type: ignore[assignment]
    answers = [t for times in per_answer.values() for t in times]
    rows = [
        ("runs", f"{args.runs:,}"),
        ("load (upsert), s", f"{m['load']:.0f}"),
        ("typed queries p50 / p95 ms (goal p95 < 150)", f"{median(every):.1f} / {percentile(every, 95):.1f}"),
    ]
    rows += [(f"  {name}, median ms", f"{median(times):.1f}") for name, times in queries.items()]
    rows += [
        (
            "aggregate answers end to end p50 / p95 ms",
            f"{median(answers):.0f} / {percentile(answers, 95):.0f}",
        ),
    ]
    rows += [(f"  {q[:48]}, median ms", f"{median(times):.0f}") for q, times in per_answer.items()]
    rows += [
        ("routes taken by the questions", ", ".join(sorted(m["routes"]))),  # type: ignore[call-overload]
        ("timed passes", str(args.repeats)),
    ]
    report(f"Run aggregates: {args.store} store, {args.runs:,} runs", rows)


if __name__ == "__main__":
    main()

"""Graph store benchmark: bulk upsert of N nodes with 384-d embeddings + 2N relationships, then
vector queries and two-hop expansions, on the embedded store and/or a real Neo4j.

    python bench/store.py --nodes 1000000 --store embedded
    python bench/store.py --nodes 100000 --store neo4j      # starts the test launcher

Reports nodes/s, rels/s, p50/p95 query ms, and the cold start of a fresh process that opens the
store and answers one vector query (what a CLI command pays).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import ROOT, percentile, report

from flowrag.graph.expansion import ExpansionStep, expand
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType

DIM = 384
BATCH = 5000


def make_nodes(start: int, count: int, rng: np.random.Generator) -> list[NodeRow]:
    vecs = rng.standard_normal((count, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    rows = []
    for i in range(count):
        n = start + i
        rows.append(
            NodeRow(
                NodeLabel.RECORD,
                f"bench/{n}",
                "mongo",
                "bench",
                f"bench/{n}",
                name=f"record {n}",
                text=f"run {n} of pipeline p{n % 1000} status {'FAILED' if n % 7 == 0 else 'SUCCESS'}",
                props={"pipeline": f"p{n % 1000}", "n": n},
                embedding=tuple(vecs[i].tolist()),
            )
        )
    return rows


def make_rels(start: int, count: int, total: int, rng: np.random.Generator) -> list[RelRow]:
    rels = []
    for i in range(count):
        n = start + i
        for other in (int(rng.integers(0, total)), int(rng.integers(0, total))):
            if other != n:
                rels.append(RelRow(RelType.MENTIONS, f"Record:bench/{n}", f"Record:bench/{other}"))
    return rels


async def open_store(kind: str, path: Path, uri: str) -> object:
    if kind == "embedded":
        from flowrag.graph.embedded import EmbeddedStore

        return EmbeddedStore.open(path)
    from flowrag.graph.neo4j_store import Neo4jStore

    return await Neo4jStore.connect(uri, batch_size=BATCH)


async def run(kind: str, nodes: int, queries: int, path: Path, uri: str) -> dict[str, float]:
    store = await open_store(kind, path, uri)
    await store.migrate(DIM)  # type: ignore[attr-defined]
    rng = np.random.default_rng(42)
    t_nodes = t_rels = 0.0
    done = 0
    rels_written = 0
    while done < nodes:
        count = min(BATCH, nodes - done)
        rows = make_nodes(done, count, rng)
        t0 = time.perf_counter()
        await store.upsert_nodes(rows)  # type: ignore[attr-defined]
        t_nodes += time.perf_counter() - t0
        done += count
        if done % 100_000 == 0 or done == nodes:
            print(f"  {kind}: {done:,} nodes, {done / t_nodes:,.0f} nodes/s", file=sys.stderr, flush=True)
    done = 0
    while done < nodes:
        count = min(BATCH, nodes - done)
        rels = make_rels(done, count, nodes, rng)
        t0 = time.perf_counter()
        await store.upsert_relationships(rels)  # type: ignore[attr-defined]
        t_rels += time.perf_counter() - t0
        rels_written += len(rels)
        done += count
        if done % 200_000 == 0 or done == nodes:
            print(
                f"  {kind}: {rels_written:,} rels, {rels_written / t_rels:,.0f} rels/s",
                file=sys.stderr,
                flush=True,
            )
    if hasattr(store, "flush"):
        t0 = time.perf_counter()
        await store.flush()  # type: ignore[attr-defined]
        t_flush = time.perf_counter() - t0
    else:
        t_flush = 0.0
    qv = rng.standard_normal((queries, DIM)).astype(np.float32)
    qv /= np.linalg.norm(qv, axis=1, keepdims=True)
    vec_ms = []
    for q in qv:
        t0 = time.perf_counter()
        await store.vector_search(q.tolist(), ["Record"], 10)  # type: ignore[attr-defined]
        vec_ms.append((time.perf_counter() - t0) * 1000)
    exp_ms = []
    steps = [ExpansionStep(("MENTIONS",), 10), ExpansionStep(("MENTIONS",), 10, max_frontier=50)]
    for _ in range(queries):
        seed = f"Record:bench/{int(rng.integers(0, nodes))}"
        t0 = time.perf_counter()
        await expand(store, [seed], steps)  # type: ignore[arg-type]
        exp_ms.append((time.perf_counter() - t0) * 1000)
    await store.close()  # type: ignore[attr-defined]
    return {
        "nodes_per_s": nodes / t_nodes,
        "rels_per_s": rels_written / t_rels,
        "rels": rels_written,
        "flush_s": t_flush,
        "vector_p50": percentile(vec_ms, 50),
        "vector_p95": percentile(vec_ms, 95),
        "expand_p50": percentile(exp_ms, 50),
        "expand_p95": percentile(exp_ms, 95),
    }


COLD = """
import asyncio, time, sys
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from flowrag.graph.embedded import EmbeddedStore
async def main():
    store = EmbeddedStore.open({path!r})
    hits = await store.vector_search([1.0] + [0.0] * 383, ["Record"], 10)
    await store.close()
    return len(hits)
n = asyncio.run(main())
print(time.perf_counter() - t0, n)
"""


def cold_start(path: Path) -> float:
    times = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", COLD.format(root=str(ROOT), path=str(path))],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.split()[0]))
    return sorted(times)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--store", choices=["embedded", "neo4j", "both"], default="both")
    parser.add_argument("--neo4j-uri", default="")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="flowrag-bench-") as tmp:
        tmpdir = Path(tmp)
        if args.store in ("embedded", "both"):
            results["embedded"] = asyncio.run(run("embedded", args.nodes, args.queries, tmpdir / "g", ""))
            results["embedded"]["cold_start_s"] = cold_start(tmpdir / "g")
        if args.store in ("neo4j", "both"):
            server = None
            uri = args.neo4j_uri
            if not uri:
                from tests.support.neo4j_server import Neo4jServer

                server = Neo4jServer(tmpdir / "neo4j", bolt_port=7688, http_port=7475)
                server.data_dir.mkdir(parents=True)
                server.start()
                uri = server.bolt_uri
            try:
                results["neo4j"] = asyncio.run(run("neo4j", args.nodes, args.queries, tmpdir, uri))
            finally:
                if server:
                    server.stop()
    for kind, r in results.items():
        rows = [
            ("nodes", f"{args.nodes:,} (384-d embeddings)"),
            ("relationships", f"{int(r['rels']):,}"),
            ("upsert nodes/s", f"{r['nodes_per_s']:,.0f}"),
            ("upsert rels/s", f"{r['rels_per_s']:,.0f}"),
            ("vector top-10 p50 / p95 ms", f"{r['vector_p50']:.1f} / {r['vector_p95']:.1f}"),
            ("2-hop expansion p50 / p95 ms", f"{r['expand_p50']:.1f} / {r['expand_p95']:.1f}"),
        ]
        if "cold_start_s" in r:
            rows.append(("CLI cold start (open + 1 vector query), s", f"{r['cold_start_s']:.2f}"))
            rows.append(("vector index save, s", f"{r['flush_s']:.1f}"))
        report(f"store benchmark: {kind}", rows)
    if args.json:
        args.json.write_text(json.dumps({"nodes": args.nodes, "results": results}, indent=2))


if __name__ == "__main__":
    main()

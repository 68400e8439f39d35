"""GraphQL API under load: `flowrag serve` (uvicorn, one process) on loopback, the gold set's
corpus in an embedded store, and C concurrent clients for S seconds sending `search` and `ask`
(extractive: no LLM configured) with the gold set's questions, half each.

Each client waits for its answer before sending the next request (closed loop), so throughput is
what the server sustains at that concurrency. Any HTTP status other than 200 or a GraphQL
``errors`` entry counts as an error.

python bench/api.py [--clients 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import ROOT, median, percentile, report

from flowrag.eval.scoring import load_gold
from flowrag.runtime import Runtime
from flowrag.settings import Settings

GOLD = ROOT / "eval" / "gold.yaml"
SEARCH = "query($t: String!) { search(text: $t, topK: 10) { score node { uid label name } } }"
ASK = (
    "query($q: String!) { ask(question: $q, topK: 8) "
    "{ answer mode citations { number label provenance } timings } }"
)


async def prepare(path: Path) -> None:
    from flowrag.cli import _ingest_corpus

    settings = Settings()
    settings.store.path = path
    rt = await Runtime.open(settings)
    try:
        await rt.store.migrate(rt.embedder.dimension)
        await _ingest_corpus(rt, load_gold(GOLD))
    finally:
        await rt.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FLOWRAG_LLM__MODEL": "", "TOKENIZERS_PARALLELISM": "false"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flowrag", "--store-path", str(path), "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"flowrag serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("flowrag serve did not answer /health within 180 s")


async def load(url: str, questions: list[str], clients: int, seconds: float) -> dict[str, list[Any]]:
    results: dict[str, list[Any]] = {"search": [], "ask": [], "errors": []}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def call(op: str, question: str) -> None:
            body = (
                {"query": SEARCH, "variables": {"t": question}}
                if op == "search"
                else {"query": ASK, "variables": {"q": question}}
            )
            t0 = time.perf_counter()
            try:
                response = await client.post("/graphql", json=body)
                data = response.json()
                ok = response.status_code == 200 and not data.get("errors")
                detail = "" if ok else f"{response.status_code} {str(data.get('errors'))[:200]}"
            except (httpx.HTTPError, ValueError) as exc:
                ok, detail = False, f"{exc.__class__.__name__}: {exc}"
            elapsed = (time.perf_counter() - t0) * 1000
            if ok:
                results[op].append(elapsed)
            else:
                results["errors"].append(f"{op}: {detail}")

        for question in questions:  # warm-up: every question's embedding is computed once
            await call("ask", question)
        results = {"search": [], "ask": [], "errors": []}
        deadline = time.monotonic() + seconds

        async def worker(n: int) -> None:
            i = n
            while time.monotonic() < deadline:
                await call("search" if i % 2 == 0 else "ask", questions[i % len(questions)])
                i += clients

        await asyncio.gather(*(worker(n) for n in range(clients)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    questions = [item.question for item in load_gold(GOLD).items]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        asyncio.run(prepare(tmp / "graph"))
        port = free_port()
        proc = start_server(tmp / "graph", port, tmp / "serve.log")
        try:
            t0 = time.perf_counter()
            results = asyncio.run(load(f"http://127.0.0.1:{port}", questions, args.clients, args.seconds))
            wall = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    rows: list[tuple[str, str]] = [("clients / seconds", f"{args.clients} / {args.seconds:.0f}")]
    total = 0
    for op in ("search", "ask"):
        lat = results[op]
        total += len(lat)
        rows += [
            (f"{op}: requests", f"{len(lat):,}"),
            (f"{op}: throughput req/s", f"{len(lat) / args.seconds:.1f}"),
            (f"{op}: p50 / p95 ms", f"{median(lat):.0f} / {percentile(lat, 95):.0f}" if lat else "-"),
        ]
    rows += [
        ("all: throughput req/s", f"{total / args.seconds:.1f}"),
        ("errors", str(len(results["errors"]))),
        ("wall s (incl. warm-up)", f"{wall:.0f}"),
    ]
    for line in results["errors"][:5]:
        rows.append(("error sample", line))
    report("GraphQL API under load (uvicorn, extractive ask, embedded store)", rows)


if __name__ == "__main__":
    main()

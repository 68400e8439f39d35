"""Helpers shared by the benchmark scripts (timing, percentiles, machine line)."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextmanager
def timer() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n## {title}\nmachine: {machine()}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")


@contextmanager
def store_server(kind: str, tmp: Path, ports: tuple[int, int]) -> Iterator[str]:
    """The Bolt URI of a throwaway Neo4j 5.26 (the tests' launcher) when ``kind`` is neo4j, on
    ``ports`` (bolt, http) away from the test suite's; "" for the embedded store."""
    if kind != "neo4j":
        yield ""
        return
    from tests.support.neo4j_server import Neo4jServer

    (tmp / "neo4j").mkdir(exist_ok=True)
    # tuned for measuring, unlike the tests' small server: a 4 GB heap on the parallel collector
    # (2 cores) and a page cache sized to hold a million runs with their indexes
    server = Neo4jServer(
        tmp / "neo4j",
        bolt_port=ports[0],
        http_port=ports[1],
        heap=os.environ.get("FLOWRAG_BENCH_NEO4J_HEAP", "4g"),
        jvm_flags=("-XX:+UseParallelGC",),
        pagecache=os.environ.get("FLOWRAG_BENCH_NEO4J_PAGECACHE", "4g"),
    )
    server.start()
    try:
        yield server.bolt_uri
    finally:
        server.stop()

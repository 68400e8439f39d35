"""The corpus a gold set names, ingested the same way for `flowrag eval`, the benchmarks and the
demo: OpenAPI specs, a monitoring database (the bundled example or a dump) and code repositories.
Idempotent: a second run writes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flowrag.errors import SourceError
from flowrag.ingest.writer import IngestReport, Progress

__all__ = ["ingest_corpus"]


async def ingest_corpus(
    runtime: Any,
    corpus: Mapping[str, Any],
    base: Path,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    batch_size: int = 1000,
) -> list[IngestReport]:
    """``corpus``: ``openapi`` (a list of ``{location, name}``), ``monitoring`` ("example" for the
    bundled database, or a dump path) and ``code`` (a list of ``{path, name}``); relative paths
    are taken from ``base``. ``now`` dates the example database's runs."""
    from flowrag.ingest.code import ingest_code
    from flowrag.ingest.monitoring import ingest_documents, ingest_json_dump
    from flowrag.ingest.openapi import ingest_openapi

    reports: list[IngestReport] = []
    for spec in corpus.get("openapi") or []:
        location = spec["location"] if "://" in spec["location"] else str(base / spec["location"])
        name = spec.get("name")
        if progress:
            progress(f"openapi: {name or Path(location).name}", 0, 1)
        reports.append(await ingest_openapi(runtime.store, runtime.embedder, location, name))
        if progress:
            progress(f"openapi: {name or Path(location).name}", 1, 1)
    monitoring = corpus.get("monitoring")
    if monitoring == "example":
        from flowrag.examples.monitoring import example_database

        for collection, docs in example_database(now=now).items():
            report = IngestReport("mongo", collection)
            await ingest_documents(
                runtime.store,
                runtime.embedder,
                runtime.vocabulary,
                collection,
                docs,
                report,
                progress=progress,
                total=len(docs),
                batch_size=batch_size,
                nlp=runtime.nlp,
            )
            reports.append(report.finish())
    elif monitoring:
        reports += await ingest_json_dump(
            runtime.store,
            runtime.embedder,
            runtime.vocabulary,
            base / str(monitoring),
            progress,
            nlp=runtime.nlp,
        )
    for spec in corpus.get("code") or []:
        path = base / spec["path"]
        if not path.is_dir():
            raise SourceError(f"corpus code path {path} is not a directory")
        reports.append(
            await ingest_code(runtime.store, runtime.embedder, str(path), spec.get("name"), progress)
        )
    return reports

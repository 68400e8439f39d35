"""HTML documentation ingestion from a directory of pages or a URL (TLS verified, CA bundle option)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlparse

from flowrag.cancel import checkpoint
from flowrag.errors import SourceError
from flowrag.extract.html_docs import SOURCE, extract_html
from flowrag.graph.port import GraphStore
from flowrag.ingest.access import SourcePolicy, inside
from flowrag.ingest.lexicon import refresh_lexicon
from flowrag.ingest.openapi import read_source
from flowrag.ingest.writer import IngestReport, Writer, delete_stale, stale_uids
from flowrag.models.embeddings import Embedder

__all__ = ["ingest_html"]

MAX_PAGE_BYTES = 10 * 1024 * 1024


def _pages(
    location: str, ca_bundle: Path | None, timeout_s: float, policy: SourcePolicy
) -> list[tuple[str, str]]:
    if urlparse(location).scheme in ("http", "https"):
        raw = read_source(location, ca_bundle, timeout_s, policy)
        return [(location, raw.decode("utf-8", errors="replace"))]
    policy.check(location)
    root = Path(location)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        # symlinks leading out of the tree are not followed: a link to a secret file is not a page
        files = sorted(
            p
            for p in root.rglob("*")
            if p.suffix.lower() in (".html", ".htm") and p.is_file() and inside(p, root)
        )
    else:
        raise SourceError(f"{location} is neither an HTML file, a directory of pages nor an http(s) URL")
    if not files:
        raise SourceError(f"no .html pages under {location}")
    pages = []
    for path in files:
        if path.stat().st_size > MAX_PAGE_BYTES:
            continue
        pages.append((path.resolve().as_uri(), path.read_bytes().decode("utf-8", errors="replace")))
    return pages


async def ingest_html(
    store: GraphStore,
    embedder: Embedder,
    location: str,
    site: str | None = None,
    ca_bundle: Path | None = None,
    timeout_s: float = 30.0,
    policy: SourcePolicy | None = None,
) -> IngestReport:
    pages = await asyncio.to_thread(
        _pages, location, ca_bundle, timeout_s, policy or SourcePolicy.local_user()
    )
    scope = site or (urlparse(location).netloc or Path(location).resolve().name)
    report = IngestReport(SOURCE, scope)
    writer = Writer(store, embedder)
    seen: set[str] = set()
    for url, html in pages:
        checkpoint()
        report.read += 1
        extracted = extract_html(html, url, scope)
        if extracted.problems:
            report.errors += extracted.problems
            report.skipped["not documentation"] += 1
            continue
        await writer.write(extracted.nodes, extracted.rels, report)
        seen.update(n.uid for n in extracted.nodes)
    if report.read and not seen:
        raise SourceError(f"{location}: no page looks like documentation", hint="; ".join(report.errors[:3]))
    if urlparse(location).scheme not in ("http", "https"):  # a directory is the whole site: vanished pages go
        await delete_stale(store, stale_uids(await store.scope_uids(SOURCE, scope), seen), report)
    await refresh_lexicon(store, embedder)
    return report.finish()

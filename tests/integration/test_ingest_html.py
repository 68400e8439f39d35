"""HTML documentation pages: chunked by heading with URL#anchor provenance; non-docs refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from flowrag.errors import SourceError
from flowrag.graph.port import Filter, GraphStore
from flowrag.ingest.html import ingest_html

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "html"


async def test_pages_are_chunked_by_heading(store: GraphStore, cached_embedder: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES, site)
    report = await ingest_html(store, cached_embedder, str(site), "dct-guide")
    assert report.read == 2 and report.skipped["not documentation"] == 1
    assert any("does not look like documentation" in e for e in report.errors)
    sections = await store.find_nodes("DocSection", [Filter("scope", "=", "dct-guide")], order_by="key")
    names = {s.name for s in sections}
    assert names == {"Refreshing a VDB", "Before you refresh", "Rewind instead of refresh"}
    refresh = next(s for s in sections if s.name == "Refreshing a VDB")
    assert refresh.props["url"].endswith("vdb-refresh.html#refresh")
    assert (
        "refresh_by_snapshot" in refresh.text
        and "tracking" not in refresh.text
        and "Home" not in refresh.text
    )
    assert (await store.neighbours([refresh.uid], ["SECTION_OF"])).edges
    hits = await store.fulltext_search("rollback_by_snapshot", ["DocSection"], 3)
    assert hits[0].node.name == "Rewind instead of refresh"
    again = await ingest_html(store, cached_embedder, str(site), "dct-guide")
    assert (again.created, again.updated, again.deleted, again.embedded) == (0, 0, 0, 0)
    (site / "vdb-refresh.html").unlink()
    with pytest.raises(SourceError, match="no page looks like documentation"):
        await ingest_html(store, cached_embedder, str(site), "dct-guide")


async def test_bad_locations(store: GraphStore, cached_embedder: Any, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="neither an HTML file"):
        await ingest_html(store, cached_embedder, str(tmp_path / "missing"))
    with pytest.raises(SourceError, match=r"no \.html pages"):
        await ingest_html(store, cached_embedder, str(tmp_path))
    with pytest.raises(SourceError, match="cannot reach"):
        await ingest_html(store, cached_embedder, "http://127.0.0.1:9/docs.html", timeout_s=2)

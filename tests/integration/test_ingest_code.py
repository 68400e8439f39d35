"""Code ingestion on a fixture repository: symbols, routes, HTTP calls, links, secrets, bad files."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from flowrag.graph.port import Filter, GraphStore
from flowrag.ingest.code import ingest_code
from flowrag.ingest.openapi import ingest_openapi
from flowrag.schema import NodeLabel, make_uid

SPEC = str(resources.files("flowrag.examples").joinpath("data/dct-subset.yaml"))
SECRET = "sk_live_51Habc123DEF456ghi789"


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    shutil.copytree(Path(str(resources.files("flowrag.examples").joinpath("repo"))), repo)
    (repo / "config.py").write_text(f'DB_PASSWORD = "{SECRET}"\nAPI_TOKEN = "ghp_{"a" * 36}"\n')
    (repo / ".env").write_text(f"DCT_API_KEY={SECRET}\nOTHER=plain\n")
    (repo / "image.bin").write_bytes(bytes(range(256)) * 20)
    (repo / "legacy.py").write_bytes(
        '"""Données héritées."""\n\ndef été():\n    return "café"\n'.encode("latin-1")
    )
    (repo / "big.py").write_text("x = 1\n" * 900_000)  # ~5 MB generated file
    (repo / "broken.py").write_text("def oops(:\n")
    (repo / ".gitignore").write_text("ignored/\n")
    (repo / "ignored").mkdir()
    (repo / "ignored" / "skip.py").write_text("def hidden(): pass\n")
    (repo / "flows").mkdir()
    (repo / "flows" / "ingest_trades.py").write_text('def run():\n    """Load trades."""\n')
    return repo


async def test_symbols_routes_calls_and_links(
    store: GraphStore, cached_embedder: Any, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    await ingest_openapi(store, cached_embedder, SPEC, "delphix-dct")
    from flowrag.schema import NodeRow

    await store.upsert_nodes(
        [
            NodeRow(
                NodeLabel.PIPELINE, "ingest_trades", "mongo", "_shared", "ingest_trades", name="ingest_trades"
            )
        ]
    )
    report = await ingest_code(store, cached_embedder, str(repo), "vdb-tools")
    assert report.skipped["binary"] == 1
    assert report.skipped["gitignored"] >= 1
    assert report.skipped["larger than 1000 kB"] == 1
    assert any("broken.py" in p for p in report.errors)
    funcs = {n.name for n in await store.find_nodes("Function", limit=100)}
    assert {"DelphixClient.refresh_vdb_by_snapshot", "refresh_vdb", "été", "run"} <= funcs
    routes = {n.name for n in await store.find_nodes("Route", limit=100)}
    assert "POST /internal/vdbs/{vdb_id}/refresh" in routes
    calls = await store.find_nodes("HttpCall", limit=100)
    refresh = next(c for c in calls if "refresh_by_snapshot" in c.name)
    hood = await store.neighbours([refresh.uid], ["TARGETS", "MAKES"])
    assert make_uid(NodeLabel.ENDPOINT, "delphix-dct:POST /vdbs/{vdbId}/refresh_by_snapshot") in {
        e.end for e in hood.edges
    }
    assert any(n.name == "DelphixClient.refresh_vdb_by_snapshot" for n in hood.nodes)
    impl = await store.neighbours([make_uid(NodeLabel.PIPELINE, "ingest_trades")], ["IMPLEMENTS"])
    assert any(n.props.get("path") == "flows/ingest_trades.py" for n in impl.nodes)
    # secrets never reach the graph
    everything = []
    for label in ("File", "Function", "Class", "DocChunk", "HttpCall", "Route"):
        everything += await store.find_nodes(label, limit=1000)
    blob = json.dumps([n.as_dict() for n in everything], ensure_ascii=False)
    assert SECRET not in blob and "ghp_aaaa" not in blob
    rerun = await ingest_code(store, cached_embedder, str(repo), "vdb-tools")
    assert (rerun.created, rerun.updated, rerun.deleted, rerun.embedded, rerun.relationships) == (
        0,
        0,
        0,
        0,
        0,
    )


async def test_changed_and_deleted_files(store: GraphStore, cached_embedder: Any, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    await ingest_code(store, cached_embedder, str(repo), "r")
    (repo / "dags" / "refresh_orders_qa.py").unlink()
    (repo / "legacy.py").write_text("def renamed():\n    return 1\n")
    report = await ingest_code(store, cached_embedder, str(repo), "r")
    assert report.deleted >= 3  # the DAG file + its function + the old legacy function
    names = {n.name for n in await store.find_nodes("Function", [Filter("scope", "=", "r")], limit=100)}
    assert "renamed" in names and "été" not in names and "refresh_orders_qa" not in names
    assert report.unchanged >= 5


async def test_links_are_created_whatever_the_order(
    store: GraphStore, cached_embedder: Any, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    await ingest_code(store, cached_embedder, str(repo), "vdb-tools")
    target = make_uid(NodeLabel.ENDPOINT, "delphix-dct:POST /vdbs/{vdbId}/refresh_by_snapshot")
    assert (await store.neighbours([target], ["TARGETS"])).edges == ()
    await ingest_openapi(store, cached_embedder, SPEC, "delphix-dct")
    assert len((await store.neighbours([target], ["TARGETS"])).edges) == 1

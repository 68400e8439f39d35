"""Damaged stores: detected on open with one clear line, nothing overwritten; `flowrag doctor`
says what is wrong and which command fixes it; `flowrag repair` rebuilds the vector indexes;
`flowrag import --reembed` moves a graph to another model. Every hint names a real command."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flowrag.errors import StoreError, StoreUnavailableError
from flowrag.graph.embedded import EmbeddedStore
from flowrag.graph.port import GraphStore
from flowrag.schema import NodeLabel, NodeRow
from tests.conftest import TEST_DIMENSION
from tests.integration.test_cli import run

ROOT = Path(__file__).resolve().parents[2]


def _rows(n: int) -> list[NodeRow]:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        vec = rng.standard_normal(TEST_DIMENSION).astype(np.float32)
        rows.append(
            NodeRow(
                NodeLabel.ENDPOINT,
                f"spec:GET /items/{i}",
                "openapi",
                "spec",
                f"GET /items/{i}",
                name=f"GET /items/{i}",
                text=f"read item {i} of the catalogue",
                embedding=tuple((vec / np.linalg.norm(vec)).tolist()),
            )
        )
    return rows


def _status(found: list[Any]) -> dict[str, str]:
    return {c.name: c.status for c in found}


async def test_a_healthy_store_checks_ok_and_rebuilds_its_indexes(store: GraphStore) -> None:
    await store.upsert_nodes(_rows(40))
    await store.flush()
    found = await store.check(TEST_DIMENSION)
    assert found and all(c.status == "ok" for c in found), found
    assert (await store.rebuild_vector_indexes())["Endpoint"] == 40
    assert all(c.status == "ok" for c in await store.check(TEST_DIMENSION))
    hits = await store.vector_search(list(_rows(40)[3].embedding or ()), ["Endpoint"], 1)
    assert hits[0].node.key == "spec:GET /items/3"
    other_model = await store.check(768)
    assert "fail" in _status(other_model).values()
    assert any("--reembed" in c.fix for c in other_model)


async def _embedded_with_vectors(path: Path) -> Path:
    store = EmbeddedStore.open(path)
    await store.migrate(TEST_DIMENSION)
    await store.upsert_nodes(_rows(40))
    await store.close()
    return path / "vectors" / "Endpoint.usearch"


async def test_a_damaged_vector_index_is_rebuilt_and_doctor_says_so(tmp_path: Path) -> None:
    index_file = await _embedded_with_vectors(tmp_path / "graph")
    index_file.write_bytes(index_file.read_bytes()[: index_file.stat().st_size // 2])
    store = EmbeddedStore.open(tmp_path / "graph")
    try:
        before = await store.check(TEST_DIMENSION)
        assert _status(before)["Endpoint vectors"] == "fail"
        assert [c.fix for c in before if c.name == "Endpoint vectors"] == ["flowrag repair"]
        # searching still works: the unreadable file is a cache, rebuilt from the stored vectors
        hits = await store.vector_search(list(_rows(40)[5].embedding or ()), ["Endpoint"], 1)
        assert hits[0].node.key == "spec:GET /items/5"
        assert await store.rebuild_vector_indexes() == {"Endpoint": 40}
        assert _status(await store.check(TEST_DIMENSION))["Endpoint vectors"] == "ok"
    finally:
        await store.close()


@pytest.mark.parametrize("damage", ["empty", "missing"])
async def test_a_lost_graph_file_is_refused_and_nothing_is_overwritten(tmp_path: Path, damage: str) -> None:
    index_file = await _embedded_with_vectors(tmp_path / "graph")
    saved = index_file.read_bytes()
    database = tmp_path / "graph" / "graph.sqlite3"
    for leftover in database.parent.glob("graph.sqlite3*"):
        leftover.unlink()
    if damage == "empty":
        database.write_bytes(b"")
    with pytest.raises(StoreUnavailableError) as caught:
        EmbeddedStore.open(tmp_path / "graph")
    assert ("is empty (0 bytes)" if damage == "empty" else "is missing") in caught.value.message
    assert "flowrag doctor" in (caught.value.hint or "")
    assert index_file.read_bytes() == saved
    assert database.exists() == (damage == "empty") and (damage == "missing" or database.stat().st_size == 0)


async def test_a_corrupt_or_truncated_graph_file_is_one_clear_error(tmp_path: Path) -> None:
    await _embedded_with_vectors(tmp_path / "garbage")
    (tmp_path / "garbage" / "graph.sqlite3").write_bytes(b"not a database at all " * 500)
    with pytest.raises(StoreUnavailableError, match="is not a readable SQLite database"):
        EmbeddedStore.open(tmp_path / "garbage")
    await _embedded_with_vectors(tmp_path / "cut")
    database = tmp_path / "cut" / "graph.sqlite3"
    sqlite3.connect(database).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    raw = database.read_bytes()
    database.write_bytes(raw[: len(raw) // 3])
    try:
        store = EmbeddedStore.open(tmp_path / "cut")
    except StoreUnavailableError as exc:
        assert "flowrag doctor" in (exc.hint or "")
        return
    try:  # the damage shows in the integrity check, or as one error naming the fix
        assert _status(await store.check(TEST_DIMENSION))["graph.sqlite3"] == "fail"
    except StoreError as exc:
        assert "is damaged" in exc.message and "flowrag doctor" in (exc.hint or "")
    finally:
        await store.close()


def test_doctor_and_repair_from_the_command_line(tmp_path: Path) -> None:
    import asyncio

    index_file = asyncio.run(_embedded_with_vectors(tmp_path / "graph"))
    index_file.write_bytes(b"garbage")
    args = ["--store-path", str(tmp_path / "graph")]
    doctor = run([*args, "doctor"], tmp_path)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "Endpoint vectors" in doctor.stdout and "flowrag repair" in doctor.stdout
    repaired = run([*args, "repair"], tmp_path)
    assert repaired.returncode == 0 and "Endpoint: 40 vectors indexed" in repaired.stdout
    assert run([*args, "doctor"], tmp_path).returncode == 0
    (tmp_path / "graph" / "graph.sqlite3").write_bytes(b"")
    for leftover in (tmp_path / "graph").glob("graph.sqlite3-*"):
        leftover.unlink()
    stats = run([*args, "stats"], tmp_path)
    assert stats.returncode == 1 and "is empty (0 bytes)" in stats.stderr and "Traceback" not in stats.stderr


async def test_import_reembed_moves_a_graph_to_the_configured_model(
    tmp_path: Path, cached_embedder: Any
) -> None:
    from flowrag.graph.transfer import export_graph, import_graph
    from flowrag.ingest.writer import embed_rows

    source = EmbeddedStore.open(tmp_path / "old")
    await source.migrate(TEST_DIMENSION)
    await source.upsert_nodes(_rows(5))  # random vectors: "another model"
    await export_graph(source, tmp_path / "g.jsonl.gz")
    await source.close()
    target = EmbeddedStore.open(tmp_path / "new")
    await target.migrate(cached_embedder.dimension)

    async def embed(rows: list[NodeRow]) -> list[NodeRow]:
        return (await embed_rows(cached_embedder, rows))[0]

    try:
        assert (await import_graph(target, tmp_path / "g.jsonl.gz", embed=embed))[0] == 5
        query = cached_embedder.embed_queries(["read item 2 of the catalogue"])[0]
        hits = await target.vector_search(list(query), ["Endpoint"], 1)
        assert hits[0].node.key == "spec:GET /items/2" and hits[0].score > 0.9
    finally:
        await target.close()


def test_every_command_a_hint_or_a_doc_names_exists() -> None:
    from typer.main import get_command

    from flowrag.cli import app

    group = get_command(app)
    commands = set(group.commands)  # type: ignore[attr-defined]
    named = set()
    for path in [
        *ROOT.joinpath("flowrag").rglob("*.py"),
        *ROOT.joinpath("docs").glob("*.md"),
        ROOT / "README.md",
    ]:
        named |= set(re.findall(r"`flowrag ([a-z][a-z-]*)", path.read_text(encoding="utf-8")))
    assert named and named <= commands, sorted(named - commands)

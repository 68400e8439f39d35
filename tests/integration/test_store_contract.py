"""The graph store contract: the same tests against the embedded store and a real Neo4j."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flowrag.errors import (
    EmbeddingDimensionError,
    OntologyError,
    ReadOnlyQueryError,
    UnsupportedOperationError,
)
from flowrag.graph.expansion import ExpansionStep, expand
from flowrag.graph.port import Filter, GraphStore
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid
from tests.conftest import TEST_DIMENSION


def unit(i: int, noise: float = 0.0, seed: int = 0) -> tuple[float, ...]:
    vec = np.zeros(TEST_DIMENSION, dtype=np.float32)
    vec[i] = 1.0
    if noise:
        vec += np.random.default_rng(seed).normal(0, noise, TEST_DIMENSION).astype(np.float32)
    vec /= np.linalg.norm(vec)
    return tuple(float(x) for x in vec)


def pipeline(name: str, text: str = "", emb: int | None = None, **props: object) -> NodeRow:
    return NodeRow(
        label=NodeLabel.PIPELINE,
        key=name,
        source="mongo",
        scope="runs",
        source_id=f"runs/{name}",
        name=name,
        text=text or f"pipeline {name}",
        props=dict(props),
        embedding=unit(emb) if emb is not None else None,
    )


def run(ref: str, pipe: str, status: str, started: str) -> NodeRow:
    return NodeRow(
        label=NodeLabel.RUN,
        key=ref,
        source="mongo",
        scope="runs",
        source_id=f"runs/{ref}",
        name=f"{pipe} run {ref}",
        text=f"{pipe} {status}",
        props={"status": status, "started_at": started, "pipeline": pipe},
    )


async def test_upsert_is_idempotent(store: GraphStore) -> None:
    rows = [pipeline(f"p{i}", emb=i) for i in range(10)]
    first = await store.upsert_nodes(rows)
    assert (first.created, first.updated, first.unchanged) == (10, 0, 0)
    again = await store.upsert_nodes([pipeline(f"p{i}") for i in range(10)])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)
    stats = await store.stats()
    assert stats.nodes == {"Pipeline": 10}


async def test_merge_updates_changed_content_and_keeps_first_seen(store: GraphStore) -> None:
    await store.upsert_nodes([pipeline("orders_qa", owner="team-a", tier=1)])
    [before] = await store.get_nodes([make_uid(NodeLabel.PIPELINE, "orders_qa")])
    report = await store.upsert_nodes([pipeline("orders_qa", text="new text", owner="team-b")])
    assert (report.created, report.updated) == (0, 1)
    [after] = await store.get_nodes([make_uid(NodeLabel.PIPELINE, "orders_qa")])
    assert after.text == "new text"
    assert after.props["owner"] == "team-b"
    assert "tier" not in after.props  # the property map is replaced, not merged
    assert after.first_seen == before.first_seen
    assert after.source_id == "runs/orders_qa"


async def test_nested_props_are_flattened_the_same_way(store: GraphStore) -> None:
    await store.upsert_nodes([pipeline("p", meta={"a": 1}, tags=["x", "y"], mixed=[1, "a"])])
    [node] = await store.get_nodes([make_uid(NodeLabel.PIPELINE, "p")])
    assert node.props["meta"] == '{"a": 1}'
    assert node.props["tags"] == ["x", "y"]
    assert node.props["mixed"] == '[1, "a"]'


async def test_relationships_merge_once_and_skip_missing_endpoints(store: GraphStore) -> None:
    await store.upsert_nodes([pipeline("a"), pipeline("b")])
    a, b = make_uid(NodeLabel.PIPELINE, "a"), make_uid(NodeLabel.PIPELINE, "b")
    missing = make_uid(NodeLabel.PIPELINE, "nope")
    rels = [RelRow(RelType.CALLS, a, b), RelRow(RelType.CALLS, a, missing)]
    assert await store.upsert_relationships(rels) == 1
    assert await store.upsert_relationships(rels) == 0
    assert (await store.stats()).relationships == {"CALLS": 1}


async def test_deletes_remove_nodes_edges_and_vectors(store: GraphStore) -> None:
    rows = [pipeline(f"p{i}", emb=i) for i in range(5)]
    other = NodeRow(NodeLabel.PIPELINE, "keep", "code", "repo", "x", name="keep", embedding=unit(9))
    await store.upsert_nodes([*rows, other])
    await store.upsert_relationships(
        [RelRow(RelType.CALLS, rows[0].uid, rows[1].uid), RelRow(RelType.CALLS, other.uid, rows[2].uid)]
    )
    assert await store.delete_nodes([rows[0].uid]) == 1
    assert (await store.stats()).relationships == {"CALLS": 1}
    hits = await store.vector_search(unit(0), ["Pipeline"], 3)
    assert rows[0].uid not in [h.node.uid for h in hits]
    assert await store.delete_scope("mongo", "runs") == 4
    stats = await store.stats()
    assert stats.nodes == {"Pipeline": 1}
    assert stats.relationships == {}
    assert await store.scope_uids("code", "repo") == {other.uid}
    assert await store.scope_count("code", "repo") == 1 and await store.scope_count("code", "nope") == 0


async def test_vector_search_returns_expected_neighbour(store: GraphStore) -> None:
    rows = [pipeline(f"p{i}", emb=i) for i in range(20)]
    errors = [
        NodeRow(NodeLabel.ERROR, f"e{i}", "mongo", "runs", f"e{i}", name=f"e{i}", embedding=unit(i))
        for i in range(20)
    ]
    await store.upsert_nodes([*rows, *errors])
    hits = await store.vector_search(unit(7, noise=0.01, seed=1), ["Pipeline"], 3)
    assert hits[0].node.uid == rows[7].uid
    assert math.isclose(hits[0].score, 1.0, abs_tol=0.2)
    assert all(h.node.label == "Pipeline" for h in hits)
    both = await store.vector_search(unit(7), ["Pipeline", "Error"], 2)
    assert {h.node.uid for h in both} == {rows[7].uid, errors[7].uid}
    filtered = await store.vector_search(unit(7), ["Pipeline", "Error"], 2, [Filter("label", "=", "Error")])
    assert [h.node.uid for h in filtered][:1] == [errors[7].uid]


async def test_updated_embedding_moves_the_node(store: GraphStore) -> None:
    await store.upsert_nodes([pipeline("mover", emb=1), pipeline("other", emb=2)])
    await store.upsert_nodes([pipeline("mover", text="moved", emb=3)])
    hits = await store.vector_search(unit(3), ["Pipeline"], 1)
    assert hits[0].node.key == "mover"
    hits = await store.vector_search(unit(3), ["Pipeline"], 2)
    assert [h.node.key for h in hits] == ["mover", "other"]
    assert math.isclose(hits[0].score, 1.0, abs_tol=0.05) and hits[1].score < 0.5  # the old vector is gone


async def test_fulltext_finds_exact_identifiers(store: GraphStore) -> None:
    names = ["orders_qa", "orders_prod", "customers_qa", "orders_qa_backup"]
    await store.upsert_nodes([pipeline(n, text=f"daily flow {n}") for n in names])
    endpoints = [
        NodeRow(
            NodeLabel.ENDPOINT,
            f"dct:{m} {p}",
            "openapi",
            "dct",
            f"{m} {p}",
            name=f"{m} {p}",
            text=f"{m} {p} operation",
            props={"method": m, "path": p},
        )
        for m, p in [
            ("POST", "/v3/vdbs/{vdbId}/refresh"),
            ("POST", "/v3/vdbs/{vdbId}/rollback"),
            ("GET", "/v3/vdbs"),
            ("POST", "/v3/dsources/{dsourceId}/refresh"),
        ]
    ]
    await store.upsert_nodes(endpoints)
    hits = await store.fulltext_search("orders_qa", ["Pipeline"], 5)
    assert hits[0].node.key == "orders_qa"
    assert "orders_prod" not in [h.node.key for h in hits]
    hits = await store.fulltext_search("/v3/vdbs/{vdbId}/refresh", ["Endpoint"], 5)
    assert hits[0].node.props["path"] == "/v3/vdbs/{vdbId}/refresh"
    assert await store.fulltext_search("orders_qa", ["Endpoint"], 5) == []
    assert await store.fulltext_search('" OR * AND (', ["Pipeline"], 5) == []
    present = await store.terms_present(
        [("rollback",), ("tarte", "tatin"), ("nope", "daily"), (), ('" OR *',)]
    )
    assert present == [True, False, True, False, False]


async def test_neighbours_respect_types_and_degree_caps(store: GraphStore) -> None:
    tech = NodeRow(NodeLabel.TECHNOLOGY, "spark", "mongo", "runs", "spark", name="Spark")
    pipes = [pipeline(f"p{i}") for i in range(60)]
    err = NodeRow(NodeLabel.ERROR, "oom", "mongo", "runs", "oom", name="OutOfMemoryError")
    await store.upsert_nodes([tech, err, *pipes])
    await store.upsert_relationships([RelRow(RelType.USES, p.uid, tech.uid) for p in pipes])
    await store.upsert_relationships([RelRow(RelType.MENTIONS, err.uid, tech.uid)])
    capped = await store.neighbours([tech.uid], ["USES"], cap_per_node=5)
    assert len(capped.edges) == 5
    assert {e.type for e in capped.edges} == {"USES"}
    assert all(e.end == tech.uid for e in capped.edges)
    every = await store.neighbours([tech.uid], [], cap_per_node=5)
    assert {e.type for e in every.edges} == {"USES", "MENTIONS"}
    assert len(every.edges) == 6
    only = await store.neighbours([tech.uid], ["MENTIONS"], cap_per_node=5)
    assert [n.uid for n in only.nodes if n.uid != tech.uid] == [err.uid]


async def test_two_hop_expansion_above_the_port(store: GraphStore) -> None:
    a, b, c = pipeline("a"), pipeline("b"), pipeline("c")
    tech = NodeRow(NodeLabel.TECHNOLOGY, "kafka", "mongo", "runs", "kafka", name="Kafka")
    await store.upsert_nodes([a, b, c, tech])
    await store.upsert_relationships(
        [
            RelRow(RelType.CALLS, a.uid, b.uid),
            RelRow(RelType.CALLS, b.uid, c.uid),
            RelRow(RelType.USES, c.uid, tech.uid),
        ]
    )
    hood = await expand(store, [a.uid], [ExpansionStep(("CALLS",)), ExpansionStep(("CALLS",))])
    assert {n.uid for n in hood.nodes} == {a.uid, b.uid, c.uid}
    one = await expand(store, [a.uid], [ExpansionStep(("CALLS",))])
    assert {n.uid for n in one.nodes} == {a.uid, b.uid}


async def test_find_and_count_with_filters(store: GraphStore) -> None:
    runs = [
        run("r1", "orders_qa", "FAILED", "2026-11-20T08:00:00Z"),
        run("r2", "orders_qa", "SUCCESS", "2026-11-21T08:00:00Z"),
        run("r3", "trades", "FAILED", "2026-11-21T09:30:00Z"),
        run("r4", "trades", "FAILED", "2026-11-19T09:30:00Z"),
    ]
    await store.upsert_nodes(runs)
    failed_yesterday = [
        Filter("status", "=", "FAILED"),
        Filter("started_at", ">=", "2026-11-21T00:00:00Z"),
        Filter("started_at", "<", "2026-11-22T00:00:00Z"),
    ]
    found = await store.find_nodes("Run", failed_yesterday)
    assert [n.key for n in found] == ["r3"]
    assert await store.count_nodes("Run", [Filter("status", "=", "FAILED")]) == 3
    ordered = await store.find_nodes(
        "Run", [Filter("status", "in", ["FAILED"])], order_by="started_at", descending=True, limit=2
    )
    assert [n.key for n in ordered] == ["r3", "r1"]
    page2 = await store.find_nodes("Run", order_by="started_at", limit=2, offset=2)
    assert [n.key for n in page2] == ["r2", "r3"]


async def test_unknown_labels_and_types_are_rejected(store: GraphStore) -> None:
    with pytest.raises(OntologyError, match="unknown node label"):
        await store.find_nodes("Pipeline) DETACH DELETE (n")
    with pytest.raises(OntologyError, match="unknown relationship type"):
        await store.neighbours(["x"], ["CALLS]->() DELETE r //"])
    with pytest.raises(OntologyError, match="not a safe identifier"):
        await store.find_nodes("Run", [Filter("status` = 1 OR true //", "=", "x")])


async def test_migrations_rerun_and_dimension_mismatch(store: GraphStore) -> None:
    await store.upsert_nodes([pipeline("p", emb=0)])
    await store.migrate(TEST_DIMENSION)
    await store.migrate(TEST_DIMENSION)
    with pytest.raises(EmbeddingDimensionError, match="384"):
        await store.migrate(768)
    with pytest.raises(EmbeddingDimensionError):
        await store.upsert_nodes([NodeRow(NodeLabel.PIPELINE, "q", "s", "s", "s", embedding=(1.0, 0.0))])


async def test_read_only_cypher(store: GraphStore) -> None:
    await store.upsert_nodes([pipeline("p")])
    if store.kind == "embedded":
        with pytest.raises(UnsupportedOperationError, match="Cypher"):
            await store.cypher("MATCH (n) RETURN n")
        return
    rows = await store.cypher("MATCH (n:Pipeline) RETURN n.name AS name")
    assert rows == [{"name": "p"}]
    with pytest.raises(ReadOnlyQueryError):
        await store.cypher("CREATE (n:Pipeline {name: 'evil'})")
    for query in (
        "MATCH (n) DETACH DELETE n",
        "MERGE (n:Pipeline {name: 'x'}) RETURN n",
        "LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row",
        "load  csv with headers from 'http://127.0.0.1:1/x' as r return r",
        "CALL dbms.listConfig() YIELD name RETURN name",
        "CALL apoc.load.json('file:///etc/passwd') YIELD value RETURN value",
        "CREATE USER evil SET PASSWORD 'x'",
    ):
        with pytest.raises(ReadOnlyQueryError):
            await store.cypher(query)
    # the words inside a string are data, not a clause
    assert await store.cypher("RETURN 'LOAD CSV and dbms.x are words here' AS s") == [
        {"s": "LOAD CSV and dbms.x are words here"}
    ]
    assert (await store.stats()).nodes == {"Pipeline": 1}


async def test_export_then_import_into_the_other_store(store: GraphStore, tmp_path, neo4j_server) -> None:  # type: ignore[no-untyped-def]
    """embedded -> Neo4j and Neo4j -> embedded keep node and relationship counts (and vectors)."""
    from flowrag.graph.embedded import EmbeddedStore
    from flowrag.graph.transfer import export_graph, import_graph
    from tests.conftest import connected_neo4j_store

    rows = [pipeline(f"p{i}", emb=i, tags=["a", "b"]) for i in range(30)]
    await store.upsert_nodes(rows)
    await store.upsert_relationships([RelRow(RelType.CALLS, rows[i].uid, rows[i + 1].uid) for i in range(29)])
    before = await store.stats()
    path = tmp_path / "graph.jsonl.gz"
    assert await export_graph(store, path, batch=7) == (30, 29)
    if store.kind == "embedded":
        target = await connected_neo4j_store(neo4j_server)
        await target.wipe()  # type: ignore[attr-defined]
    else:
        target = EmbeddedStore.open(tmp_path / "copy")
        await target.migrate(TEST_DIMENSION)
    assert await import_graph(target, path, batch=7) == (30, 29)  # type: ignore[arg-type]
    after = await target.stats()  # type: ignore[attr-defined]
    assert (after.nodes, after.relationships) == (before.nodes, before.relationships)
    hits = await target.vector_search(unit(5), ["Pipeline"], 1)  # type: ignore[attr-defined]
    assert hits[0].node.key == "p5" and hits[0].node.props["tags"] == ["a", "b"]
    if store.kind != "embedded":
        await target.close()  # type: ignore[attr-defined]


async def test_wipe_leaves_an_empty_migrated_store(store: GraphStore) -> None:
    from flowrag.graph.aggregate import RunQuery

    await store.upsert_nodes([pipeline(f"p{i}", emb=i) for i in range(5)])
    await store.upsert_nodes([run("r1", "p1", "FAILED", "2026-11-20T10:00:00Z")])
    await store.flush()
    await store.wipe()
    assert (await store.stats()).nodes == {}
    assert await store.vector_search(unit(1), ["Pipeline"], 5) == []
    assert (await store.aggregate_runs(RunQuery(("FAILED",)))).total == 0
    await store.upsert_nodes([pipeline("again", emb=2)])  # still usable: indexes are kept
    await store.flush()
    [hit] = await store.vector_search(unit(2), ["Pipeline"], 1)
    assert hit.node.key == "again"

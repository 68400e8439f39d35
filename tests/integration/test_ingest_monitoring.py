"""Monitoring ingestion: the Mongo wire server (nx-27017) and JSON dumps, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import MongoClient

from flowrag.errors import SourceError
from flowrag.examples.monitoring import generate_runs
from flowrag.graph.port import Filter, GraphStore
from flowrag.ingest import monitoring as mon
from flowrag.ingest.monitoring import MongoOptions, ingest_mongo
from flowrag.models.vocabulary import load_vocabulary
from flowrag.schema import NodeLabel, make_uid

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class Killed(Exception):
    """Stands for the process dying at that point (the batch in flight is not finished)."""


VOCAB = load_vocabulary()


@pytest.fixture
def mongo_db(mongo_server: Any, request: pytest.FixtureRequest) -> Any:
    client: Any = MongoClient(mongo_server.uri, serverSelectionTimeoutMS=5000)
    name = f"mon_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}"[:60]
    client.drop_database(name)
    db = client[name]
    db.runs.insert_many(list(generate_runs(120, now=NOW)))
    db.alerts.insert_many(
        [
            {
                "_id": f"alert-{i}",
                "severity": "critical",
                "title": f"Flux ingest_trades en échec {i}",
                "details": "OutOfMemoryError sur spark-node-3",
            }
            for i in range(5)
        ]
    )
    db.notes.insert_one({"_id": "n1", "text": "rien à signaler"})
    yield db
    client.drop_database(name)
    client.close()


def options(db: Any, mongo_server: Any, **kw: Any) -> MongoOptions:
    return MongoOptions(mongo_server.uri, db.name, **kw)


async def test_full_ingest_then_rerun_is_a_noop(
    store: GraphStore, cached_embedder: Any, mongo_db: Any, mongo_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = {
        r.scope: r for r in await ingest_mongo(store, cached_embedder, VOCAB, options(mongo_db, mongo_server))
    }
    assert set(reports) == {"runs", "alerts", "notes"}
    assert reports["runs"].read == 120
    assert await store.count_nodes("Run") == 120
    assert await store.count_nodes("Record", [Filter("scope", "=", "alerts")]) == 5
    assert (
        await store.count_nodes("Run", [Filter("scope", "=", "alerts")]) == 0
    )  # heterogeneous: records only
    failed = await store.find_nodes("Run", [Filter("status", "=", "FAILED")], limit=1)
    hood = await store.neighbours([failed[0].uid], ["OF", "FAILED_WITH", "RAN_ON", "IN_ENVIRONMENT"])
    assert {e.type for e in hood.edges} == {"OF", "FAILED_WITH", "RAN_ON", "IN_ENVIRONMENT"}
    pipeline = next(n for n in hood.nodes if n.label == "Pipeline")
    uses = await store.neighbours([pipeline.uid], ["USES"])
    assert any(n.label == "Technology" for n in uses.nodes)
    extracted: list[str] = []
    original = mon.extract_document

    def counting(doc: Any, *args: Any) -> Any:
        extracted.append(str(doc.get("_id")))
        return original(doc, *args)

    monkeypatch.setattr(mon, "extract_document", counting)
    again = await ingest_mongo(store, cached_embedder, VOCAB, options(mongo_db, mongo_server, full=True))
    for report in again:
        assert report.writes == 0, report.as_dict()
        assert report.embedded == 0
    # unchanged documents are recognised by their raw hash, before extraction
    assert extracted == []
    assert sum(r.unchanged for r in again) == 126 + 3  # the documents, and the three Collection nodes


async def test_added_changed_deleted_documents_propagate(
    store: GraphStore, cached_embedder: Any, mongo_db: Any, mongo_server: Any
) -> None:
    opts = options(mongo_db, mongo_server, include=("runs",))
    await ingest_mongo(store, cached_embedder, VOCAB, opts)
    mongo_db.runs.insert_one(
        {
            "_id": "run-99999999",
            "pipeline": "new_flow",
            "status": "failed",
            "technology": "kafka",
            "start_time": NOW,
            "error_message": "Broker down on kafka-broker-9",
        }
    )
    incremental = await ingest_mongo(store, cached_embedder, VOCAB, opts)
    assert incremental[0].read == 1  # only what is new since the checkpoint
    new = await store.get_nodes([make_uid(NodeLabel.RUN, "runs/run-99999999")])
    assert new[0].props["status"] == "FAILED" and new[0].props["pipeline"] == "new_flow"
    mongo_db.runs.update_one({"_id": "run-00000003"}, {"$set": {"status": "SUCCESS"}})
    mongo_db.runs.delete_one({"_id": "run-00000004"})
    full = await ingest_mongo(
        store, cached_embedder, VOCAB, options(mongo_db, mongo_server, include=("runs",), full=True)
    )
    assert full[0].updated >= 1 and full[0].deleted >= 2  # the record and its run
    changed = await store.get_nodes([make_uid(NodeLabel.RUN, "runs/run-00000003")])
    assert changed[0].props["status"] == "SUCCESS"
    assert await store.get_nodes([make_uid(NodeLabel.RUN, "runs/run-00000004")]) == []
    assert await store.count_nodes("Run") == 120


async def test_killed_run_resumes_without_duplicates_or_loss(
    store: GraphStore, cached_embedder: Any, mongo_db: Any, mongo_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    opts = options(mongo_db, mongo_server, include=("runs",), batch_size=25)
    calls = {"n": 0}
    original = mon.Writer.write

    async def dying_write(self: Any, nodes: Any, rels: Any, report: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:  # collection node, then two batches, then die mid-collection
            raise Killed
        return await original(self, nodes, rels, report, **kw)

    monkeypatch.setattr(mon.Writer, "write", dying_write)
    with pytest.raises(Killed):
        await ingest_mongo(store, cached_embedder, VOCAB, opts)
    partial = await store.count_nodes("Run")
    assert 0 < partial < 120
    monkeypatch.setattr(mon.Writer, "write", original)
    resumed = await ingest_mongo(store, cached_embedder, VOCAB, opts)
    assert resumed[0].read == 120 - partial
    assert await store.count_nodes("Run") == 120
    assert await store.count_nodes("Record", [Filter("scope", "=", "runs")]) == 120


async def test_run_killed_between_nodes_and_relationships_is_repaired(
    store: GraphStore, cached_embedder: Any, mongo_db: Any, mongo_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Record whose hash was written but whose relationships were not must not be skipped later."""
    opts = options(mongo_db, mongo_server, include=("runs",), batch_size=25, full=True)
    await ingest_mongo(store, cached_embedder, VOCAB, opts)
    mongo_db.runs.update_one({"_id": "run-00000003"}, {"$set": {"pipeline": "moved_flow"}})
    original = type(store).upsert_relationships

    async def dying(self: Any, rows: Any) -> int:
        raise Killed

    monkeypatch.setattr(type(store), "upsert_relationships", dying)
    with pytest.raises(Killed):
        await ingest_mongo(store, cached_embedder, VOCAB, opts)
    run_uid = make_uid(NodeLabel.RUN, "runs/run-00000003")
    assert (await store.get_nodes([run_uid]))[0].props["pipeline"] == "moved_flow"  # node written…
    hood = await store.neighbours([run_uid], ["OF"])
    assert make_uid(NodeLabel.PIPELINE, "moved_flow") not in {n.uid for n in hood.nodes}  # …edge not
    monkeypatch.setattr(type(store), "upsert_relationships", original)
    await ingest_mongo(store, cached_embedder, VOCAB, opts)
    hood = await store.neighbours([run_uid], ["OF"])
    assert make_uid(NodeLabel.PIPELINE, "moved_flow") in {n.uid for n in hood.nodes}
    # and the next full pass, with nothing dirty left, skips every document again
    again = await ingest_mongo(store, cached_embedder, VOCAB, opts)
    assert again[0].unchanged == 120 + 1 and again[0].writes == 0


async def test_include_exclude_limit(
    store: GraphStore, cached_embedder: Any, mongo_db: Any, mongo_server: Any
) -> None:
    reports = await ingest_mongo(
        store, cached_embedder, VOCAB, options(mongo_db, mongo_server, exclude=("notes",), limit=10)
    )
    assert {r.scope for r in reports} == {"runs", "alerts"}
    assert {r.scope: r.read for r in reports} == {"runs": 10, "alerts": 5}
    with pytest.raises(SourceError, match="collections not found"):
        await ingest_mongo(store, cached_embedder, VOCAB, options(mongo_db, mongo_server, include=("nope",)))


async def test_unreachable_mongo_is_a_clear_error(store: GraphStore, cached_embedder: Any) -> None:
    with pytest.raises(SourceError, match=r"cannot reach MongoDB at mongodb://127\.0\.0\.1:9"):
        await ingest_mongo(
            store, cached_embedder, VOCAB, MongoOptions("mongodb://127.0.0.1:9", "x", timeout_ms=500)
        )


async def test_bad_documents_are_skipped_or_converted_never_fatal(
    store: GraphStore, cached_embedder: Any
) -> None:
    """What each bad input gets: too large -> skipped with a reason; not a mapping -> skipped;
    nesting too deep for json and mixed key types -> converted (capped) and ingested."""
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(3000):  # deeper than json.dumps can recurse
        node["d"] = {}
        node = node["d"]
    docs: list[Any] = [
        {"_id": "big", "blob": "x" * (mon.MAX_DOC_BYTES + 10)},
        ["not", "a", "document"],
        {"_id": "deep", "note": "nested", "payload": deep},
        {"_id": "mixed", 1: "one", "two": 2},
        {"_id": "ok", "note": "fine"},
    ]
    report = mon.IngestReport("mongo", "odd")
    await mon.ingest_documents(store, cached_embedder, VOCAB, "odd", docs, report)
    assert report.read == 5
    assert report.skipped == {"larger than 2 MB": 1, "not a document": 1}
    assert report.errors == []
    stored = await store.get_nodes(
        [make_uid(NodeLabel.RECORD, f"odd/{i}") for i in ("deep", "mixed", "ok", "big")]
    )
    assert sorted(n.key for n in stored) == ["odd/deep", "odd/mixed", "odd/ok"]
    assert "<nested too deep>" in next(n.text for n in stored if n.key == "odd/deep")


async def test_mongoexport_dumps_in_extended_json(
    store: GraphStore, cached_embedder: Any, tmp_path: Any
) -> None:
    """JSON Lines (mongoexport's default) and --jsonArray, canonical and relaxed Extended JSON, a
    folder with one file per collection: ids and dates arrive as the server would give them."""
    import json

    folder = tmp_path / "dump"
    folder.mkdir()
    lines = [
        {
            "_id": {"$oid": "65f0c0ffee00000000000001"},
            "pipeline": "load_trades",
            "status": "FAILED",
            "technology": "Spark",
            "start_time": {"$date": "2026-11-21T06:00:00Z"},
            "error": "Executor lost on host spark-07",
            "rows": {"$numberLong": "1234567890123"},
        },
        {
            "_id": {"$oid": "65f0c0ffee00000000000002"},
            "pipeline": "load_trades",
            "status": "SUCCESS",
            "technology": "Spark",
            "start_time": {"$date": {"$numberLong": "1795244400000"}},
        },
    ]
    (folder / "monitoring.runs.json").write_text("\n".join(json.dumps(d) for d in lines) + "\n")
    (folder / "alerts.json").write_text(
        json.dumps([{"_id": {"$oid": "65f0c0ffee00000000000003"}, "title": "disk"}])
    )
    reports = await mon.ingest_json_dump(store, cached_embedder, VOCAB, folder)
    assert sorted((r.scope, r.read) for r in reports) == [("alerts", 1), ("runs", 2)]
    runs = await store.find_nodes("Run", [Filter("scope", "=", "runs")], order_by="started_at")
    assert sorted(r.props["doc_id"] for r in runs) == ["65f0c0ffee00000000000001", "65f0c0ffee00000000000002"]
    assert [str(r.props["started_at"])[:16] for r in runs] == ["2026-11-21T06:00", "2026-11-21T07:00"]
    assert {r.props["status"] for r in runs} == {"FAILED", "SUCCESS"}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "is empty"),
        ("[1, 2]", "must hold objects only"),
        ('{"a": 1}\nnot json\n', "line 2 is not a JSON document"),
        ("42", "holds a JSON int"),
    ],
)
async def test_bad_dumps_say_how_to_make_a_good_one(
    store: GraphStore, cached_embedder: Any, tmp_path: Any, content: str, words: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SourceError, match=words) as caught:
        await mon.ingest_json_dump(store, cached_embedder, VOCAB, path)
    assert "mongoexport" in (caught.value.hint or "")


async def test_timestamp_and_regex_values_from_a_server_that_stores_them(
    store: GraphStore, cached_embedder: Any, mongo_server: Any
) -> None:
    """FerretDB stores BSON Timestamp and Regex values (nx-27017 refuses them): a run started at a
    Timestamp gets that instant, a Regex field is kept as /pattern/ text."""
    from bson import Regex, Timestamp
    from pymongo.errors import PyMongoError

    client: Any = MongoClient(mongo_server.uri, serverSelectionTimeoutMS=5000)
    db = client["bson_kinds"]
    client.drop_database("bson_kinds")
    started = datetime(2026, 11, 21, 6, 30, tzinfo=UTC)
    doc = {
        "_id": "t1",
        "job_name": "orders_qa",
        "status": "FAILED",
        "started": Timestamp(int(started.timestamp()), 1),
        "selector": Regex("^orders_", "i"),
    }
    try:
        if mongo_server.kind == "nx-27017":
            with pytest.raises(PyMongoError):
                db.runs.insert_one(doc)
            return
        db.runs.insert_one(doc)
        await ingest_mongo(store, cached_embedder, VOCAB, MongoOptions(mongo_server.uri, "bson_kinds"))
        [run] = await store.get_nodes([make_uid(NodeLabel.RUN, "runs/t1")])
        assert run.props["started_at"] == "2026-11-21T06:30:00Z"
        [record] = await store.get_nodes([make_uid(NodeLabel.RECORD, "runs/t1")])
        assert "/^orders_/i" in record.text
    finally:
        client.drop_database("bson_kinds")
        client.close()


async def test_status_codes_and_local_times_read_from_the_values(
    store: GraphStore, cached_embedder: Any, mongo_server: Any
) -> None:
    """Numeric codes classified by their runs' messages, one set by the user, month-first local
    times read in the configured zone: the same runs on both stores and both servers."""
    client: Any = MongoClient(mongo_server.uri, serverSelectionTimeoutMS=5000)
    name = "mon_codes"
    client.drop_database(name)
    codes = [3 if i % 4 == 0 else 5 if i == 7 else 1 for i in range(24)]
    client[name].wflow.insert_many(
        [
            {
                "_id": i,
                "WORKFLOW_NAME": f"wf_load_{i % 3}",
                "RUN_STATUS_CODE": code,
                "RUN_ERR_MSG": "ORA-01555: snapshot too old" if code == 3 else "",
                "START_TIME": f"11/{13 + i % 15:02d}/2026 23:30:00",
            }
            for i, code in enumerate(codes)
        ]
    )
    opts = MongoOptions(
        mongo_server.uri, name, timezone="Europe/Paris", status_values={"wflow": {"5": "CANCELLED"}}
    )
    reports = await ingest_mongo(store, cached_embedder, VOCAB, opts)
    assert (
        reports[0].mapping["status 3"].startswith("FAILED")
        and reports[0].mapping["status 5"] == "CANCELLED (set)"
    )
    runs = await store.get_nodes([make_uid(NodeLabel.RUN, f"wflow/{i}") for i in range(24)])
    by_id = {r.props["doc_id"]: r.props for r in runs}
    assert [by_id[str(i)]["status"] for i in range(24)] == [
        {1: "SUCCESS", 3: "FAILED", 5: "CANCELLED"}[c] for c in codes
    ]
    assert [by_id[str(i)]["started_at"] for i in range(24)] == [
        f"2026-11-{13 + i % 15:02d}T22:30:00Z" for i in range(24)
    ]
    client.drop_database(name)
    client.close()

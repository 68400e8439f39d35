"""Every BSON type a real MongoDB can send converts safely (nx-27017 rejects some of them, so they
are unit-tested here with real bson objects)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta, timezone

from bson import Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp

from flowrag.extract.bson_convert import MAX_DEPTH, to_jsonable
from flowrag.extract.monitoring import detect_mapping, extract_document, flatten
from flowrag.models.vocabulary import load_vocabulary


def test_every_bson_type() -> None:
    oid = ObjectId("65f0c0ffee0000000000beef")
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    doc = {
        "_id": oid,
        "when": datetime(2026, 11, 21, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        "naive": datetime(2026, 11, 21, 10, 0),
        "amount": Decimal128("12.50"),
        "nan_dec": Decimal128("NaN"),
        "big": Int64(2**40),
        "uuid": Binary.from_uuid(u),
        "blob": Binary(b"\x00\x01" * 100),
        "pattern": Regex("^orders_.*$", "i"),
        "ts": Timestamp(1_700_000_000, 1),
        "ref": DBRef("pipelines", "ingest_trades"),
        "nan": float("nan"),
        "inf": float("inf"),
        "code": Code("function () {}"),
        "min": MinKey(),
        "max": MaxKey(),
        "raw": b"bytes",
    }
    out = to_jsonable(doc)
    assert out["_id"] == "65f0c0ffee0000000000beef"
    assert out["when"] == "2026-11-21T08:00:00Z"  # converted to UTC
    assert out["naive"] == "2026-11-21T10:00:00Z"  # naive datetimes are UTC (pymongo's default)
    assert out["amount"] == 12.5 and out["nan_dec"] is None
    assert out["big"] == 2**40
    assert out["uuid"] == str(u)
    assert out["blob"].startswith("<binary 200 bytes")
    assert out["pattern"] == "/^orders_.*$/i"  # options kept as MongoDB writes them
    assert out["ts"] == "2023-11-14T22:13:20Z"
    assert out["ref"] == "pipelines/ingest_trades"
    assert out["nan"] is None and out["inf"] is None
    assert out["min"] == "MinKey" and out["max"] == "MaxKey"
    assert math.isfinite(out["big"])


def test_deep_nesting_and_long_arrays_are_capped() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(200):
        child: dict[str, object] = {}
        node["x"] = child
        node = child
    out = to_jsonable({"deep": deep, "many": list(range(1000))})
    text = str(out)
    assert "<nested too deep>" in text
    assert out["many"][-1] == "<950 more items>"
    assert len(flatten(out)) < 100
    assert MAX_DEPTH < 200


def test_mapping_is_detected_and_run_extracted() -> None:
    doc = to_jsonable(
        {
            "_id": ObjectId(),
            "job_name": "Ingest-Trades",
            "state": "KO",
            "engine": "pyspark",
            "started_at": datetime(2026, 11, 21, 3, 0),
            "ended_at": datetime(2026, 11, 21, 3, 30),
            "err": "Container killed on host linux-db-07 after 3600s",
            "server": "linux-db-07",
        }
    )
    mapping = detect_mapping([doc])
    assert (mapping.pipeline, mapping.status, mapping.technology, mapping.error) == (
        "job_name",
        "state",
        "engine",
        "err",
    )
    rows = extract_document(doc, "runs", mapping, load_vocabulary())
    run = next(n for n in rows.nodes if n.label.value == "Run")
    assert run.props["pipeline"] == "ingest_trades" and run.props["status"] == "FAILED"
    assert run.props["duration_s"] == 1800
    labels = {n.label.value: n for n in rows.nodes}
    assert labels["Technology"].name == "Spark"
    assert labels["Error"].embed_text == "Container killed on host <HOST> after <NUM>"  # what is embedded
    assert labels["Error"].text.endswith("example: Container killed on host linux-db-07 after 3600s")
    assert {r.type.value for r in rows.rels} >= {
        "OF",
        "USES",
        "FAILED_WITH",
        "RAN_ON",
        "HAS_RECORD",
        "DESCRIBES",
    }

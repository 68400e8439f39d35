"""Run collections exported the way the schedulers a bank runs write them, none of them like the
bundled generator: Airflow task instances (``dag_id``, ``state``, ``start_date``/``end_date``,
``up_for_retry``), Control-M job status (``JOBNAME``, ``Ended Not OK``, ``yyyymmddHHMMSS``), Azure
Data Factory pipeline runs (``pipelineName``, ``durationInMs``) and Spark History applications
(``appName``, ``finalStatus``, the start inside ``attempts[0]`` as epoch milliseconds). Messages
are real Hadoop log lines (../shared/data/loghub). The mappings are inferred without overrides
and the aggregates are exact: every expected figure is computed here from the fixture, never from
flowrag's output. Both stores."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flowrag.extract.mapping import infer_mapping
from flowrag.graph.aggregate import RunQuery
from flowrag.graph.port import Filter, GraphStore
from flowrag.ingest.monitoring import ingest_documents
from flowrag.ingest.writer import IngestReport
from flowrag.models.vocabulary import load_vocabulary
from tests.conftest import SHARED_DATA

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
YESTERDAY = datetime(2026, 11, 21, tzinfo=UTC)


def _messages() -> list[str]:
    with (SHARED_DATA / "loghub" / "Hadoop_2k.log_structured.csv").open(encoding="utf-8") as handle:
        return [r["Content"] for r in csv.DictReader(handle) if r["Level"] in ("WARN", "ERROR", "FATAL")]


def _facts(n: int = 48) -> list[dict[str, Any]]:
    """The runs as plain facts: flow index, outcome, start, duration (s). Every third run ran
    yesterday (UTC), the others two or three days before."""
    facts = []
    for i in range(n):
        outcome = "failed" if i % 4 == 1 else "retry" if i % 11 == 3 else "ok"
        start = YESTERDAY + timedelta(minutes=17 * i) if i % 3 == 0 else YESTERDAY - timedelta(days=1 + i % 2)
        facts.append({"i": i, "flow": i % 5, "outcome": outcome, "start": start, "seconds": 60 + 7 * i})
    return facts


def _iso(t: datetime) -> str:
    return t.isoformat()


def exports() -> dict[str, list[dict[str, Any]]]:
    messages = _messages()
    airflow, controlm, adf, spark = [], [], [], []
    for f in _facts():
        i, start, end = f["i"], f["start"], f["start"] + timedelta(seconds=f["seconds"])
        failed, message = f["outcome"] != "ok", messages[i % len(messages)]
        airflow.append(
            {
                "_id": f"ti-{i}",
                "dag_id": f"dag_ledger_{f['flow']}",
                "task_id": "load",
                "run_id": f"scheduled__{_iso(start)}",
                "state": {"ok": "success", "failed": "failed", "retry": "up_for_retry"}[f["outcome"]],
                "start_date": _iso(start),
                "end_date": _iso(end),
                "duration": float(f["seconds"]),
                "hostname": f"airflow-worker-{i % 2}",
                "try_number": 1,
                "operator": "SparkSubmitOperator",
            }
        )
        controlm.append(
            {
                "_id": f"ctm-{i}",
                "JOBNAME": f"PRD_GL_{f['flow']:03d}",
                "APPLICATION": "FINANCE",
                "STATUS": "Ended Not OK" if failed else "Ended OK",
                "START_TIME": start.strftime("%Y%m%d%H%M%S"),
                "END_TIME": end.strftime("%Y%m%d%H%M%S"),
                "RUN_COUNTER": 1,
            }
        )
        adf.append(
            {
                "_id": f"adf-{i}",
                "pipelineName": f"pl_ingest_{f['flow']}",
                "runId": f"6f1c-{i:04d}",
                "status": "Failed" if failed else "Succeeded",
                "runStart": _iso(start).replace("+00:00", "Z"),
                "runEnd": _iso(end).replace("+00:00", "Z"),
                "durationInMs": f["seconds"] * 1000,
                "message": message if failed else "",
                "invokedBy": {"name": "trigger_daily", "invokedByType": "ScheduleTrigger"},
            }
        )
        spark.append(
            {
                "_id": f"app-{i}",
                "appId": f"application_1485248649253_{i:04d}",
                "appName": f"spark_agg_{f['flow']}",
                "attempts": [
                    {
                        "startTime": int(start.timestamp() * 1000),
                        "endTime": int(end.timestamp() * 1000),
                        "sparkUser": "svc_batch",
                        "completed": True,
                    }
                ],
                "finalStatus": "FAILED" if failed else "SUCCEEDED",
                "queue": "root.prod",
                "host": f"yarn-nm-{i % 3:02d}",
            }
        )
    return {"task_instance": airflow, "ctm_jobs": controlm, "adf_runs": adf, "spark_apps": spark}


FLOW_NAMES = {
    "task_instance": "dag_ledger_{}",
    "ctm_jobs": "prd_gl_{:03d}",
    "adf_runs": "pl_ingest_{}",
    "spark_apps": "spark_agg_{}",
}


def test_each_export_is_mapped_without_overrides() -> None:
    found = {name: infer_mapping(docs) for name, docs in exports().items()}
    assert {k: v for k, v in found["task_instance"].fields.items() if v} == {
        "pipeline": "dag_id",
        "status": "state",
        "start": "start_date",
        "end": "end_date",
        "host": "hostname",
        "duration": "duration",
    }
    assert {k: v for k, v in found["ctm_jobs"].fields.items() if v} == {
        "pipeline": "JOBNAME",  # not APPLICATION: one value over the whole sample
        "status": "STATUS",
        "start": "START_TIME",
        "end": "END_TIME",
    }
    assert {k: v for k, v in found["adf_runs"].fields.items() if v} == {
        "pipeline": "pipelineName",
        "status": "status",
        "error": "message",
        "start": "runStart",
        "end": "runEnd",
        "duration": "durationInMs",
    }
    assert {k: v for k, v in found["spark_apps"].fields.items() if v} == {
        "pipeline": "appName",
        "status": "finalStatus",
        "start": "attempts.0.startTime",
        "end": "attempts.0.endTime",
        "host": "host",
    }


@pytest.mark.parametrize("name", list(FLOW_NAMES))
async def test_their_runs_statuses_times_and_durations(
    store: GraphStore, cached_embedder: Any, name: str
) -> None:
    docs = exports()[name]
    report = IngestReport("mongo", name)
    await ingest_documents(store, cached_embedder, load_vocabulary(), name, docs, report)
    facts = _facts()
    assert await store.count_nodes("Run", [Filter("scope", "=", name)]) == len(docs)
    failed = [f for f in facts if f["outcome"] != "ok"]
    assert await store.count_nodes("Run", [Filter("status", "=", "FAILED")]) == len(failed)
    # yesterday's failures by flow, in UTC instants, from the fixture
    start, end = "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"
    expected = Counter(
        FLOW_NAMES[name].format(f["flow"])
        for f in failed
        if YESTERDAY <= f["start"] < YESTERDAY + timedelta(days=1)
    )
    result = await store.aggregate_runs(RunQuery(("FAILED",), start, end, limit=50))
    assert {g.key: g.count for g in result.groups} == dict(expected)
    # the longest run yesterday, in seconds whatever unit the export used
    longest = await store.aggregate_runs(RunQuery((), start, end, order="longest", limit=1))
    yesterday = [f for f in facts if YESTERDAY <= f["start"] < YESTERDAY + timedelta(days=1)]
    assert longest.groups[0].max_duration_s == pytest.approx(max(f["seconds"] for f in yesterday))
    assert not [e for e in report.errors if "could not be parsed" in e]

"""A realistic monitoring database, generated deterministically for the demo, tests and benchmarks.

Run records carry pipeline, technology, status, error message, timestamps, host and environment;
error messages are real loghub Hadoop WARN/ERROR lines (``data/log_messages.json``) plus messages
typical of the team's other technologies. Heterogeneous collections (alerts, deployments) have
none of the run fields and ingest as plain records.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

__all__ = ["PIPELINES", "example_database", "generate_runs"]

# name, technology, host, environment
PIPELINES: tuple[tuple[str, str, str, str], ...] = (
    ("ingest_trades", "Spark", "spark-node-3", "prod"),
    ("risk_daily", "Spark", "spark-node-1", "prod"),
    ("customers_sync", "Kafka", "kafka-broker-2", "prod"),
    ("ledger_reconciliation", "Informatica", "infa-srv-01", "prod"),
    ("audit_logs_weekly", "Hadoop", "msra-sa-41", "prod"),
    ("refresh_orders_qa", "Delphix", "linux-db-07", "qa"),
    ("positions_load", "Airflow", "airflow-worker-2", "prod"),
    ("orders_qa_masking", "Delphix", "linux-db-07", "qa"),
)

_EXTRA_ERRORS: dict[str, list[str]] = {
    "Spark": [
        "java.lang.OutOfMemoryError: Java heap space in stage 12.0 (TID 4521)",
        "Container killed on host linux-db-07 after 3600s: exceeded memory limits",
        "Job aborted due to stage failure: Task 3 in stage 7.0 failed 4 times",
    ],
    "Kafka": [
        "org.apache.kafka.common.errors.TimeoutException: Topic trades-v2 not present in metadata after 60000 ms",
        "Consumer group customers-sync lag 152340 exceeds threshold 50000",
    ],
    "Informatica": [
        'ORA-01555: snapshot too old: rollback segment number 12 with name "_SYSSMU12$" too small',
        "Session s_m_ledger_recon failed: Writer execution failed, ORA-00060 deadlock detected",
    ],
    "Delphix": [
        "VDB refresh failed: snapshot @2026-11-20T02:00:00Z of dSource orders_prod is not available",
        "Delphix job JOB-4411 failed: environment linux-db-07 is unreachable",
    ],
    "Airflow": [
        "Task positions_load.extract exited with return code 137 on airflow-worker-2",
        "airflow.exceptions.AirflowSensorTimeout: Sensor has timed out; run duration of 7200 seconds",
    ],
}


def _messages() -> dict[str, list[str]]:
    raw = resources.files("flowrag.examples").joinpath("data/log_messages.json").read_text("utf-8")
    by_tech: dict[str, list[str]] = {k: list(v) for k, v in _EXTRA_ERRORS.items()}
    for item in json.loads(raw):
        by_tech.setdefault(item["technology"], []).append(item["message"])
    return by_tech


def generate_runs(
    count: int,
    *,
    now: datetime | None = None,
    days: int = 7,
    seed: int = 7,
    failure_rate: float = 0.18,
    start_index: int = 0,
) -> Iterator[dict[str, Any]]:
    """``count`` run documents spread over the last ``days`` days before ``now``."""
    rng = random.Random(seed + start_index)
    now = now or datetime.now(UTC).replace(microsecond=0)
    messages = _messages()
    span = days * 86_400
    for i in range(start_index, start_index + count):
        name, tech, host, env = PIPELINES[i % len(PIPELINES)]
        start = now - timedelta(seconds=span * (1 - (i - start_index + 0.5) / max(count, 1)))
        start = start.replace(microsecond=0)
        duration = rng.randint(60, 3600)
        failed = rng.random() < failure_rate
        doc: dict[str, Any] = {
            "_id": f"run-{i:08d}",
            "pipeline": name,
            "technology": tech,
            "status": "FAILED" if failed else "SUCCESS",
            "start_time": start,
            "end_time": start + timedelta(seconds=duration),
            "host": host,
            "env": env,
            "metrics": {"rows_in": rng.randint(1000, 5_000_000), "duration_s": duration},
        }
        if failed:
            pool = messages.get(tech) or messages["Spark"]
            doc["error_message"] = pool[rng.randrange(len(pool))]
        yield doc


def example_database(now: datetime | None = None, runs: int = 160) -> dict[str, list[dict[str, Any]]]:
    """The demo's database: a ``runs`` collection plus two heterogeneous ones."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    alerts = [
        {
            "_id": "alert-1",
            "severity": "critical",
            "title": "Flux ingest_trades en échec",
            "details": "OutOfMemoryError sur spark-node-3, relance manuelle demandée",
            "opened": now - timedelta(hours=20),
        },
        {
            "_id": "alert-2",
            "severity": "warning",
            "title": "Lag Kafka customers_sync",
            "details": "Le lag du groupe customers-sync dépasse 50000 messages",
            "opened": now - timedelta(hours=30),
        },
    ]
    deployments = [
        {
            "_id": "dep-1",
            "service": "vdb-refresh-api",
            "version": "1.4.2",
            "by": "équipe data-platform",
            "notes": "Ajout de l'appel POST /vdbs/{vdbId}/refresh_by_snapshot",
            "at": now - timedelta(days=2),
        },
    ]
    return {"runs": list(generate_runs(runs, now=now)), "alerts": alerts, "deployments": deployments}

"""Runs with a known story around one report day, and the report's facts computed from them here,
independently of flowrag (local days by zoneinfo, counts by Counter).

The story, in Europe/Paris, ending on DAY:
- ``stream_a`` fails every day of the last five days (a streak of 5), always with one template;
- ``batch_b`` failed the day before DAY and succeeds on DAY (recovered);
- ``load_c`` fails for the first time on DAY, with a template never seen before (a new error);
- ``long_f`` fails every day of the last twelve (longer than the trend window);
- ``sync_d`` fails now and then (random), and on DAY with a message holding markup; ``quiet_e``
  never fails;
- runs close to local midnight, on both sides, so that a UTC day would count them wrongly.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flowrag.graph.port import GraphStore
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid

TZ = "Europe/Paris"
DAY = date(2026, 11, 24)
TECH = {
    "stream_a": "Kafka",
    "batch_b": "Spark",
    "load_c": "Informatica",
    "sync_d": "Spark",
    "quiet_e": "Airflow",
    "long_f": "Airflow",
}
HOST = {
    "long_f": "af-2",
    "stream_a": "kafka-broker-2",
    "batch_b": "spark-node-1",
    "load_c": "infa-srv-01",
    "sync_d": "spark-node-3",
    "quiet_e": "af-1",
}
TEMPLATES = {
    "t_lag": (
        "Consumer group <ID> lag <NUM> exceeds threshold",
        "Consumer group cg-7 lag 152340 exceeds threshold",
    ),
    "t_oom": (
        "java.lang.OutOfMemoryError: Java heap space in stage <NUM>",
        "java.lang.OutOfMemoryError: Java heap space in stage 12",
    ),
    "t_vdb": (
        "VDB refresh failed: snapshot of dSource <ID> is not available",
        "VDB refresh failed: snapshot of dSource orders_prod is not available on engine de-01",
    ),
    "t_ora": (
        "ORA-<NUM>: snapshot too old",
        'ORA-01555: snapshot too old <script>alert("x")</script> [click](http://evil)',
    ),
}
FLOW_TEMPLATES = {
    "stream_a": ["t_lag"],
    "batch_b": ["t_oom"],
    "load_c": ["t_vdb"],
    "sync_d": ["t_oom", "t_ora"],
}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(TZ)).astimezone(UTC)


def make_runs(days: int = 20, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    runs: list[dict[str, Any]] = []

    def add(pipe: str, when: datetime, status: str, template: str | None = None) -> None:
        i = len(runs)
        run: dict[str, Any] = {
            "ref": f"runs/r{i:05d}",
            "doc_id": f"r{i:05d}",
            "pipeline": pipe,
            "status": status,
            "started_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "technology": TECH[pipe].lower(),
            "host": HOST[pipe],
            "collection": "runs",
            "duration_s": float(rng.randrange(10, 900)),
        }
        if template:
            run["error_template"] = template
            run["error_message"] = TEMPLATES[template][1]
        runs.append(run)

    for back in range(days - 1, -1, -1):
        day = DAY - timedelta(days=back)
        for pipe in TECH:
            for hour in (2, 9, 16):
                add(pipe, _at(day, hour, rng.randrange(60)), "SUCCESS")
        if back < 12:  # beyond the 7 days of the trends: the streak is followed further back
            add("long_f", _at(day, 5, rng.randrange(60)), "FAILED", "t_oom")
        if back < 5:
            for _ in range(rng.randrange(1, 4)):
                add("stream_a", _at(day, rng.randrange(1, 22), rng.randrange(60)), "FAILED", "t_lag")
        if back == 1:
            add("batch_b", _at(day, 23, 40), "FAILED", "t_oom")  # 22:40 UTC: still the day before DAY
        if back == 0:
            add("load_c", _at(day, 0, 20), "FAILED", "t_vdb")  # 23:20 UTC the day before: DAY in Paris
            add("load_c", _at(day, 23, 50), "FAILED", "t_vdb")
            add("sync_d", _at(day, 10, 5), "FAILED", "t_ora")  # a message with markup in it
        if rng.random() < 0.4:
            add(
                "sync_d",
                _at(day, rng.randrange(0, 24), rng.randrange(60)),
                "FAILED",
                rng.choice(FLOW_TEMPLATES["sync_d"]),
            )
        if rng.random() < 0.3:
            add("quiet_e", _at(day, 12), "WARNING")
    return runs


RUNS = make_runs()


def local_day(run: dict[str, Any]) -> date:
    instant = datetime.strptime(str(run["started_at"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(TZ)).date()


def expected(day: date = DAY, trend_days: int = 7) -> dict[str, Any]:
    """The report's facts, computed from RUNS without flowrag."""
    on = [r for r in RUNS if local_day(r) == day]
    failed = [r for r in on if r["status"] == "FAILED"]
    by_flow = Counter(r["pipeline"] for r in failed)
    causes: dict[str, Counter[str]] = defaultdict(Counter)
    for r in failed:
        causes[r["pipeline"]][r["error_template"]] += 1
    before = {r["error_template"] for r in RUNS if r["status"] == "FAILED" and local_day(r) < day}
    new = {r["error_template"] for r in failed} - before
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for r in RUNS:
        if r["status"] == "FAILED":
            per_day[local_day(r)][r["pipeline"]] += 1
    streaks = {}
    for pipe in by_flow:
        n = 0
        while per_day[day - timedelta(days=n)][pipe]:
            n += 1
        if n >= 2:
            streaks[pipe] = n
    ran = {r["pipeline"] for r in on}
    recovered = {p for p in per_day[day - timedelta(days=1)] if p not in by_flow and p in ran}
    newly = {
        p for p in by_flow if not any(per_day[day - timedelta(days=b)][p] for b in range(1, trend_days + 1))
    }
    chart = {}
    for back in range(13, -1, -1):
        d = day - timedelta(days=back)
        chart[d.isoformat()] = dict(Counter(r["status"] for r in RUNS if local_day(r) == d))
    return {
        "totals": dict(Counter(r["status"] for r in on)),
        "flows": dict(by_flow),
        "first_last": {
            p: (
                min(r["started_at"] for r in failed if r["pipeline"] == p),
                max(r["started_at"] for r in failed if r["pipeline"] == p),
            )
            for p in by_flow
        },
        "causes": {p: dict(c) for p, c in causes.items()},
        "new": new,
        "streaks": streaks,
        "recovered": recovered,
        "newly": newly,
        "technologies": dict(Counter(TECH[r["pipeline"]] for r in failed)),
        "chart": chart,
    }


async def load(store: GraphStore) -> None:
    rows = []
    for r in RUNS:
        props = {k: v for k, v in r.items() if k != "ref"}
        rows.append(
            NodeRow(
                NodeLabel.RUN, str(r["ref"]), "mongo", "runs", str(r["ref"]), name=str(r["ref"]), props=props
            )
        )
    rows += [NodeRow(NodeLabel.PIPELINE, p, "mongo", "_shared", p, name=p) for p in TECH]
    rows += [
        NodeRow(NodeLabel.TECHNOLOGY, t.lower(), "mongo", "_shared", t.lower(), name=t)
        for t in set(TECH.values())
    ]
    rows += [
        NodeRow(NodeLabel.ERROR, k, "mongo", "_shared", k, name=shape) for k, (shape, _) in TEMPLATES.items()
    ]
    rows += [
        NodeRow(NodeLabel.DELPHIX_KIND, k, "openapi", "dct", k, name=k)
        for k in ("VDB", "DSource", "Snapshot", "Engine")
    ]
    rows.append(
        NodeRow(
            NodeLabel.FILE,
            "etl/jobs/load_c.py",
            "code",
            "etl",
            "etl/jobs/load_c.py",
            name="jobs/load_c.py",
            props={"repo": "etl", "path": "jobs/load_c.py"},
        )
    )
    await store.upsert_nodes(rows)
    await store.upsert_relationships(
        [
            RelRow(
                RelType.IMPLEMENTS,
                make_uid(NodeLabel.FILE, "etl/jobs/load_c.py"),
                make_uid(NodeLabel.PIPELINE, "load_c"),
            )
        ]
    )
    await store.flush()

"""The run-aggregate contract: the same typed queries on the embedded store and a real Neo4j, with
every expected figure computed here from the generated runs (never from flowrag's output)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from flowrag.errors import PlanError
from flowrag.graph.aggregate import RunQuery
from flowrag.graph.port import GraphStore
from flowrag.schema import NodeLabel, NodeRow, make_uid

PIPES = [f"flow_{i:02d}" for i in range(12)]
TECH = {p: ("spark", "kafka", "airflow")[i % 3] for i, p in enumerate(PIPES)}
HOSTS = ["lx-01", "lx-02", "win-03"]
NEVER_FAILS = {"flow_00", "flow_05"}  # by construction
BASE = datetime(2026, 11, 1, tzinfo=UTC)


def _runs() -> list[dict[str, object]]:
    rng = random.Random(7)
    runs = []
    for i in range(600):
        pipe = rng.choice(PIPES)
        status = "SUCCESS" if pipe in NEVER_FAILS or rng.random() < 0.7 else "FAILED"
        start = BASE + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
        runs.append(
            {
                "ref": f"runs/{i}",
                "pipeline": pipe,
                "status": status,
                "started_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "technology": TECH[pipe],
                "host": rng.choice(HOSTS),
                "collection": "runs",
                "duration_s": float(rng.randrange(5, 500)),
            }
        )
    return runs


RUNS = _runs()


def _row(r: dict[str, object]) -> NodeRow:
    props = {k: v for k, v in r.items() if k != "ref"}
    return NodeRow(
        NodeLabel.RUN, str(r["ref"]), "mongo", "runs", str(r["ref"]), name=str(r["ref"]), props=props
    )


async def _load(store: GraphStore) -> None:
    await store.upsert_nodes([_row(r) for r in RUNS])
    for pipe in PIPES:
        await store.upsert_nodes([NodeRow(NodeLabel.PIPELINE, pipe, "mongo", "_shared", pipe, name=pipe)])
    await store.upsert_nodes(
        [NodeRow(NodeLabel.TECHNOLOGY, t, "mongo", "_shared", t, name=t) for t in set(TECH.values())]
    )


def _in(r: dict[str, object], start: str, end: str) -> bool:
    return start <= str(r["started_at"]) < end


async def test_failures_by_pipeline_in_a_window(store: GraphStore) -> None:
    await _load(store)
    start, end = "2026-11-10T00:00:00Z", "2026-11-17T00:00:00Z"
    expected = Counter(r["pipeline"] for r in RUNS if r["status"] == "FAILED" and _in(r, start, end))
    result = await store.aggregate_runs(RunQuery(("FAILED",), start, end, limit=100))
    assert {g.key: g.count for g in result.groups} == dict(expected)
    assert result.total == sum(expected.values())
    assert result.group_count == len(expected)
    assert [g.count for g in result.groups] == sorted(expected.values(), reverse=True)
    top = result.groups[0]
    mine = sorted(
        (r for r in RUNS if r["pipeline"] == top.key and r["status"] == "FAILED" and _in(r, start, end)),
        key=lambda r: str(r["started_at"]),
    )
    assert top.first == mine[0]["started_at"] and top.last == mine[-1]["started_at"]
    assert top.latest[0] == make_uid(NodeLabel.RUN, str(mine[-1]["ref"]))
    assert top.max_duration_s == max(float(r["duration_s"]) for r in mine)  # type: ignore[arg-type]


async def test_technology_that_fails_most_and_least(store: GraphStore) -> None:
    await _load(store)
    expected = Counter(r["technology"] for r in RUNS if r["status"] == "FAILED")
    most = await store.aggregate_runs(RunQuery(("FAILED",), group_by="technology", limit=1))
    assert (most.groups[0].key, most.groups[0].count) == expected.most_common(1)[0]
    least = await store.aggregate_runs(RunQuery(("FAILED",), group_by="technology", order="least", limit=1))
    assert least.groups[0].count == min(expected.values())
    assert most.total == sum(expected.values())
    # first, last and latest come from the ends of the group's index range on Neo4j
    mine = sorted(
        (r for r in RUNS if r["technology"] == most.groups[0].key and r["status"] == "FAILED"),
        key=lambda r: str(r["started_at"]),
    )
    top = most.groups[0]
    assert (top.first, top.last) == (mine[0]["started_at"], mine[-1]["started_at"])
    assert top.latest == tuple(make_uid(NodeLabel.RUN, str(r["ref"])) for r in reversed(mine[-3:]))
    counts_only = await store.aggregate_runs(RunQuery(("FAILED",), group_by="technology", limit=1, latest=0))
    assert (counts_only.groups[0].last, counts_only.groups[0].latest) == (mine[-1]["started_at"], ())


async def test_never_failed_scoped_and_unscoped(store: GraphStore) -> None:
    await _load(store)
    failed = {r["pipeline"] for r in RUNS if r["status"] == "FAILED"}
    ran = {r["pipeline"] for r in RUNS}
    result = await store.aggregate_runs(RunQuery(("FAILED",), negate=True, limit=100))
    assert {g.key for g in result.groups} == ran - failed == NEVER_FAILS
    start, end = "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"
    day = [r for r in RUNS if _in(r, start, end)]
    quiet = {r["pipeline"] for r in day} - {r["pipeline"] for r in day if r["status"] == "FAILED"}
    scoped = await store.aggregate_runs(RunQuery(("FAILED",), start, end, negate=True, limit=100))
    assert {g.key for g in scoped.groups} == quiet
    runs_in_scope = Counter(r["pipeline"] for r in day)
    assert all(g.runs == runs_in_scope[g.key] for g in scoped.groups)


async def test_filters_and_groups_by_host_and_day(store: GraphStore) -> None:
    await _load(store)
    spark = [r for r in RUNS if r["technology"] == "spark" and r["status"] == "FAILED"]
    by_host = await store.aggregate_runs(
        RunQuery(("FAILED",), where=(("technology", ("spark",)),), group_by="host", limit=10)
    )
    assert {g.key: g.count for g in by_host.groups} == dict(Counter(r["host"] for r in spark))
    # no run names an environment: every failure is in the total, none in a group
    by_env = await store.aggregate_runs(RunQuery(("FAILED",), group_by="environment"))
    failures = sum(1 for r in RUNS if r["status"] == "FAILED")
    assert (by_env.total, by_env.group_count, by_env.groups) == (failures, 0, ())
    # days of the team's zone (UTC+1): a run at 23:30 UTC belongs to the next day
    offset = 60
    start, end = "2026-11-09T23:00:00Z", "2026-11-16T23:00:00Z"
    expected = Counter(
        (datetime.fromisoformat(str(r["started_at"])) + timedelta(minutes=offset)).date().isoformat()
        for r in RUNS
        if r["status"] == "FAILED" and _in(r, start, end)
    )
    days = await store.aggregate_runs(
        RunQuery(("FAILED",), start, end, group_by="day", limit=31, day_offset_minutes=offset)
    )
    assert {g.key: g.count for g in days.groups} == dict(expected)
    assert all(len(g.latest) == min(3, g.count) for g in days.groups)


async def test_nothing_matches_and_deleted_runs_leave(store: GraphStore) -> None:
    await _load(store)
    empty = await store.aggregate_runs(RunQuery(("FAILED",), "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"))
    assert (empty.total, empty.group_count, empty.groups) == (0, 0, ())
    failed = [r for r in RUNS if r["status"] == "FAILED"]
    await store.delete_nodes([make_uid(NodeLabel.RUN, str(r["ref"])) for r in failed[:10]])
    after = await store.aggregate_runs(RunQuery(("FAILED",), limit=100))
    assert after.total == len(failed) - 10


def test_a_query_names_only_known_groups() -> None:
    with pytest.raises(PlanError, match="cannot group runs by 'owner'"):
        RunQuery(group_by="owner")
    with pytest.raises(PlanError, match="cannot filter runs by 'owner'"):
        RunQuery(where=(("owner", ("x",)),))
    with pytest.raises(PlanError, match="days without runs"):
        RunQuery(("FAILED",), group_by="day", negate=True)
    with pytest.raises(PlanError, match="latest 11 is out of range"):
        RunQuery(latest=11)


async def test_counts_only_queries_read_no_latest_runs(store: GraphStore) -> None:
    await _load(store)
    counted = await store.aggregate_runs(RunQuery(("FAILED",), limit=100, latest=0))
    cited = await store.aggregate_runs(RunQuery(("FAILED",), limit=100, latest=1))
    assert [(g.key, g.count) for g in counted.groups] == [(g.key, g.count) for g in cited.groups]
    assert all(g.latest == () for g in counted.groups)
    assert all(len(g.latest) == 1 for g in cited.groups)
    days = await store.aggregate_runs(
        RunQuery(
            ("FAILED",),
            BASE.isoformat().replace("+00:00", "Z"),
            "2026-11-08T00:00:00Z",
            group_by="day",
            latest=0,
        )
    )
    assert days.groups and all(g.latest == () for g in days.groups)


async def test_a_cause_asked_of_runs_without_error_messages_answers_with_the_runs(store: GraphStore) -> None:
    from flowrag.answer.aggregates import AggregatePlan
    from flowrag.answer.run_answers import answer_aggregate

    await _load(store)  # these runs carry no error message, so no error template
    start, end = "2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z"
    expected = Counter(r["pipeline"] for r in RUNS if r["status"] == "FAILED" and _in(r, start, end))
    asked = AggregatePlan(RunQuery(("FAILED",), start, end, group_by="error_template"), None, "count", {})
    found = await answer_aggregate(store, asked, "fr", 20, "hier")
    assert found.agg is not None and found.agg.query.group_by == "pipeline"
    assert {g.key: g.count for g in found.result.groups} == dict(expected)
    assert found.items and all(i.provenance.startswith("runs/") for i in found.items)
    # a negated question keeps its empty answer: "no flow failed" is not turned into a list of flows
    never = AggregatePlan(
        RunQuery(("FAILED",), start, end, group_by="error_template", negate=True), None, "count", {}
    )
    assert (await answer_aggregate(store, never, "fr", 20, "hier")).agg is None

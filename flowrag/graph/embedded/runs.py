"""The embedded store's run table: one typed row per Run node, kept in the same transaction as
the node, so aggregates over a million runs are index scans of narrow rows instead of JSON
parsing (json_extract over 1M rows takes seconds; these indexes answer in milliseconds).

The table is derived data: :func:`backfill` rebuilds it from the nodes when a store written
before it existed is opened."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from flowrag.graph.aggregate import (
    DIMENSION_LABELS,
    DIMENSIONS,
    RunAggregate,
    RunGroup,
    RunQuery,
    day_bounds,
)

__all__ = ["RUNS_DDL", "aggregate", "backfill", "delete", "sync"]

_DIMS = ", ".join(DIMENSIONS)
_GROUP_DIMS = tuple(d for d in DIMENSIONS if d != "status")
# what an answer breaks each group down by (its causes; an error's flows) rides along in the index
_CAUSES = {d: ", pipeline" if d == "error_template" else ", error_template" for d in _GROUP_DIMS}
_CAUSES["pipeline"] = ", error_template"
# Covering indexes, one per way a question scopes its runs:
# - (status, start, …): counted statuses in a window ("échecs hier");
# - (start, …): every status in a window ("les runs les plus longs hier");
# - (status, dimension, start, duration) per dimension: counted statuses over all time grouped or
#   filtered by that dimension ("quelle technologie échoue le plus", "spark failures yesterday"),
#   a group's latest runs, its causes, and "never failed" probes. Grouping reads it in order.
RUNS_DDL = f"""
CREATE TABLE IF NOT EXISTS runs (
    node_id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL,
    started_at TEXT,
    duration_s REAL,
    {", ".join(f"{d} TEXT" for d in DIMENSIONS)}
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status, started_at, {_DIMS}, duration_s);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs(started_at, {_DIMS}, duration_s);
""" + "".join(
    f"CREATE INDEX IF NOT EXISTS runs_status_{d} ON runs(status, {d}, started_at, duration_s{_CAUSES[d]});\n"
    for d in _GROUP_DIMS
)
_COLUMNS = f"node_id, uid, started_at, duration_s, {_DIMS}"
_INSERT = (
    f"INSERT INTO runs({_COLUMNS}) VALUES ({','.join('?' * (4 + len(DIMENSIONS)))}) "
    "ON CONFLICT(node_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
)


def _row(node_id: int, uid: str, props: dict[str, Any]) -> tuple[Any, ...]:
    duration = props.get("duration_s")
    return (
        node_id,
        uid,
        props.get("started_at"),
        float(duration) if isinstance(duration, int | float) else None,
        *(None if props.get(d) in (None, "") else str(props[d]) for d in DIMENSIONS),
    )


def sync(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, dict[str, Any]]]) -> None:
    """Write the run rows of these (node id, uid, props); call inside the node's transaction."""
    conn.executemany(_INSERT, [_row(i, u, p) for i, u, p in rows])


def delete(conn: sqlite3.Connection, ids: Sequence[tuple[int]]) -> None:
    conn.executemany("DELETE FROM runs WHERE node_id = ?", ids)


def backfill(conn: sqlite3.Connection) -> int:
    """Rebuild the table from the Run nodes when it is behind them (older stores)."""
    runs = conn.execute("SELECT count(*) FROM nodes WHERE label = 'Run'").fetchone()[0]
    if conn.execute("SELECT count(*) FROM runs").fetchone()[0] == runs:
        return 0
    conn.execute("BEGIN")
    try:
        conn.execute("DELETE FROM runs")
        cursor = conn.execute("SELECT id, uid, props FROM nodes WHERE label = 'Run'")
        while batch := cursor.fetchmany(10_000):
            sync(conn, ((i, u, json.loads(p)) for i, u, p in batch))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(runs)


def _group_expr(query: RunQuery, params: list[Any]) -> str:
    if query.group_by == "day":
        params.append(f"{query.day_offset_minutes:+d} minutes")
        return "substr(datetime(started_at, ?), 1, 10)"
    return query.group_by


def _statuses(conn: sqlite3.Connection, query: RunQuery) -> tuple[str, ...]:
    """The counted statuses; every status the table holds when the question counts all runs (the
    same rows, but the per-dimension indexes, which lead with the status, then apply). Read by
    skipping through the status index: one seek per distinct status."""
    if query.statuses:
        return query.statuses
    rows = conn.execute(
        "WITH RECURSIVE s(v) AS (SELECT min(status) FROM runs UNION ALL "
        "SELECT (SELECT min(status) FROM runs WHERE status > s.v) FROM s WHERE s.v IS NOT NULL) "
        "SELECT v FROM s WHERE v IS NOT NULL"
    ).fetchall()
    return tuple(r[0] for r in rows)


def _scope(query: RunQuery, params: list[Any], statuses: Sequence[str] = ()) -> list[str]:
    clauses: list[str] = []
    if statuses:
        clauses.append(f"status IN ({','.join('?' * len(statuses))})")
        params.extend(statuses)
    if query.start:
        clauses.append("started_at >= ?")
        params.append(query.start)
    if query.end:
        clauses.append("started_at < ?")
        params.append(query.end)
    for dim, values in query.where:
        clauses.append(f"{dim} IN ({','.join('?' * len(values))})" if values else "0")
        params.extend(values)
    return clauses


def _index(query: RunQuery, counted: bool, group: str | None = None) -> str:
    """The covering index for this scope, forced: without ANALYZE statistics SQLite's planner
    picks a narrower index and reads the table row by row."""
    dims = [d for d, _ in query.where if d in _GROUP_DIMS]
    window = bool(query.start or query.end)
    group = group or query.group_by
    if counted:
        if dims:
            return f" INDEXED BY runs_status_{dims[0]}"
        if window or group not in _GROUP_DIMS:
            return " INDEXED BY runs_by_status"
        return f" INDEXED BY runs_status_{group}"
    if window and not dims:
        return " INDEXED BY runs_by_time"
    return ""


_ORDER = {
    "most": "n DESC, g",
    "least": "n ASC, g",
    "last": "last DESC, g",
    "first": "first ASC, g",
    "longest": "longest DESC, g",
}


def aggregate(conn: sqlite3.Connection, query: RunQuery) -> RunAggregate:
    if query.negate:
        return _negated(conn, query)
    statuses = _statuses(conn, query)
    if not statuses:
        return RunAggregate(0, 0, ())
    params: list[Any] = []
    group = _group_expr(query, params)
    where = _scope(query, params, statuses)
    # one pass: the window columns see every group (runs without a value for the group form one
    # NULL group, counted in the total but not shown) before ORDER BY and LIMIT
    sql = (
        "SELECT g, n, first, last, mean, longest, count(*) OVER (), sum(n) OVER (), "
        "sum(g IS NULL) OVER () FROM ("
        f"SELECT {group} AS g, count(*) AS n, min(started_at) AS first, max(started_at) AS last, "
        f"avg(duration_s) AS mean, max(duration_s) AS longest FROM runs{_index(query, True)} "
        f"WHERE {' AND '.join(where)} GROUP BY g) ORDER BY g IS NULL, {_ORDER[query.order]} LIMIT ?"
    )
    rows = conn.execute(sql, [*params, query.limit + 1]).fetchall()
    if not rows:
        return RunAggregate(0, 0, ())
    groups = tuple(
        RunGroup(
            str(g),
            int(n),
            first,
            last,
            mean,
            longest,
            _latest(conn, query, statuses, str(g)) if query.latest else (),
        )
        for g, n, first, last, mean, longest, *_ in rows[: query.limit]
        if g is not None
    )
    return RunAggregate(int(rows[0][7]), int(rows[0][6]) - int(rows[0][8]), groups)


def _latest(conn: sqlite3.Connection, query: RunQuery, statuses: Sequence[str], key: str) -> tuple[str, ...]:
    """The group's most recent counted runs (``query.latest``): a seek in the group's (status, dimension,
    start) index read backwards; a day is its UTC bounds in the (status, start) index."""
    params: list[Any] = []
    if query.group_by == "day":
        start, end = day_bounds(key, query.day_offset_minutes)
        clauses = ["started_at >= ?", "started_at < ?"]
        params += [start, end]
        index = " INDEXED BY runs_by_status"
    else:
        clauses = [f"{query.group_by} = ?"]
        params.append(key)
        index = f" INDEXED BY runs_status_{query.group_by}" if query.group_by in _GROUP_DIMS else ""
    clauses += _scope(query, params, statuses)
    rows = conn.execute(
        f"SELECT uid FROM runs{index} WHERE {' AND '.join(clauses)} ORDER BY started_at DESC LIMIT ?",
        [*params, query.latest],
    ).fetchall()
    return tuple(r[0] for r in rows)


def _negated(conn: sqlite3.Connection, query: RunQuery) -> RunAggregate:
    """Groups with runs in scope and none counted. Unscoped, the groups are the dimension's nodes
    (index probes each) rather than a scan of every run."""
    dim = query.group_by
    order = {"most": "runs DESC, g", "least": "runs ASC, g", "last": "last DESC, g"}.get(query.order, "g")
    label = DIMENSION_LABELS.get(dim)
    present = _statuses(conn, RunQuery())
    if not query.statuses or not present:
        return RunAggregate(0, 0, ())
    if query.scoped or label is None:
        params: list[Any] = []
        # a dimension filter reads its (status, dimension) index over every status present
        where = _scope(query, params, present if query.where else ())
        counted = f"sum(status IN ({','.join('?' * len(query.statuses))}))"
        sql = (
            f"SELECT {dim} AS g, count(*) AS runs, min(started_at), max(started_at) AS last, "
            f"count(*) OVER () FROM runs{_index(query, bool(query.where))}"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + f" GROUP BY g HAVING g IS NOT NULL AND {counted} = 0 ORDER BY {order} LIMIT ?"
        )
        rows = conn.execute(sql, [*params, *query.statuses, query.limit]).fetchall()
        groups = tuple(RunGroup(str(g), 0, first, last, runs=int(n)) for g, n, first, last, _ in rows)
        return RunAggregate(0, int(rows[0][4]) if rows else 0, groups)
    counted = ",".join("?" * len(query.statuses))
    anything = ",".join("?" * len(present))
    sql = (
        f"SELECT n.key AS g, count(*) OVER () FROM nodes n WHERE n.label = ? "
        f"AND EXISTS (SELECT 1 FROM runs r INDEXED BY runs_status_{dim} "
        f"WHERE r.status IN ({anything}) AND r.{dim} = n.key) "
        f"AND NOT EXISTS (SELECT 1 FROM runs r INDEXED BY runs_status_{dim} "
        f"WHERE r.status IN ({counted}) AND r.{dim} = n.key) ORDER BY g LIMIT ?"
    )
    rows = conn.execute(sql, [label, *present, *query.statuses, query.limit]).fetchall()
    return RunAggregate(0, int(rows[0][1]) if rows else 0, tuple(RunGroup(str(g), 0) for g, _ in rows))

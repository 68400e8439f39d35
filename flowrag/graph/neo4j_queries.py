"""Cypher used by the Neo4j adapter. Constants, or small builders whose only variable parts are
ontology labels/types and property names that passed ``safe_identifier``. Values are always
``$parameters``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from flowrag.graph.aggregate import DIMENSION_LABELS, DIMENSIONS, RunQuery, day_bounds
from flowrag.schema import BASE_LABEL, ONTOLOGY, NodeLabel, RelType, safe_identifier
from flowrag.timeutil import parse_instant

__all__ = [
    "CONSTRAINT_UID",
    "DELETE_NODES",
    "DELETE_SCOPE",
    "EXISTING_HASHES",
    "EXPORT_EDGES",
    "EXPORT_NODES",
    "FULLTEXT_INDEX",
    "FULLTEXT_QUERY",
    "GET_NODES",
    "INDEX_SCOPE",
    "SCOPE_COUNT",
    "SCOPE_UIDS",
    "SCOPE_UIDS_LABEL",
    "SET_EMBEDDINGS",
    "SHOW_FLOWRAG_INDEXES",
    "SHOW_FULLTEXT_INDEX",
    "SHOW_UID_CONSTRAINT",
    "SHOW_VECTOR_INDEXES",
    "TERMS_PRESENT",
    "VECTOR_QUERY",
    "delete_relationships_query",
    "drop_index",
    "embedded_counts_query",
    "forbidden_clause",
    "fulltext_index_covers",
    "fulltext_index_ddl",
    "lucene_query",
    "neighbours_query",
    "range_index_ddl",
    "run_aggregate_indexes",
    "run_aggregate_query",
    "stats_query",
    "upsert_nodes_query",
    "upsert_relationships_query",
    "vector_index_ddl",
    "vector_index_name",
    "where_clause",
]

FULLTEXT_INDEX = "flowrag_text"

CONSTRAINT_UID = f"CREATE CONSTRAINT flowrag_uid IF NOT EXISTS FOR (n:{BASE_LABEL}) REQUIRE n.uid IS UNIQUE"
INDEX_SCOPE = f"CREATE INDEX flowrag_scope IF NOT EXISTS FOR (n:{BASE_LABEL}) ON (n.source, n.scope)"
SHOW_VECTOR_INDEXES = (
    "SHOW VECTOR INDEXES YIELD name, labelsOrTypes, options "
    "RETURN name, labelsOrTypes, options.indexConfig['vector.dimensions'] AS dimensions"
)

SHOW_FULLTEXT_INDEX = (
    f"SHOW FULLTEXT INDEXES YIELD name, labelsOrTypes, properties WHERE name = '{FULLTEXT_INDEX}' "
    "RETURN labelsOrTypes AS labels, properties"
)

EXISTING_HASHES = f"""
UNWIND $uids AS uid
MATCH (n:{BASE_LABEL} {{uid: uid}})
RETURN n.uid AS uid, n.content_hash AS hash
"""

SCOPE_COUNT = f"MATCH (n:{BASE_LABEL} {{source: $source, scope: $scope}}) RETURN count(n) AS c"
SCOPE_UIDS = f"MATCH (n:{BASE_LABEL} {{source: $source, scope: $scope}}) RETURN n.uid AS uid"
SCOPE_UIDS_LABEL = (
    f"MATCH (n:{BASE_LABEL} {{source: $source, scope: $scope}}) WHERE $label IN labels(n) RETURN n.uid AS uid"
)

DELETE_NODES = f"""
UNWIND $uids AS uid
MATCH (n:{BASE_LABEL} {{uid: uid}})
DETACH DELETE n
RETURN count(*) AS deleted
"""

DELETE_SCOPE = f"""
MATCH (n:{BASE_LABEL} {{source: $source, scope: $scope}})
CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS
"""

GET_NODES = f"""
UNWIND range(0, size($uids) - 1) AS i
MATCH (n:{BASE_LABEL} {{uid: $uids[i]}})
RETURN n {{.*, embedding: null}} AS node, [l IN labels(n) WHERE l <> '{BASE_LABEL}'][0] AS label
ORDER BY i
"""

# one round trip for every label's index (each label has its own vector index)
VECTOR_QUERY = """
UNWIND $indexes AS ix
CALL db.index.vector.queryNodes(ix.index, $k, $embedding) YIELD node, score
RETURN node {.*, embedding: null} AS node, ix.label AS label, score
"""

FULLTEXT_QUERY = f"""
CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEX}', $query, {{limit: $fetch}}) YIELD node, score
WITH node, score, [l IN labels(node) WHERE l <> '{BASE_LABEL}'][0] AS label
WHERE label IN $labels
RETURN node {{.*, embedding: null}} AS node, label, score
ORDER BY score DESC
"""

# one round trip for every coverage probe: does any node match this term at all?
TERMS_PRESENT = f"""
UNWIND $queries AS item
CALL {{
  WITH item
  CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEX}', item.query, {{limit: 1}}) YIELD node
  RETURN count(node) AS hits
}}
RETURN item.i AS i, hits
"""


def stats_query() -> str:
    """Nodes per label and relationships per type in one round trip (each count from the count
    store, in a subquery so an empty label or type still gives its row)."""
    parts = [
        f"CALL {{ MATCH (n:{safe_identifier(spec.label.value)}) RETURN count(n) AS c }} "
        f"RETURN 'node' AS kind, '{spec.label.value}' AS name, c"
        for spec in ONTOLOGY.labels
    ]
    parts += [
        f"CALL {{ MATCH ()-[r:{safe_identifier(rel.value)}]->() RETURN count(r) AS c }} "
        f"RETURN 'relationship' AS kind, '{rel.value}' AS name, c"
        for rel in RelType
    ]
    return " UNION ALL ".join(parts)


EXPORT_NODES = f"""
MATCH (n:{BASE_LABEL}) WHERE n.uid > $after
WITH n ORDER BY n.uid LIMIT $limit
RETURN n {{.*, embedding: null}} AS node, [l IN labels(n) WHERE l <> '{BASE_LABEL}'][0] AS label,
       n.embedding AS embedding
"""

EXPORT_EDGES = f"""
UNWIND $uids AS uid
MATCH (a:{BASE_LABEL} {{uid: uid}})-[r]->(b:{BASE_LABEL})
RETURN type(r) AS type, a.uid AS start, b.uid AS end, properties(r) AS props
"""


SHOW_FLOWRAG_INDEXES = (
    "SHOW INDEXES YIELD name, type, state, populationPercent, options "
    "WHERE name STARTS WITH 'flowrag_' "
    "RETURN name, type, state, populationPercent AS population, "
    "options.indexConfig['vector.dimensions'] AS dimensions"
)
SHOW_UID_CONSTRAINT = "SHOW CONSTRAINTS YIELD name WHERE name = 'flowrag_uid' RETURN count(*) AS found"


def embedded_counts_query() -> str:
    """Nodes and stored embeddings per embedded label, in one round trip."""
    # the count runs in a subquery: beside a literal column it would be grouped by it, and an
    # empty label would give no row at all
    return " UNION ALL ".join(
        f"CALL {{ MATCH (n:{safe_identifier(label.value)}) "
        f"RETURN count(n) AS nodes, count(n.embedding) AS vectors }} "
        f"RETURN '{label.value}' AS label, nodes, vectors"
        for label in ONTOLOGY.embedded_labels
    )


WIPE = f"MATCH (n:{BASE_LABEL}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS"


def await_indexes(seconds: int) -> str:
    return f"CALL db.awaitIndexes({int(seconds)})"


def _match(label: NodeLabel, filters: Sequence[tuple[str, str]]) -> str:
    where = where_clause("n", filters)
    return f"MATCH (n:{label.value})" + (f" WHERE {where}" if where else "")


def find_nodes_query(
    label: NodeLabel, filters: Sequence[tuple[str, str]], order_by: str | None, descending: bool
) -> str:
    """Nodes of ``label`` matching ``filters`` (parameters ``$f0``…), ordered, paged
    (``$offset``, ``$limit``); embeddings left out."""
    order = f"n.{safe_identifier(order_by)} {'DESC' if descending else 'ASC'}, " if order_by else ""
    return (
        f"{_match(label, filters)} RETURN n {{.*, embedding: null}} AS node "
        f"ORDER BY {order}n.uid SKIP $offset LIMIT $limit"
    )


def count_nodes_query(label: NodeLabel, filters: Sequence[tuple[str, str]]) -> str:
    return f"{_match(label, filters)} RETURN count(n) AS c"


def drop_index(name: str) -> str:
    return f"DROP INDEX {safe_identifier(name)} IF EXISTS"


def vector_index_name(label: NodeLabel) -> str:
    return f"flowrag_vec_{safe_identifier(label.value)}"


def vector_index_ddl(label: NodeLabel) -> str:
    return (
        f"CREATE VECTOR INDEX {vector_index_name(label)} IF NOT EXISTS "
        f"FOR (n:{safe_identifier(label.value)}) ON n.embedding "
        "OPTIONS {indexConfig: {`vector.dimensions`: $dimension, "
        "`vector.similarity_function`: 'cosine'}}"
    )


def fulltext_index_covers() -> tuple[frozenset[str], frozenset[str]]:
    """The labels and properties the ontology's full-text index must cover."""
    return frozenset(label.value for label in ONTOLOGY.fulltext_labels), frozenset(
        ONTOLOGY.fulltext_properties
    )


def fulltext_index_ddl() -> str:
    labels = "|".join(safe_identifier(label.value) for label in ONTOLOGY.fulltext_labels)
    props = ", ".join(f"n.{safe_identifier(p)}" for p in ONTOLOGY.fulltext_properties)
    return (
        f"CREATE FULLTEXT INDEX {FULLTEXT_INDEX} IF NOT EXISTS FOR (n:{labels}) ON EACH [{props}] "
        "OPTIONS {indexConfig: {`fulltext.analyzer`: 'standard-no-stop-words'}}"
    )


def range_index_ddl(label: NodeLabel, prop: str) -> str:
    name = f"flowrag_{safe_identifier(label.value)}_{safe_identifier(prop)}"
    return f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label.value}) ON (n.{prop})"


@lru_cache(maxsize=64)
def upsert_nodes_query(label: NodeLabel) -> str:
    """MERGE on uid; replaces the property map (so removed properties disappear) but keeps
    first_seen and the embedding (a new embedding is written by SET_EMBEDDINGS)."""
    lbl = safe_identifier(label.value)
    return f"""
UNWIND $rows AS row
MERGE (n:{BASE_LABEL} {{uid: row.uid}})
WITH n, row, coalesce(n.first_seen, row.props.last_seen) AS first, n.embedding AS old_embedding
SET n = row.props
SET n.uid = row.uid, n.first_seen = first, n.embedding = old_embedding, n:{lbl}
RETURN count(n) AS written
"""


SET_EMBEDDINGS = f"""
UNWIND $rows AS row
MATCH (n:{BASE_LABEL} {{uid: row.uid}})
CALL db.create.setNodeVectorProperty(n, 'embedding', row.embedding)
RETURN count(n) AS written
"""


@lru_cache(maxsize=64)
def upsert_relationships_query(rel_type: RelType) -> str:
    rtype = safe_identifier(rel_type.value)
    return f"""
UNWIND $rows AS row
MATCH (a:{BASE_LABEL} {{uid: row.start}})
MATCH (b:{BASE_LABEL} {{uid: row.end}})
MERGE (a)-[r:{rtype}]->(b)
ON CREATE SET r.created = true
WITH r, row, r.created AS created
SET r = row.props
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS created
"""


@lru_cache(maxsize=64)
def delete_relationships_query(types: tuple[RelType, ...]) -> str:
    rtypes = "|".join(safe_identifier(t.value) for t in types)
    return f"""
UNWIND $uids AS uid
MATCH (n:{BASE_LABEL} {{uid: uid}})-[r:{rtypes}]->()
DELETE r
RETURN count(r) AS deleted
"""


@lru_cache(maxsize=256)
def neighbours_query(types: tuple[RelType, ...]) -> str:
    """One hop both ways, at most $cap relationships per node, type and direction. Typed
    patterns let Neo4j read a dense node's relationship group of that type only, so a technology
    with 100k runs costs $cap reads, not 100k."""
    branches = []
    for rel in types:
        rtype = safe_identifier(rel.value)
        for pattern in (f"(s)-[r:{rtype}]->(m:{BASE_LABEL})", f"(s)<-[r:{rtype}]-(m:{BASE_LABEL})"):
            branches.append(f"MATCH {pattern} RETURN r, m LIMIT $cap")
    union = "\n  UNION ALL\n  ".join(branches)
    return f"""
UNWIND $uids AS uid
MATCH (s:{BASE_LABEL} {{uid: uid}})
CALL (s) {{
  {union}
}}
RETURN type(r) AS type, startNode(r).uid AS start, endNode(r).uid AS end, properties(r) AS props,
       m {{.*, embedding: null}} AS node, [l IN labels(m) WHERE l <> '{BASE_LABEL}'][0] AS label,
       s {{.*, embedding: null}} AS seed, [l IN labels(s) WHERE l <> '{BASE_LABEL}'][0] AS seed_label
"""


_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|//[^\n]*|/\*.*?\*/", re.S)
_FORBIDDEN = (
    (re.compile(r"\bLOAD\s+CSV\b", re.I), "LOAD CSV (file and URL access)"),
    (re.compile(r"\bdbms\s*\.", re.I), "dbms.* procedures (administration)"),
    (re.compile(r"\bapoc\s*\.", re.I), "apoc.* procedures"),
    (re.compile(r"\bgds\s*\.", re.I), "gds.* procedures"),
    (
        re.compile(
            r"\b(?:CREATE|DROP|ALTER|GRANT|REVOKE|DENY|SHOW)\s+(?:USER|ROLE|DATABASE|ALIAS|SERVER)", re.I
        ),
        "administration commands",
    ),
)


def forbidden_clause(query: str) -> str | None:
    """What a user query uses that the read-only entry point refuses (outside strings/comments)."""
    code = _STRINGS_AND_COMMENTS.sub(" ", query)
    for pattern, what in _FORBIDDEN:
        if pattern.search(code):
            return what
    return None


def lucene_query(text: str) -> str:
    """Each whitespace chunk as a quoted phrase (analysed like the index), OR-ed; quoting keeps
    Lucene syntax in user text literal."""
    phrases = []
    for chunk in text.split():
        if any(ch.isalnum() for ch in chunk):
            escaped = chunk.replace("\\", "\\\\").replace('"', '\\"')
            phrases.append(f'"{escaped}"')
    return " OR ".join(dict.fromkeys(phrases))


def where_clause(variable: str, filters: Sequence[tuple[str, str]]) -> str:
    """``(prop, op)`` pairs to a WHERE body using ``$f0``, ``$f1``… parameters."""
    parts = []
    for i, (prop, op) in enumerate(filters):
        column = f"{variable}.{safe_identifier(prop)}"
        if op == "in":
            parts.append(f"{column} IN $f{i}")
        elif op in {"=", "!=", ">=", "<=", ">", "<"}:
            cypher_op = "<>" if op == "!=" else op
            parts.append(f"{column} {cypher_op} $f{i}")
        else:  # pragma: no cover - FilterOp is a closed Literal
            raise ValueError(op)
    return " AND ".join(parts)


# ---------------------------------------------------------------- run aggregates
def run_aggregate_indexes() -> list[str]:
    """Composite range indexes the run aggregates name in their hints: (status, start) for counted
    runs in a window; per dimension (dimension, status) over all time and (dimension, status,
    start) in a window, for filters, a group's latest runs, its causes and "never failed" probes;
    (dimension, start) for a group's runs in a window whatever their status."""
    ddl = ["CREATE INDEX flowrag_run_status_time IF NOT EXISTS FOR (r:Run) ON (r.status, r.started_at)"]
    for dim in (safe_identifier(d) for d in DIMENSIONS if d != "status"):
        ddl += [
            f"CREATE INDEX flowrag_run_status_{dim} IF NOT EXISTS FOR (r:Run) ON (r.status, r.{dim})",
            f"CREATE INDEX flowrag_run_{dim}_status IF NOT EXISTS FOR (r:Run) ON (r.{dim}, r.status)",
            f"CREATE INDEX flowrag_run_{dim}_status_time IF NOT EXISTS "
            f"FOR (r:Run) ON (r.{dim}, r.status, r.started_at)",
            f"CREATE INDEX flowrag_run_{dim}_time IF NOT EXISTS FOR (r:Run) ON (r.{dim}, r.started_at)",
        ]
    return ddl


def _run_hint(query: RunQuery, dim: str | None) -> str:
    """The index a run query must use. Without statistics on property values Neo4j's planner
    prefers a single-property index and filters thousands of runs; the hint names the composite
    index whose leading properties the query pins."""
    window = bool(query.start or query.end)
    if query.statuses and dim:
        return f" USING INDEX r:Run({dim}, status{', started_at' if window else ''})"
    if query.statuses and window:
        return " USING INDEX r:Run(status, started_at)"
    if window:
        return " USING INDEX r:Run(started_at)"
    return ""


def _run_scope(query: RunQuery, *, statuses: bool) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if statuses and query.statuses:
        clauses.append("r.status IN $statuses")
        params["statuses"] = list(query.statuses)
    if query.start:
        clauses.append("r.started_at >= $start")
        params["start"] = query.start
    if query.end:
        clauses.append("r.started_at < $end")
        params["end"] = query.end
    for i, (dim, values) in enumerate(query.where):
        clauses.append(f"r.{safe_identifier(dim)} IN $w{i}")
        params[f"w{i}"] = list(values)
    return clauses, params


def _run_key(query: RunQuery, var: str = "r") -> str:
    if query.group_by == "day":
        return f"substring(toString(datetime({var}.started_at) + duration({{minutes: $offset}})), 0, 10)"
    return f"{var}.{safe_identifier(query.group_by)}"


_RUN_ORDER = {
    "most": "grp.n DESC, grp.g",
    "least": "grp.n ASC, grp.g",
    "last": "grp.last DESC, grp.g",
    "first": "grp.first ASC, grp.g",
    "longest": "grp.longest DESC, grp.g",
}


def _day_bounds(query: RunQuery) -> dict[str, list[str]]:
    from datetime import datetime, timedelta

    shift = timedelta(minutes=query.day_offset_minutes)
    first = (datetime.fromisoformat(str(query.start)) + shift).date()
    last = (datetime.fromisoformat(str(query.end)) + shift).date()
    days = {}
    for i in range((last - first).days + 1):
        key = (first + timedelta(days=i)).isoformat()
        days[key] = list(day_bounds(key, query.day_offset_minutes))
    return days


def run_aggregate_query(query: RunQuery) -> tuple[str, dict[str, Any]]:
    """One query for a :class:`RunQuery`; rows ``grp`` (a map, null when nothing qualifies),
    ``total``, ``group_count`` and ``latest`` (uids of the group's most recent counted runs)."""
    if query.negate:
        return _negated_run_query(query)
    if query.group_by == "day" and query.start and query.end and not query.where and query.order != "longest":
        return _days_run_query(query)
    if (
        query.statuses
        and not query.scoped
        and query.group_by in DIMENSIONS
        and query.group_by != "status"
        and query.order in ("most", "least")
    ):
        return _all_time_run_query(query)
    clauses, params = _run_scope(query, statuses=True)
    params |= {"limit": query.limit, "offset": query.day_offset_minutes}
    filtered = [safe_identifier(d) for d, _ in query.where if d != "status"]
    hint = _run_hint(query, filtered[0] if filtered else None)
    where = f"{hint} WHERE {' AND '.join(clauses)}" if clauses else ""
    group_dim = query.group_by if query.group_by not in ("day", "status") else None
    latest_dim = safe_identifier(group_dim) if group_dim else (filtered[0] if filtered else None)
    latest_hint = _run_hint(query, latest_dim)
    key = _run_key(query)
    if query.group_by == "day" and query.start and query.end:
        # a day's runs by its UTC bounds (an index range), not by recomputing every run's day
        params["days"] = _day_bounds(query)
        match_group = "r.started_at >= $days[grp.g][0] AND r.started_at < $days[grp.g][1]"
    else:
        match_group = f"{key} = grp.g"
    latest_where = " AND ".join([match_group, *clauses])
    params["latest"] = query.latest
    latest = _latest_runs(query, latest_hint, latest_where)
    cypher = f"""
MATCH (r:Run){where}
WITH {key} AS g, r.started_at AS t, r.duration_s AS d
WITH g, count(*) AS n, min(t) AS first, max(t) AS last, avg(d) AS mean, max(d) AS longest
WITH collect(CASE WHEN g IS NULL THEN null
             ELSE {{g: g, n: n, first: first, last: last, mean: mean, longest: longest}} END) AS groups,
     sum(n) AS total
WITH groups, coalesce(total, 0) AS total, size(groups) AS group_count
UNWIND (CASE WHEN group_count = 0 THEN [null] ELSE groups END) AS grp
WITH grp, total, group_count ORDER BY {_RUN_ORDER[query.order]} LIMIT $limit
{latest}
RETURN grp, total, group_count, latest
"""
    return cypher, params


def _latest_runs(query: RunQuery, hint: str, where: str) -> str:
    """Each shown group's most recent counted runs, read through an index in start order."""
    if not query.latest:
        return "WITH grp, total, group_count, [] AS latest"  # counts only: no read per group
    return f"""CALL (grp) {{
  MATCH (r:Run){hint} WHERE grp IS NOT NULL AND {where}
  WITH r ORDER BY r.started_at DESC LIMIT $latest
  RETURN collect(r.uid) AS latest
}}"""


def _days_run_query(query: RunQuery) -> tuple[str, dict[str, Any]]:
    """Counted runs per day of a window, each day one range of the (status, start) index: the
    count, first and last come from index entries, so no run is read (a fortnight of a million
    runs is tens of thousands of them). Durations are left out: an order by duration takes the
    general query."""
    start, end = parse_instant(query.start) or str(query.start), parse_instant(query.end) or str(query.end)
    days = {
        day: [max(lo, start), min(hi, end)]
        for day, (lo, hi) in _day_bounds(query).items()
        if max(lo, start) < min(hi, end)
    }
    counted = "r.status IN $statuses AND " if query.statuses else ""
    hint = " USING INDEX r:Run(status, started_at)" if query.statuses else " USING INDEX r:Run(started_at)"
    in_day = "r.started_at >= $days[grp.g][0] AND r.started_at < $days[grp.g][1]"
    cypher = f"""
UNWIND keys($days) AS g
CALL (g) {{
  MATCH (r:Run){hint}
  WHERE {counted}r.started_at >= $days[g][0] AND r.started_at < $days[g][1]
  RETURN count(r) AS n, min(r.started_at) AS first, max(r.started_at) AS last
}}
WITH g, n, first, last WHERE n > 0
WITH collect({{g: g, n: n, first: first, last: last}}) AS groups, sum(n) AS total
WITH groups, total, size(groups) AS group_count
UNWIND (CASE WHEN group_count = 0 THEN [null] ELSE groups END) AS grp
WITH grp, total, group_count ORDER BY {_RUN_ORDER[query.order]} LIMIT $limit
{_latest_runs(query, hint, counted + in_day)}
RETURN grp, total, group_count, latest
"""
    params = {"days": days, "statuses": list(query.statuses), "limit": query.limit, "latest": query.latest}
    return cypher, params


def _all_time_run_query(query: RunQuery) -> tuple[str, dict[str, Any]]:
    """Counted runs over all time by one dimension, from index entries alone: the (status,
    dimension) index provides the group of every counted run without reading the run, and the
    shown groups' first/last/latest come from their (dimension, status, start) index. A million
    runs would otherwise be a hundred thousand node reads. Durations are left out (orders by
    duration take the general query)."""
    dim = safe_identifier(query.group_by)
    cypher = f"""
MATCH (r:Run) USING INDEX r:Run(status, {dim}) WHERE r.status IN $statuses AND r.{dim} IS NOT NULL
WITH r.{dim} AS g, count(*) AS n
WITH collect({{g: g, n: n}}) AS groups
CALL () {{ MATCH (r:Run) WHERE r.status IN $statuses RETURN count(r) AS total }}
WITH groups, total, size(groups) AS group_count
UNWIND (CASE WHEN group_count = 0 THEN [null] ELSE groups END) AS grp
WITH grp, total, group_count ORDER BY {_RUN_ORDER[query.order]} LIMIT $limit
CALL (grp) {{
  UNWIND (CASE WHEN grp IS NULL THEN [] ELSE $statuses END) AS st
  CALL (grp, st) {{
    MATCH (r:Run) USING INDEX r:Run({dim}, status, started_at)
    WHERE r.{dim} = grp.g AND r.status = st AND r.started_at IS NOT NULL
    WITH r ORDER BY r.started_at ASC LIMIT 1
    RETURN r.started_at AS head
  }}
  RETURN min(head) AS first
}}
CALL (grp) {{
  UNWIND (CASE WHEN grp IS NULL THEN [] ELSE $statuses END) AS st
  CALL (grp, st) {{
    MATCH (r:Run) USING INDEX r:Run({dim}, status, started_at)
    WHERE r.{dim} = grp.g AND r.status = st AND r.started_at IS NOT NULL
    WITH r ORDER BY r.started_at DESC LIMIT $recent
    RETURN r.started_at AS t, r.uid AS uid
  }}
  WITH t, uid ORDER BY t DESC LIMIT $recent
  RETURN collect(uid)[..$latest] AS latest, max(t) AS last
}}
RETURN CASE WHEN grp IS NULL THEN null ELSE grp {{.*, first: first, last: last}} END AS grp,
       total, group_count, latest
"""
    # first and last from the two ends of the group's index range, one status at a time so that
    # the index gives the order (one entry read at each end), not from a min/max over every entry
    # of the group: the busiest flow has tens of thousands of failures
    params = {"statuses": list(query.statuses), "limit": query.limit, "latest": query.latest}
    return cypher, params | {"recent": max(query.latest, 1)}


def _negated_run_query(query: RunQuery) -> tuple[str, dict[str, Any]]:
    dim = safe_identifier(query.group_by)
    order = {"most": "grp.runs DESC, grp.g", "least": "grp.runs ASC, grp.g", "last": "grp.last DESC, grp.g"}
    counted = "r.status IN $statuses" if query.statuses else "true"
    label = DIMENSION_LABELS.get(query.group_by)
    params: dict[str, Any] = {"limit": query.limit, "statuses": list(query.statuses)}
    if label is not None and query.statuses and (query.start or query.end) and not query.where:
        return _negated_window_query(query, label, order.get(query.order, "grp.g")), params | _window(query)
    if query.scoped or label is None:
        clauses, scope_params = _run_scope(query, statuses=False)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return (
            f"""
MATCH (r:Run){where}
WITH r.{dim} AS g, count(*) AS runs, min(r.started_at) AS first, max(r.started_at) AS last,
     sum(CASE WHEN {counted} THEN 1 ELSE 0 END) AS n
WHERE g IS NOT NULL AND n = 0
WITH collect({{g: g, runs: runs, first: first, last: last, n: 0}}) AS groups
WITH groups, size(groups) AS group_count
UNWIND (CASE WHEN group_count = 0 THEN [null] ELSE groups END) AS grp
WITH grp, group_count ORDER BY {order.get(query.order, "grp.g")} LIMIT $limit
RETURN grp, 0 AS total, group_count, [] AS latest
""",
            params | scope_params,
        )
    return (
        f"""
MATCH (x:{safe_identifier(label)})
WHERE EXISTS {{ MATCH (r:Run) WHERE r.{dim} = x.key }}
  AND NOT EXISTS {{ MATCH (r:Run) WHERE r.{dim} = x.key AND {counted} }}
WITH collect({{g: x.key, n: 0}}) AS groups
WITH groups, size(groups) AS group_count
UNWIND (CASE WHEN group_count = 0 THEN [null] ELSE groups END) AS grp
WITH grp, group_count ORDER BY grp.g LIMIT $limit
RETURN grp, 0 AS total, group_count, [] AS latest
""",
        params,
    )


def _window(query: RunQuery) -> dict[str, Any]:
    return {k: v for k, v in (("start", query.start), ("end", query.end)) if v}


def _negated_window_query(query: RunQuery, label: str, order: str) -> str:
    """Groups that ran in the window but had no counted run in it, probed group by group through
    indexes: a counted run in the window is one seek of (dimension, status, start), the group's
    runs in the window one range of (dimension, start). A week of a million runs would otherwise
    be read whole to find the few groups that never failed in it."""
    dim = safe_identifier(query.group_by)
    window = " AND ".join(
        c for c, v in (("r.started_at >= $start", query.start), ("r.started_at < $end", query.end)) if v
    )
    return f"""
MATCH (x:{safe_identifier(label)})
WHERE NOT EXISTS {{
  MATCH (r:Run) USING INDEX r:Run({dim}, status, started_at)
  WHERE r.{dim} = x.key AND r.status IN $statuses AND {window}
}}
CALL (x) {{
  MATCH (r:Run) USING INDEX r:Run({dim}, started_at) WHERE r.{dim} = x.key AND {window}
  RETURN count(r) AS runs, min(r.started_at) AS first, max(r.started_at) AS last
}}
WITH x.key AS g, runs, first, last WHERE runs > 0
WITH collect({{g: g, runs: runs, first: first, last: last, n: 0}}) AS groups
WITH groups, size(groups) AS group_count
UNWIND (CASE WHEN group_count = 0 THEN [null] ELSE groups END) AS grp
WITH grp, group_count ORDER BY {order} LIMIT $limit
RETURN grp, 0 AS total, group_count, [] AS latest
"""

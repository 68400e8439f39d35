"""Cypher used by the Neo4j adapter. Constants, or small builders whose only variable parts are
ontology labels/types and property names that passed ``safe_identifier``. Values are always
``$parameters``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from flowrag.schema import BASE_LABEL, ONTOLOGY, NodeLabel, RelType, safe_identifier

__all__ = [
    "CONSTRAINT_UID",
    "COUNT_LABEL",
    "DELETE_NODES",
    "DELETE_SCOPE",
    "EXISTING_HASHES",
    "EXPORT_EDGES",
    "EXPORT_NODES",
    "FULLTEXT_INDEX",
    "FULLTEXT_QUERY",
    "GET_NODES",
    "INDEX_SCOPE",
    "SCOPE_UIDS",
    "SCOPE_UIDS_LABEL",
    "SET_EMBEDDINGS",
    "SHOW_VECTOR_INDEXES",
    "TERMS_PRESENT",
    "VECTOR_QUERY",
    "delete_relationships_query",
    "forbidden_clause",
    "fulltext_index_ddl",
    "lucene_query",
    "neighbours_query",
    "range_index_ddl",
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

EXISTING_HASHES = f"""
UNWIND $uids AS uid
MATCH (n:{BASE_LABEL} {{uid: uid}})
RETURN n.uid AS uid, n.content_hash AS hash
"""

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

COUNT_LABEL = "MATCH (n:{label}) RETURN count(n) AS c"

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


def vector_index_name(label: NodeLabel) -> str:
    return f"flowrag_vec_{safe_identifier(label.value)}"


def vector_index_ddl(label: NodeLabel) -> str:
    return (
        f"CREATE VECTOR INDEX {vector_index_name(label)} IF NOT EXISTS "
        f"FOR (n:{safe_identifier(label.value)}) ON n.embedding "
        "OPTIONS {indexConfig: {`vector.dimensions`: $dimension, "
        "`vector.similarity_function`: 'cosine'}}"
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

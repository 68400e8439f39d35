"""DDL of the embedded store's SQLite file. Constants only; identifiers that vary (indexed
properties) come from the ontology through ``safe_identifier``."""

from __future__ import annotations

from flowrag.schema import ONTOLOGY, safe_identifier

__all__ = ["SCHEMA_VERSION", "base_ddl", "index_ddl"]

SCHEMA_VERSION = 1

_BASE = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    source_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    props TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS nodes_label ON nodes(label);
CREATE INDEX IF NOT EXISTS nodes_scope ON nodes(source, scope);
CREATE TABLE IF NOT EXISTS edges (
    id INTEGER PRIMARY KEY,
    src INTEGER NOT NULL,
    dst INTEGER NOT NULL,
    type TEXT NOT NULL,
    props TEXT NOT NULL DEFAULT '{}',
    UNIQUE (src, type, dst)
);
CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst, type);
CREATE TABLE IF NOT EXISTS vectors (
    node_id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    vec BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_label ON vectors(label);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    label UNINDEXED,
    name,
    body,
    tokenize = "unicode61 remove_diacritics 2"
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
"""


def base_ddl() -> str:
    return _BASE


def index_ddl() -> list[str]:
    """Expression indexes (label, property) for the ontology's indexed properties, so filters and
    ordering on a million runs stay index lookups."""
    statements = []
    for label, prop in ONTOLOGY.indexed_properties:
        name = f"nodes_{safe_identifier(label.value)}_{safe_identifier(prop)}"
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {name} ON nodes(label, json_extract(props, '$.{prop}'))"
        )
    return statements

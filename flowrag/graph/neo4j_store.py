"""Neo4j adapter of the graph store port (official async driver, Neo4j 5.26+)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from flowrag.errors import (
    EmbeddingDimensionError,
    ReadOnlyQueryError,
    StoreError,
    StoreUnavailableError,
)
from flowrag.graph import neo4j_queries as q
from flowrag.graph.aggregate import RunAggregate, RunGroup, RunQuery
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
    node_matches,
)
from flowrag.schema import ONTOLOGY, NodeLabel, NodeRow, RelRow, RelType, flat_props
from flowrag.timeutil import now_iso

__all__ = ["Neo4jStore"]

log = logging.getLogger(__name__)

_START_HINT = (
    "start one with `docker compose up -d neo4j` (or, without Docker, the test launcher "
    "`scripts/neo4j/run`), check FLOWRAG_STORE__NEO4J_URI, or use the embedded store "
    "(FLOWRAG_STORE__KIND=embedded)"
)


def _stored(node: dict[str, Any], label: str) -> StoredNode:
    props = {k: v for k, v in node.items() if k not in NODE_FIELDS and k != "embedding" and v is not None}
    return StoredNode(
        uid=node["uid"],
        label=label,
        key=node.get("key", ""),
        name=node.get("name", ""),
        text=node.get("text", ""),
        source=node.get("source", ""),
        scope=node.get("scope", ""),
        source_id=node.get("source_id", ""),
        content_hash=node.get("content_hash", ""),
        first_seen=node.get("first_seen", ""),
        last_seen=node.get("last_seen", ""),
        props=props,
    )


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class Neo4jStore:
    """GraphStore adapter for a Neo4j server. Use :meth:`connect`."""

    kind = "neo4j"

    def __init__(self, driver: Any, uri: str, database: str, batch_size: int) -> None:
        self._driver = driver
        self._uri = uri
        self._db = database
        self._batch = batch_size
        self._dimension: int | None = None

    @classmethod
    async def connect(
        cls,
        uri: str,
        user: str = "neo4j",
        password: str = "",
        database: str = "neo4j",
        batch_size: int = 1000,
        timeout_s: float = 10.0,
    ) -> Neo4jStore:
        from neo4j import AsyncGraphDatabase
        from neo4j.exceptions import AuthError, ConfigurationError, Neo4jError, ServiceUnavailable

        try:
            driver = AsyncGraphDatabase.driver(
                uri,
                auth=(user, password),
                connection_timeout=timeout_s,
                max_connection_pool_size=50,
                notifications_min_severity="OFF",
            )
        except (ConfigurationError, ValueError) as exc:
            raise StoreUnavailableError(f"invalid Neo4j URI {uri!r}: {exc}", hint=_START_HINT) from exc
        try:
            await driver.verify_connectivity()
        except AuthError as exc:
            await driver.close()
            raise StoreUnavailableError(
                f"Neo4j at {uri} refused the credentials of user {user!r}",
                hint="set FLOWRAG_STORE__NEO4J_USER / FLOWRAG_STORE__NEO4J_PASSWORD",
            ) from exc
        except (ServiceUnavailable, OSError, Neo4jError) as exc:
            await driver.close()
            raise StoreUnavailableError(
                f"cannot reach Neo4j at {uri}: {exc.__class__.__name__}", hint=_START_HINT
            ) from exc
        return cls(driver, uri, database, batch_size)

    async def close(self) -> None:
        await self._driver.close()

    async def flush(self) -> None:
        """Nothing to do: Neo4j persists on commit."""

    # ------------------------------------------------------------------ plumbing
    async def _write(self, cypher: str, /, **params: Any) -> list[dict[str, Any]]:
        return await self._execute(cypher, params, write=True)

    async def _read(self, cypher: str, /, **params: Any) -> list[dict[str, Any]]:
        return await self._execute(cypher, params, write=False)

    async def _execute(self, query: str, params: dict[str, Any], *, write: bool) -> list[dict[str, Any]]:
        from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

        async def work(tx: Any) -> list[dict[str, Any]]:
            result = await tx.run(query, params)
            return [record.data() async for record in result]

        try:
            async with self._driver.session(database=self._db) as session:
                if write:
                    return list(await session.execute_write(work))
                return list(await session.execute_read(work))
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreUnavailableError(f"lost Neo4j at {self._uri}: {exc}", hint=_START_HINT) from exc
        except Neo4jError as exc:
            raise StoreError(f"Neo4j rejected a query: {exc.code}: {exc.message}") from exc

    async def _auto(self, query: str, /, **params: Any) -> None:
        """Auto-commit transaction (needed for CALL … IN TRANSACTIONS)."""
        from neo4j.exceptions import Neo4jError

        try:
            async with self._driver.session(database=self._db) as session:
                result = await session.run(query, params)
                await result.consume()
        except Neo4jError as exc:
            raise StoreError(f"Neo4j rejected a query: {exc.code}: {exc.message}") from exc

    # ------------------------------------------------------------------ migrations
    async def migrate(self, dimension: int) -> None:
        existing = {r["name"]: r["dimensions"] for r in await self._read(q.SHOW_VECTOR_INDEXES)}
        for label in ONTOLOGY.embedded_labels:
            found = existing.get(q.vector_index_name(label))
            if found is not None and int(found) != dimension:
                raise EmbeddingDimensionError(
                    f"Neo4j vector index {q.vector_index_name(label)} is built for {found}-d "
                    f"embeddings but the configured model produces {dimension}-d",
                    hint=REEMBED_HINT,
                )
        await self._auto(q.CONSTRAINT_UID)
        await self._auto(q.INDEX_SCOPE)
        for label, prop in ONTOLOGY.indexed_properties:
            await self._auto(q.range_index_ddl(label, prop))
        for ddl in q.run_aggregate_indexes():
            await self._auto(ddl)
        for label in ONTOLOGY.embedded_labels:
            await self._auto(q.vector_index_ddl(label), dimension=dimension)
        # a store made by an older ontology has a full-text index over fewer labels: rebuilt
        for found in await self._read(q.SHOW_FULLTEXT_INDEX):
            if (
                frozenset(found["labels"] or ()),
                frozenset(found["properties"] or ()),
            ) != q.fulltext_index_covers():
                log.warning("rebuilding the full-text index %s for the ontology's labels", q.FULLTEXT_INDEX)
                await self._auto(q.drop_index(q.FULLTEXT_INDEX))
        await self._auto(q.fulltext_index_ddl())
        await self._auto(q.await_indexes(300))
        self._dimension = dimension

    async def _index_dimension(self) -> int | None:
        if self._dimension is None:
            found = [r["dimensions"] for r in await self._read(q.SHOW_VECTOR_INDEXES) if r["dimensions"]]
            self._dimension = int(found[0]) if found else None
        return self._dimension

    # ------------------------------------------------------------------ writes
    async def existing_hashes(self, uids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for part in _chunks(list(uids), 5000):
            for rec in await self._read(q.EXISTING_HASHES, uids=list(part)):
                out[rec["uid"]] = rec["hash"]
        return out

    async def upsert_nodes(self, rows: Sequence[NodeRow]) -> UpsertReport:
        if not rows:
            return UpsertReport()
        for row in rows:
            ONTOLOGY.label(row.label)
        latest = {row.uid: row for row in rows}
        hashes = await self.existing_hashes(list(latest))
        now = now_iso()
        by_label: dict[NodeLabel, list[dict[str, Any]]] = defaultdict(list)
        vectors: list[dict[str, Any]] = []
        created = updated = unchanged = 0
        for row in latest.values():
            chash = row.computed_hash()
            old = hashes.get(row.uid)
            if row.embedding is not None:
                vectors.append({"uid": row.uid, "embedding": [float(x) for x in row.embedding]})
            if old == chash:
                unchanged += 1
                continue
            if old is None:
                created += 1
            else:
                updated += 1
            props = flat_props(row.props)
            props.update(
                key=row.key,
                name=row.name,
                text=row.text,
                source=row.source,
                scope=row.scope,
                source_id=row.source_id,
                content_hash=chash,
                last_seen=now,
            )
            by_label[row.label].append({"uid": row.uid, "props": props})
        if vectors:
            # Neo4j stores a vector of the wrong size silently and leaves it out of the index.
            dimension = await self._index_dimension()
            for item in vectors:
                if dimension is not None and len(item["embedding"]) != dimension:
                    raise EmbeddingDimensionError(
                        f"embedding of {item['uid']} has {len(item['embedding'])} dimensions, the "
                        f"Neo4j vector indexes have {dimension}",
                        hint=REEMBED_HINT,
                    )
        for label, label_rows in by_label.items():
            for part in _chunks(label_rows, self._batch):
                await self._write(q.upsert_nodes_query(label), rows=list(part))
        for part in _chunks(vectors, self._batch):
            await self._write(q.SET_EMBEDDINGS, rows=list(part))
        return UpsertReport(created=created, updated=updated, unchanged=unchanged)

    async def upsert_relationships(self, rows: Sequence[RelRow]) -> int:
        by_type: dict[RelType, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            rel = ONTOLOGY.rel_type(row.type)
            by_type[rel].append({"start": row.start_uid, "end": row.end_uid, "props": flat_props(row.props)})
        created = 0
        for rel, rel_rows in by_type.items():
            for part in _chunks(rel_rows, self._batch):
                result = await self._write(q.upsert_relationships_query(rel), rows=list(part))
                created += int(result[0]["created"] or 0) if result else 0
        return created

    async def scope_count(self, source: str, scope: str) -> int:
        records = await self._read(q.SCOPE_COUNT, source=source, scope=scope)
        return int(records[0]["c"]) if records else 0

    async def scope_uids(self, source: str, scope: str, label: str | None = None) -> set[str]:
        if label is None:
            records = await self._read(q.SCOPE_UIDS, source=source, scope=scope)
        else:
            lbl = ONTOLOGY.label(label).label.value
            records = await self._read(q.SCOPE_UIDS_LABEL, source=source, scope=scope, label=lbl)
        return {r["uid"] for r in records}

    async def delete_nodes(self, uids: Sequence[str]) -> int:
        deleted = 0
        for part in _chunks(list(uids), self._batch):
            result = await self._write(q.DELETE_NODES, uids=list(part))
            deleted += int(result[0]["deleted"]) if result else 0
        return deleted

    async def delete_scope(self, source: str, scope: str) -> int:
        count = len(await self.scope_uids(source, scope))
        await self._auto(q.DELETE_SCOPE, source=source, scope=scope)
        return count

    async def delete_relationships(self, start_uids: Sequence[str], types: Sequence[str]) -> int:
        kinds = tuple(sorted({ONTOLOGY.rel_type(t) for t in types}, key=lambda r: r.value))
        if not kinds or not start_uids:
            return 0
        result = await self._write(q.delete_relationships_query(kinds), uids=list(start_uids))
        return int(result[0]["deleted"]) if result else 0

    # ------------------------------------------------------------------ reads
    async def vector_search(
        self, embedding: Sequence[float], labels: Sequence[str], k: int, filters: Sequence[Filter] = ()
    ) -> list[ScoredNode]:
        specs = [s for s in ONTOLOGY.labels_named(list(labels)) if s.embedded]
        fetch = k * 4 if filters else k
        hits: list[ScoredNode] = []
        vector = [float(x) for x in embedding]
        if not specs:
            return []
        indexes = [{"index": q.vector_index_name(s.label), "label": s.label.value} for s in specs]
        # checked against the indexes' own dimension before the query (Neo4j reports a mismatch
        # only as a generic procedure failure, whose message is no contract)
        dimension = await self._index_dimension()
        if dimension is not None and len(vector) != dimension:
            raise EmbeddingDimensionError(
                f"query embedding has {len(vector)} dimensions, the Neo4j vector indexes "
                f"({', '.join(i['index'] for i in indexes)}) have {dimension}",
                hint="query with the model the store was built with",
            )
        records = await self._read(q.VECTOR_QUERY, indexes=indexes, k=fetch, embedding=vector)
        # Neo4j's cosine score is (1 + cos) / 2; report plain cosine like the embedded store.
        hits.extend(ScoredNode(_stored(r["node"], r["label"]), 2 * r["score"] - 1) for r in records)
        hits = [h for h in hits if node_matches(h.node, filters)]
        hits.sort(key=lambda h: -h.score)
        return hits[:k]

    async def fulltext_search(
        self, text: str, labels: Sequence[str], k: int, filters: Sequence[Filter] = ()
    ) -> list[ScoredNode]:
        specs = [s for s in ONTOLOGY.labels_named(list(labels)) if s.fulltext]
        query = q.lucene_query(text)
        if not query or not specs:
            return []
        records = await self._read(
            q.FULLTEXT_QUERY,
            query=query,
            fetch=k * 4 if filters else k * 2,
            labels=[s.label.value for s in specs],
        )
        hits = [ScoredNode(_stored(r["node"], r["label"]), float(r["score"])) for r in records]
        return [h for h in hits if node_matches(h.node, filters)][:k]

    async def terms_present(self, terms: Sequence[Sequence[str]]) -> list[bool]:
        queries = [{"i": i, "query": q.lucene_query(" ".join(term))} for i, term in enumerate(terms)]
        asked = [item for item in queries if item["query"]]
        present = [False] * len(terms)
        if asked:
            for record in await self._read(q.TERMS_PRESENT, queries=asked):
                present[int(record["i"])] = int(record["hits"]) > 0
        return present

    async def neighbours(
        self, uids: Sequence[str], rel_types: Sequence[str] = (), cap_per_node: int = 25
    ) -> Neighbourhood:
        kinds = tuple(
            sorted({ONTOLOGY.rel_type(t) for t in rel_types} or set(RelType), key=lambda r: r.value)
        )
        if not uids:
            return Neighbourhood((), ())
        records = await self._read(
            q.neighbours_query(kinds), uids=list(dict.fromkeys(uids)), cap=cap_per_node
        )
        nodes: dict[str, StoredNode] = {}
        edges: dict[tuple[str, str, str], StoredEdge] = {}
        for r in records:
            seed = _stored(r["seed"], r["seed_label"])
            other = _stored(r["node"], r["label"])
            nodes[seed.uid] = seed
            nodes[other.uid] = other
            edges[(r["type"], r["start"], r["end"])] = StoredEdge(
                r["type"], r["start"], r["end"], r["props"] or {}
            )
        return Neighbourhood(tuple(nodes.values()), tuple(edges.values()))

    async def get_nodes(self, uids: Sequence[str]) -> list[StoredNode]:
        if not uids:
            return []
        records = await self._read(q.GET_NODES, uids=list(uids))
        return [_stored(r["node"], r["label"]) for r in records]

    @staticmethod
    def _params(filters: Sequence[Filter]) -> dict[str, Any]:
        return {f"f{i}": list(f.value) if f.op == "in" else f.value for i, f in enumerate(filters)}

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
        query = q.find_nodes_query(spec.label, [(f.prop, f.op) for f in filters], order_by, descending)
        records = await self._read(query, offset=offset, limit=limit, **self._params(filters))
        lbl = ONTOLOGY.label(label).label.value
        return [_stored(r["node"], lbl) for r in records]

    async def count_nodes(self, label: str, filters: Sequence[Filter] = ()) -> int:
        spec = ONTOLOGY.label(label)
        query = q.count_nodes_query(spec.label, [(f.prop, f.op) for f in filters])
        records = await self._read(query, **self._params(filters))
        return int(records[0]["c"])

    async def aggregate_runs(self, query: RunQuery) -> RunAggregate:
        cypher, params = q.run_aggregate_query(query)
        records = await self._read(cypher, **params)
        groups = tuple(
            RunGroup(
                str(g["g"]),
                int(g.get("n") or 0),
                g.get("first"),
                g.get("last"),
                g.get("mean"),
                g.get("longest"),
                tuple(r["latest"]),
                g.get("runs"),
            )
            for r in records
            if (g := r["grp"]) is not None
        )
        total = int(records[0]["total"]) if records else 0
        return RunAggregate(total, int(records[0]["group_count"]) if records else 0, groups)

    async def cypher(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Read-only Cypher for users (CLI, Browser links). A READ session refuses writes; file
        access (``LOAD CSV``), administration (``dbms.*``) and plugin procedures (``apoc.*``) are
        refused before the query is sent, since a read session would run some of them."""
        forbidden = q.forbidden_clause(query)
        if forbidden:
            raise ReadOnlyQueryError(
                f"this entry point does not run {forbidden}",
                hint="it runs read-only graph queries (MATCH … RETURN); use Neo4j's own tools for the rest",
            )
        try:
            return await self._read(query, **(params or {}))
        except StoreError as exc:
            text = str(exc)
            if "AccessMode" in text or "read access mode" in text.lower() or "Forbidden" in text:
                raise ReadOnlyQueryError(
                    "this entry point only runs read-only Cypher; the query tried to write",
                    hint="writes go through `flowrag ingest …`",
                ) from exc
            raise

    async def check(self, dimension: int) -> list[HealthCheck]:
        found = [HealthCheck("neo4j", "ok", f"reachable at {self._uri}, database {self._db or 'default'}")]
        if not (await self._read(q.SHOW_UID_CONSTRAINT))[0]["found"]:
            found.append(HealthCheck("uid constraint", "fail", "flowrag_uid is missing", "flowrag migrate"))
        indexes = {r["name"]: r for r in await self._read(q.SHOW_FLOWRAG_INDEXES)}
        counts = {r["label"]: r for r in await self._read(q.embedded_counts_query())}
        for label in ONTOLOGY.embedded_labels:
            name = q.vector_index_name(label)
            nodes, vectors = int(counts[label.value]["nodes"]), int(counts[label.value]["vectors"])
            index = indexes.get(name)
            if index is None:
                if nodes:
                    found.append(HealthCheck(name, "fail", "vector index missing", "flowrag migrate"))
                continue
            if index["state"] != "ONLINE":
                found.append(
                    HealthCheck(
                        name,
                        "fail" if index["state"] == "FAILED" else "warn",
                        f"{index['state']} ({index['population']:.0f}% populated)",
                        "flowrag repair",
                    )
                )
            elif index["dimensions"] and int(index["dimensions"]) != dimension:
                found.append(
                    HealthCheck(
                        name,
                        "fail",
                        f"built for {index['dimensions']}-d, the configured model makes {dimension}-d",
                        REEMBED_HINT,
                    )
                )
            elif vectors < nodes:
                found.append(
                    HealthCheck(
                        name,
                        "warn",
                        f"{nodes - vectors} of {nodes} nodes have no vector",
                        "ingest the source again (unchanged nodes cost nothing)",
                    )
                )
            elif nodes:
                found.append(HealthCheck(name, "ok", f"ONLINE, {vectors} vectors"))
        text = indexes.get(q.FULLTEXT_INDEX)
        if text is None or text["state"] != "ONLINE":
            found.append(
                HealthCheck(
                    q.FULLTEXT_INDEX,
                    "fail",
                    "full-text index " + ("missing" if text is None else text["state"]),
                    "flowrag migrate" if text is None else "flowrag repair",
                )
            )
        return found

    async def rebuild_vector_indexes(self) -> dict[str, int]:
        """Drop and create the vector indexes: Neo4j populates them again from the nodes."""
        dimension = await self._index_dimension()
        if dimension is None:
            return {}
        for label in ONTOLOGY.embedded_labels:
            await self._auto(q.drop_index(q.vector_index_name(label)))
            await self._auto(q.vector_index_ddl(label), dimension=dimension)
        await self._auto(q.await_indexes(3600))
        counts = await self._read(q.embedded_counts_query())
        return {r["label"]: int(r["vectors"]) for r in counts if r["vectors"]}

    async def stats(self) -> StoreStats:
        counts = await self._read(q.stats_query())
        nodes = {r["name"]: int(r["c"]) for r in counts if r["kind"] == "node" and r["c"]}
        rels = {r["name"]: int(r["c"]) for r in counts if r["kind"] == "relationship" and r["c"]}
        return StoreStats(nodes=nodes, relationships=rels)

    async def export_batch(
        self, after_uid: str, limit: int
    ) -> tuple[list[tuple[StoredNode, list[float] | None]], list[StoredEdge]]:
        records = await self._read(q.EXPORT_NODES, after=after_uid, limit=limit)
        nodes = [
            (_stored(r["node"], r["label"]), list(r["embedding"]) if r["embedding"] else None)
            for r in records
        ]
        edges = [
            StoredEdge(e["type"], e["start"], e["end"], e["props"] or {})
            for e in await self._read(q.EXPORT_EDGES, uids=[n.uid for n, _ in nodes])
        ]
        return nodes, edges

    async def wipe(self) -> None:
        """Delete every flowrag node and relationship; constraints and indexes stay."""
        await self._auto(q.WIPE)

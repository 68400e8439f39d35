"""Monitoring ingestion: MongoDB collections (pymongo) or a JSON dump, into the graph.

Incremental by default: a ``Checkpoint`` node per collection keeps the last ``_id`` written, so an
interrupted run resumes there and a later run reads only newer documents. ``full=True`` reads every
document (changed ones are detected by content hash) and removes the nodes of documents that no
longer exist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowrag.errors import SourceError
from flowrag.extract.bson_convert import to_jsonable
from flowrag.extract.embeddings import Embedder
from flowrag.extract.monitoring import SOURCE, FieldMapping, detect_mapping, extract_document
from flowrag.extract.vocabulary import Vocabulary
from flowrag.graph.port import GraphStore
from flowrag.ingest.links import link_all
from flowrag.ingest.writer import IngestReport, Writer
from flowrag.schema import NodeLabel, NodeRow, make_uid

__all__ = ["MongoOptions", "ingest_documents", "ingest_json_dump", "ingest_mongo"]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]  # (collection, done, total)
MAX_DOC_BYTES = 2_000_000


@dataclass(frozen=True)
class MongoOptions:
    uri: str
    database: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    limit: int | None = None
    full: bool = False
    batch_size: int = 1000
    filters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # collection -> query
    mappings: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)  # overrides
    timeout_ms: int = 5000


def _checkpoint_key(database: str, collection: str) -> str:
    return f"mongo:{database}.{collection}"


async def _read_checkpoint(store: GraphStore, key: str) -> dict[str, Any]:
    found = await store.get_nodes([make_uid(NodeLabel.CHECKPOINT, key)])
    return dict(found[0].props) if found else {}


async def _write_checkpoint(store: GraphStore, key: str, scope: str, props: dict[str, Any]) -> None:
    await store.upsert_nodes(
        [NodeRow(NodeLabel.CHECKPOINT, key, "system", scope, key, name=key, props=props)]
    )


def _encode_id(value: Any) -> str:
    kind = type(value).__name__
    if kind == "ObjectId":
        return f"oid:{value}"
    return "json:" + json.dumps(value, default=str)


def _decode_id(text: str) -> Any:
    if text.startswith("oid:"):
        from bson import ObjectId

        return ObjectId(text[4:])
    return json.loads(text[5:])


async def ingest_documents(
    store: GraphStore,
    embedder: Embedder,
    vocabulary: Vocabulary,
    collection: str,
    documents: Iterable[Mapping[str, Any]],
    report: IngestReport,
    *,
    mapping: FieldMapping | None = None,
    override: Mapping[str, str | None] | None = None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    total: int | None = None,
    on_batch: Callable[[Mapping[str, Any]], Any] | None = None,
    seen: set[str] | None = None,
) -> FieldMapping:
    """Extract and write documents of one collection in batches. Returns the mapping used."""
    writer = Writer(store, embedder)
    coll_node = NodeRow(
        NodeLabel.COLLECTION,
        collection,
        SOURCE,
        collection,
        collection,
        name=collection,
        text=f"MongoDB collection {collection}",
    )
    await writer.write([coll_node], [], report)
    batch: list[Mapping[str, Any]] = []
    done = 0

    async def flush(docs: list[Mapping[str, Any]]) -> None:
        nonlocal mapping, done
        if mapping is None:
            mapping = detect_mapping(docs[:200]).merged(override or {})
            log.info("collection %s mapping: %s", collection, mapping)
        nodes: list[NodeRow] = []
        rels = []
        for doc in docs:
            try:
                extracted = extract_document(doc, collection, mapping, vocabulary)
            except Exception as exc:
                report.skipped["extraction error"] += 1
                report.errors.append(f"{collection}/{doc.get('_id')}: {exc.__class__.__name__}: {exc}")
                continue
            nodes.extend(extracted.nodes)
            rels.extend(extracted.rels)
            if seen is not None:
                seen.update(n.uid for n in extracted.nodes if n.scope == collection)
        await writer.write(nodes, rels, report)
        done += len(docs)
        if on_batch is not None:
            await on_batch(docs[-1])
        if progress is not None:
            progress(collection, done, total)

    for raw in documents:
        report.read += 1
        doc = to_jsonable(raw)
        if not isinstance(doc, dict):
            report.skipped["not a document"] += 1
            continue
        if len(json.dumps(doc, default=str)) > MAX_DOC_BYTES:
            report.skipped[f"larger than {MAX_DOC_BYTES // 1_000_000} MB"] += 1
            log.warning(
                "skipped %s/%s: document larger than %d bytes", collection, doc.get("_id"), MAX_DOC_BYTES
            )
            continue
        batch.append(doc)
        if len(batch) >= batch_size:
            await flush(batch)
            batch = []
    if batch:
        await flush(batch)
    return mapping or FieldMapping()


async def ingest_json_dump(
    store: GraphStore,
    embedder: Embedder,
    vocabulary: Vocabulary,
    path: Path,
    progress: Progress | None = None,
) -> list[IngestReport]:
    """A JSON file ``{"collection": [documents…]}`` (e.g. a mongoexport reshaped), full sync."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"cannot read monitoring dump {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise SourceError(f"{path} must be a JSON object mapping collection names to lists of documents")
    reports = []
    for collection, docs in data.items():
        report = IngestReport(SOURCE, collection)
        seen: set[str] = set()
        await ingest_documents(
            store,
            embedder,
            vocabulary,
            collection,
            docs,
            report,
            progress=progress,
            total=len(docs),
            seen=seen,
        )
        await _delete_unseen(store, collection, seen, report)
        reports.append(report.finish())
    await link_all(store)
    return reports


async def _delete_unseen(store: GraphStore, collection: str, seen: set[str], report: IngestReport) -> None:
    existing = await store.scope_uids(SOURCE, collection)
    existing.discard(make_uid(NodeLabel.COLLECTION, collection))
    stale = sorted(existing - seen)
    if stale:
        report.deleted += await store.delete_nodes(stale)


def _connect(options: MongoOptions) -> Any:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    try:
        client: Any = MongoClient(options.uri, serverSelectionTimeoutMS=options.timeout_ms, tz_aware=True)
        client.admin.command("ping")
    except PyMongoError as exc:
        raise SourceError(
            f"cannot reach MongoDB at {options.uri}: {exc.__class__.__name__}",
            hint="check --uri (mongodb://host:27017), credentials and network access",
        ) from exc
    return client


def _collections(db: Any, options: MongoOptions) -> list[str]:
    names = sorted(n for n in db.list_collection_names() if not n.startswith("system."))
    if options.include:
        missing = [n for n in options.include if n not in names]
        if missing:
            raise SourceError(
                f"collections not found in {options.database}: {', '.join(missing)}",
                hint=f"available: {', '.join(names) or '(none)'}",
            )
        names = [n for n in names if n in options.include]
    return [n for n in names if n not in options.exclude]


def _cursor(coll: Any, query: Mapping[str, Any], batch_size: int, limit: int | None) -> Iterator[Any]:
    cursor = coll.find(dict(query)).sort("_id", 1).batch_size(batch_size)
    if limit:
        cursor = cursor.limit(limit)
    yield from cursor


async def ingest_mongo(
    store: GraphStore,
    embedder: Embedder,
    vocabulary: Vocabulary,
    options: MongoOptions,
    progress: Progress | None = None,
) -> list[IngestReport]:
    client = _connect(options)
    try:
        db = client[options.database]
        reports = []
        for name in _collections(db, options):
            reports.append(
                await _ingest_collection(store, embedder, vocabulary, db[name], name, options, progress)
            )
        await link_all(store)
        return reports
    finally:
        client.close()


async def _ingest_collection(
    store: GraphStore,
    embedder: Embedder,
    vocabulary: Vocabulary,
    coll: Any,
    name: str,
    options: MongoOptions,
    progress: Progress | None,
) -> IngestReport:
    report = IngestReport(SOURCE, name)
    key = _checkpoint_key(options.database, name)
    checkpoint = await _read_checkpoint(store, key)
    query: dict[str, Any] = dict(options.filters.get(name, {}))
    if not options.full and checkpoint.get("last_id"):
        query = (
            {"$and": [query, {"_id": {"$gt": _decode_id(str(checkpoint["last_id"]))}}]}
            if query
            else {"_id": {"$gt": _decode_id(str(checkpoint["last_id"]))}}
        )
    total = coll.count_documents(query) if progress else None
    if options.limit and total is not None:
        total = min(total, options.limit)
    seen: set[str] | None = set() if options.full else None
    raw_last: list[Any] = []

    async def on_batch(last_doc: Mapping[str, Any]) -> None:
        last = raw_last[-1] if raw_last else last_doc.get("_id")
        await _write_checkpoint(store, key, name, {"last_id": _encode_id(last), "database": options.database})

    def documents() -> Iterator[Any]:
        for doc in _cursor(coll, query, options.batch_size, options.limit):
            raw_last.append(doc.get("_id"))
            if len(raw_last) > 1:
                del raw_last[0]
            yield doc

    await ingest_documents(
        store,
        embedder,
        vocabulary,
        name,
        documents(),
        report,
        override=options.mappings.get(name),
        batch_size=options.batch_size,
        progress=progress,
        total=total,
        on_batch=on_batch,
        seen=seen,
    )
    if seen is not None and not options.limit and name not in options.filters:
        await _delete_unseen(store, name, seen, report)
    return report.finish()

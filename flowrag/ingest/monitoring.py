"""Monitoring ingestion: MongoDB collections (pymongo) or a JSON dump, into the graph.

Incremental by default: a ``Checkpoint`` node per collection keeps the last ``_id`` written (and the
field mapping used), so an interrupted run resumes there and a later run reads only newer documents.
``full=True`` reads every document and removes the nodes of documents that no longer exist.

Each ``Record`` carries a hash of its raw document (with the mapping, the vocabulary and the
extractor version), so a full re-run skips extraction for documents that did not change. A skip
trusts that the Record's whole batch (nodes *and* relationships) was written, so the checkpoint
also keeps the ``_id`` ranges of batches that were being written when a run died ("dirty"): those,
and everything past ``last_id``, are extracted again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flowrag import cancel
from flowrag.errors import ConfigError, SourceError
from flowrag.extract.bson_convert import to_jsonable
from flowrag.extract.delphix import name_key
from flowrag.extract.mapping import CONCEPTS, infer_mapping
from flowrag.extract.monitoring import (
    SOURCE,
    FieldMapping,
    extract_document,
    mention_rows,
    values_text,
    with_conventions,
)
from flowrag.extract.secrets import redact
from flowrag.graph.port import Filter, GraphStore
from flowrag.ingest.dumps import read_dump
from flowrag.ingest.lexicon import refresh_lexicon
from flowrag.ingest.links import DELPHIX_NAMED, distinctive, link_all
from flowrag.ingest.writer import IngestReport, Progress, Writer, delete_stale, stale_uids
from flowrag.models.embeddings import Embedder
from flowrag.models.nlp import NLP
from flowrag.models.vocabulary import Vocabulary, normalise_name
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, content_hash, make_uid
from flowrag.settings import MongoSettings

__all__ = [
    "CollectionCheckpoint",
    "MongoOptions",
    "check_overrides",
    "delete_unseen",
    "ingest_documents",
    "ingest_json_dump",
    "ingest_mongo",
    "parse_overrides",
]

log = logging.getLogger(__name__)

MAX_DOC_BYTES = 2_000_000
# bump when extract_document's output changes for the same input: every record is re-extracted once
EXTRACTOR_VERSION = "7"  # 7: status values classified by evidence, naive times in the team zone


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
    warning_codes: frozenset[int] = frozenset()  # return codes that mean WARNING
    timezone: str = "UTC"  # the zone of timestamps written without an offset
    status_values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # collection -> raw -> class

    @classmethod
    def from_settings(
        cls,
        uri: str,
        database: str,
        settings: MongoSettings,
        *,
        mappings: Mapping[str, Mapping[str, str | None]] | None = None,
        filters: Mapping[str, Mapping[str, Any]] | None = None,
        timezone: str = "UTC",
        **given: Any,
    ) -> MongoOptions:
        """The options of one ingestion from FLOWRAG_MONGO__* (batch size, warning codes, the
        per-collection mappings and filters), with what the caller gives on top: the CLI's
        ``--map`` / ``--filter`` add to the configured ones, collection by collection. The CLI, the
        GraphQL mutation and the report's scheduled ingestion all build their options here."""
        merged_maps: dict[str, dict[str, str | None]] = {k: dict(v) for k, v in settings.mappings.items()}
        for collection, override in (mappings or {}).items():
            merged_maps.setdefault(collection, {}).update(override)
        merged_filters = {k: dict(v) for k, v in settings.filters.items()} | dict(filters or {})
        return cls(
            uri,
            database,
            batch_size=settings.batch_size,
            filters=merged_filters,
            mappings=merged_maps,
            warning_codes=frozenset(settings.warning_codes),
            timezone=timezone,
            status_values=settings.status_values,
            **given,
        )


def _checkpoint_key(database: str, collection: str) -> str:
    return f"mongo:{database}.{collection}"


async def _read_checkpoint(store: GraphStore, key: str) -> dict[str, Any]:
    found = await store.get_nodes([make_uid(NodeLabel.CHECKPOINT, key)])
    return dict(found[0].props) if found else {}


async def _write_checkpoint(store: GraphStore, key: str, scope: str, props: dict[str, Any]) -> None:
    await store.upsert_nodes(
        [NodeRow(NodeLabel.CHECKPOINT, key, "system", scope, key, name=key, props=props)]
    )


def parse_overrides(items: Iterable[str]) -> dict[str, dict[str, str | None]]:
    """``collection.concept=field`` (``field`` empty = ignore the concept) -> per-collection mapping.

    Raises ConfigError naming the bad item: unknown concept, missing ``=`` or collection.
    """
    out: dict[str, dict[str, str | None]] = {}
    concepts = sorted(FieldMapping.__dataclass_fields__)
    for item in items:
        target, sep, value = item.partition("=")
        collection, dot, concept = target.strip().rpartition(".")
        if not sep or not dot or not collection:
            raise ConfigError(
                f"bad mapping override {item!r}",
                hint="write collection.concept=field, e.g. runs.pipeline=job.name",
            )
        if concept not in concepts:
            raise ConfigError(
                f"unknown concept {concept!r} in {item!r}", hint=f"one of: {', '.join(concepts)}"
            )
        out.setdefault(collection, {})[concept] = value.strip() or None
    return out


def check_overrides(mappings: Mapping[str, Mapping[str, str | None]]) -> None:
    concepts = set(FieldMapping.__dataclass_fields__)
    for collection, override in mappings.items():
        unknown = sorted(set(override) - concepts)
        if unknown:
            raise ConfigError(
                f"unknown mapping concept(s) {', '.join(unknown)} for collection {collection}",
                hint=f"one of: {', '.join(sorted(concepts))}",
            )


def _stored_mapping(checkpoint: Mapping[str, Any]) -> FieldMapping | None:
    text = checkpoint.get("mapping")
    if not text:
        return None
    try:
        values = json.loads(str(text))
        fields = {k: values.get(k) for k in FieldMapping.__dataclass_fields__}
        fields["status_values"] = tuple((str(v), str(c)) for v, c in fields.get("status_values") or ())
        return FieldMapping(**fields)
    except (json.JSONDecodeError, TypeError, AttributeError):
        log.warning("ignoring an unreadable field mapping stored in a checkpoint")
        return None


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
    seen: set[str] | None = None,
    guard: BatchGuard | None = None,
    nlp: NLP | None = None,
    warning_codes: frozenset[int] = frozenset(),
    timezone: str = "UTC",
    status_values: Mapping[str, str] | None = None,
) -> FieldMapping:
    """Extract and write documents of one collection in batches. Returns the mapping used.

    Timestamps written without an offset are read in ``timezone``. ``status_values`` (raw value ->
    status class) are set by the user on top of what the sample's evidence says.

    With ``nlp``, documents that are not runs (incidents, alerts, tickets) get named-entity
    recognition, written as ``MENTIONS`` edges to the pipelines, hosts, technologies and Delphix
    kinds they name.

    With a ``guard`` (the Mongo checkpoint), documents it trusts whose raw content hash equals
    their stored ``Record`` hash are counted unchanged without being extracted, and the guard
    hears about each batch before and after it is written.
    """
    writer = Writer(store, embedder)
    zone = ZoneInfo(timezone)
    set_by_user = {str(k): str(v).upper() for k, v in (status_values or {}).items()}
    coll_node = NodeRow(
        NodeLabel.COLLECTION,
        collection,
        SOURCE,
        collection,
        collection,
        name=collection,
        text=f"MongoDB collection {collection}",
    )
    collection_written = False  # written with the first batch, carrying the mapping it was read by
    done = 0
    salt = ""
    salt_key = b""

    pending: asyncio.Future[None] | None = None
    estate = _Estate(store)
    unparsed: list[Any] = [0, ""]  # timestamps kept raw (count, first example)
    created: dict[str, str] = {}  # pipelines and hosts new to the store: uid -> key
    checked: set[str] = set()  # pipelines and hosts already looked up in this ingest

    async def flush(docs: list[_Doc]) -> None:
        nonlocal mapping, salt, salt_key, pending, collection_written
        if mapping is not None and set_by_user and not salt:
            # a mapping kept from an earlier run takes the readings set since (the salt changes
            # with them, so the runs they concern are extracted again)
            mapping = mapping.with_values({**dict(mapping.status_values), **set_by_user}, mapping.day_first)
            for value, status in sorted(set_by_user.items()):
                report.mapping[f"status {value}"] = f"{status} (set)"
        if mapping is None:
            sample = [d.doc for d in docs[:200]]
            inference = infer_mapping(sample)
            mapping = FieldMapping.of(inference.fields).merged(override or {})
            mapping, found = with_conventions(mapping, sample, set_by_user)
            log.info("collection %s mapping: %s", collection, mapping)
            for value, status in sorted(found.status_values.items()):
                if value not in set_by_user:
                    report.mapping[f"status {value}"] = f"{status} ({found.evidence[value]})"
            for value, status in sorted(set_by_user.items()):
                report.mapping[f"status {value}"] = f"{status} (set)"
            if unread := [v for v in found.unclassified if v not in set_by_user]:
                report.errors.append(
                    f"status values {', '.join(unread)} of {mapping.status} read as no status class; "
                    f"they are kept raw (set them with FLOWRAG_MONGO__STATUS_VALUES="
                    f'\'{{"{collection}": {{"{unread[0]}": "FAILED"}}}}\' and ingest again with --full)'
                )
            if found.day_first is not None:
                report.mapping["dates"] = "day first" if found.day_first else "month first"
            for concept in CONCEPTS:
                chosen = getattr(mapping, concept)
                if chosen:
                    given = override and concept in override
                    note = "set" if given else f"{inference.confidence.get(concept, 0):.2f}"
                    report.mapping[concept] = f"{chosen} ({note})"
            for concept, candidates in inference.ambiguous.items():
                if not (override and concept in override):
                    report.errors.append(
                        f"{concept}: several fields could hold it ({' | '.join(candidates)}); "
                        f"{candidates[0]} was used (override with --map {collection}.{concept}=FIELD)"
                    )
        if not salt:
            if guard is not None:
                guard.mapping = mapping
            salt = content_hash(
                EXTRACTOR_VERSION,
                vocabulary.fingerprint,
                repr(mapping),
                nlp is not None,
                sorted(warning_codes),
                timezone,
            )
            salt_key = salt.encode("ascii")[:64]
        for d in docs:
            d.hash = hashlib.blake2b(
                d.blob.encode("utf-8", "replace"), digest_size=16, key=salt_key
            ).hexdigest()
        trusted = [d.record_uid for d in docs if d.trusted]
        stored = await store.existing_hashes(trusted) if trusted else {}
        nodes: list[NodeRow] = []
        if not collection_written:  # the web page's Sources view shows which field holds what
            used = {k: v for k, v in asdict(mapping).items() if v}
            nodes.append(replace(coll_node, props={"mapping": json.dumps(used, sort_keys=True)}))
            collection_written = True
        rels = []
        repair: list[str] = []
        free_text: list[tuple[str, str]] = []
        run_text: list[tuple[str, str]] = []
        for d in docs:
            if d.trusted and stored.get(d.record_uid) == d.hash:
                report.unchanged += 1
                if seen is not None:
                    seen.update((d.record_uid, make_uid(NodeLabel.RUN, d.ref)))
                continue
            try:
                extracted = extract_document(d.doc, collection, mapping, vocabulary, warning_codes, zone)
            except Exception as exc:
                report.skipped["extraction error"] += 1
                report.errors.append(f"{d.ref}: {exc.__class__.__name__}: {exc}")
                continue
            for node in extracted.nodes:
                nodes.append(replace(node, hash=d.hash) if node.uid == d.record_uid else node)
            for node in extracted.nodes:
                if node.label is NodeLabel.RUN:
                    for raw in ("started_at_raw", "ended_at_raw"):
                        if raw in node.props:
                            unparsed[0] += 1
                            unparsed[1] = unparsed[1] or f"{d.ref}: {node.props[raw]!r}"
            if len(extracted.nodes) == 1:  # a record and no run: free text worth reading
                free_text.append((d.record_uid, extracted.prose or extracted.nodes[0].text))
            else:
                run_text.append(
                    (d.record_uid, next(n.text for n in extracted.nodes if n.uid == d.record_uid))
                )
            rels.extend(extracted.rels)
            if d.dirty:
                repair.extend(n.uid for n in extracted.nodes if n.scope == collection)
            if seen is not None:
                seen.update(n.uid for n in extracted.nodes if n.scope == collection)
        if nlp is not None and free_text:
            more_nodes, more_rels = await _mentions(store, nlp, free_text)
            nodes += more_nodes
            rels += more_rels
        # a run's field or a ticket's prose naming a live VDB, dSource or environment
        if (run_text or free_text) and await estate.present():
            rels += await _live_mentions(store, [*run_text, *free_text])
        named = {
            n.uid: n.key
            for n in nodes
            if n.label in (NodeLabel.PIPELINE, NodeLabel.HOST) and n.uid not in checked
        }
        if named:  # the flows and hosts this ingest brings into the store (each looked up once)
            present = {n.uid for n in await store.get_nodes(list(named))}
            created.update((uid, key) for uid, key in named.items() if uid not in present)
            checked.update(named)
        # the previous batch was being written (in the store's thread) while this one was
        # extracted; batches still commit strictly one after the other
        await drain()
        pending = asyncio.ensure_future(
            commit(nodes, rels, repair, (docs[0].raw_id, docs[-1].raw_id), len(docs))
        )

    async def commit(
        nodes: list[NodeRow], rels: list[RelRow], repair: list[str], span: tuple[Any, Any], count: int
    ) -> None:
        nonlocal done
        if guard is not None and nodes:
            await guard.before(*span)
        await writer.write(nodes, rels, report, repair=repair)
        done += count
        if guard is not None:
            await guard.after(*span)
        if progress is not None:
            progress(collection, done, total)

    async def drain() -> None:
        nonlocal pending
        if pending is not None:
            task, pending = pending, None
            await task

    try:
        await _feed(documents, collection, report, guard, batch_size, flush)
        await drain()
        if not collection_written:  # an empty collection is still a source the store knows
            await writer.write([coll_node], [], report)
        if created:
            late = await _mentioned_before(store, created)
            # the records are unchanged: their new edges are written as a repair of them
            await writer.write([], late, report, repair={r.start_uid for r in late})
        if unparsed[0]:
            report.errors.append(
                f"{unparsed[0]} timestamp(s) could not be parsed and are kept as text in "
                f"started_at_raw / ended_at_raw (first: {unparsed[1]}); such runs are outside every "
                "time window"
            )
    finally:
        if pending is not None:  # stopped by an error: let the batch being written finish
            with contextlib.suppress(Exception):
                await pending
    return mapping or FieldMapping()


_WORD = re.compile(r"[\w][\w.-]{2,}[\w]", re.UNICODE)


async def _mentions(
    store: GraphStore, nlp: NLP, free_text: list[tuple[str, str]]
) -> tuple[list[NodeRow], list[RelRow]]:
    """MENTIONS from free-text records: the entities NER finds (technologies, host-like names,
    Delphix kinds), and every word that is the name of a pipeline or host the store already holds
    (one lookup per batch), so "le flux client a planté" links to the flow ``client``. Live
    Delphix objects are matched for every record by :func:`_live_mentions`."""
    found = await asyncio.to_thread(nlp.entities_many, [t for _, t in free_text])
    nodes: list[NodeRow] = []
    rels: list[RelRow] = []
    words = [{w.lower().strip(".-") for w in _WORD.findall(text)} for _, text in free_text]
    candidates = {
        make_uid(label, key)
        for ws in words
        for w in ws
        for label, key in ((NodeLabel.PIPELINE, normalise_name(w)), (NodeLabel.HOST, w))
    }
    known: set[str] = set()
    ordered = sorted(candidates)
    for start in range(0, len(ordered), 5000):
        known.update(n.uid for n in await store.get_nodes(ordered[start : start + 5000]))
    for (uid, _), entities, ws in zip(free_text, found, words, strict=True):
        more_nodes, more_rels = mention_rows(uid, entities)
        named = {r.end_uid for r in more_rels}
        for w in ws:
            for other in (make_uid(NodeLabel.PIPELINE, normalise_name(w)), make_uid(NodeLabel.HOST, w)):
                if other in known and other not in named:
                    named.add(other)
                    more_rels.append(RelRow(RelType.MENTIONS, uid, other))
        nodes += more_nodes
        rels += more_rels
    return nodes, rels


class _Estate:
    """Whether the store holds a live Delphix estate (asked once per ingest)."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._present: bool | None = None

    async def present(self) -> bool:
        if self._present is None:
            self._present = any([await self._store.count_nodes(label.value) > 0 for label in DELPHIX_NAMED])
        return self._present


async def _live_mentions(store: GraphStore, texts: list[tuple[str, str]]) -> list[RelRow]:
    """MENTIONS from records to the live objects their values name as a word."""
    words = [{w.lower().strip(".-") for w in _WORD.findall(values_text(text))} for _, text in texts]
    live = await _live_names(store, {w for ws in words for w in ws})
    rels: list[RelRow] = []
    for (uid, _), ws in zip(texts, words, strict=True):
        found = {u for w in ws for u in live.get(name_key(w), ())}
        rels += [RelRow(RelType.MENTIONS, uid, other) for other in sorted(found)]
    return rels


async def _live_names(store: GraphStore, words: set[str]) -> dict[str, set[str]]:
    """Which of ``words`` name a live Delphix object: name key -> uids (distinctive names only)."""
    keys = sorted({k for w in words if distinctive(k := name_key(w))})
    live: dict[str, set[str]] = {}
    for label in DELPHIX_NAMED:
        for start in range(0, len(keys), 5000):
            flt = [Filter("name_key", "in", keys[start : start + 5000])]
            for node in await store.find_nodes(label.value, flt, limit=10_000):
                live.setdefault(str(node.props.get("name_key")), set()).add(node.uid)
    return live


async def _mentioned_before(store: GraphStore, created: Mapping[str, str]) -> list[RelRow]:
    """MENTIONS to flows and hosts that arrived after the free text naming them: incidents
    ingested before their runs name a flow the store did not hold yet. The free-text records
    (marked at extraction; tickets and alerts, not runs) are read in pages and each new name is
    kept where it is a word of the text, exactly as :func:`_mentions` matches known names."""
    by_word = {(uid.startswith(f"{NodeLabel.PIPELINE.value}:"), key): uid for uid, key in created.items()}

    def named(words: set[str]) -> set[str]:
        found = set()
        for w in words:
            for key in ((True, normalise_name(w)), (False, w)):
                if key in by_word:
                    found.add(by_word[key])
        return found

    return await scan_free_text(store, named)


async def scan_free_text(store: GraphStore, named: Callable[[set[str]], set[str]]) -> list[RelRow]:
    """``MENTIONS`` from every free-text record to the uids ``named`` finds among its words."""
    rels: list[RelRow] = []
    offset = 0
    while True:
        cancel.checkpoint()
        page = await store.find_nodes(
            NodeLabel.RECORD.value, [Filter("free_text", "=", True)], limit=_PAGE, offset=offset
        )
        for record in page:
            words = {w.lower().strip(".-") for w in _WORD.findall(values_text(record.text or ""))}
            rels += [RelRow(RelType.MENTIONS, record.uid, uid) for uid in sorted(named(words))]
        offset += len(page)
        if len(page) < _PAGE:
            return rels


_PAGE = 5000


async def _feed(
    documents: Iterable[Mapping[str, Any]],
    collection: str,
    report: IngestReport,
    guard: BatchGuard | None,
    batch_size: int,
    flush: Callable[[list[_Doc]], Awaitable[None]],
) -> None:
    """Size-check, hash and batch the raw documents (conversion waits until a document is
    known to need extraction: an unchanged re-run never converts)."""
    batch: list[_Doc] = []
    for raw in documents:
        report.read += 1
        serialised = _serialise(raw)
        if serialised is None:
            report.skipped["not a document"] += 1
            continue
        doc, blob = serialised
        if len(blob) > MAX_DOC_BYTES:
            report.skipped[f"larger than {MAX_DOC_BYTES // 1_000_000} MB"] += 1
            log.warning(
                "skipped %s/%s: document larger than %d bytes", collection, raw.get("_id"), MAX_DOC_BYTES
            )
            continue
        raw_id = raw.get("_id") if isinstance(raw, Mapping) else None
        item = _Doc(raw, doc, blob, collection, raw_id)
        if guard is not None:
            item.dirty = guard.dirty(raw_id)
            item.trusted = not item.dirty and guard.trusted(raw_id)
        batch.append(item)
        if len(batch) >= batch_size:
            await flush(batch)
            batch = []
    if batch:
        await flush(batch)


def _serialise(raw: Any) -> tuple[dict[str, Any] | None, str] | None:
    """(the converted document, or None when not converted yet; canonical JSON for the hash),
    or None when ``raw`` is not a document."""
    if type(raw) is dict:
        try:  # plain JSON types in C; datetimes, ObjectIds… through str()
            return None, json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):  # mixed key types, very deep nesting
            pass
    doc = to_jsonable(raw)
    if not isinstance(doc, dict):
        return None
    return doc, json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)


class _Doc:
    """A document on its way through a batch: raw, hashed, converted when needed."""

    __slots__ = ("_doc", "blob", "dirty", "hash", "raw", "raw_id", "record_uid", "ref", "trusted")

    def __init__(
        self, raw: Mapping[str, Any], doc: dict[str, Any] | None, blob: str, collection: str, raw_id: Any
    ) -> None:
        self.raw = raw
        self._doc = doc
        self.raw_id = raw_id
        self.dirty = False  # in a batch that a killed run was writing: relationships are rewritten
        self.blob = blob
        self.ref = f"{collection}/{to_jsonable(raw_id) if raw_id is not None else ''}"
        self.record_uid = make_uid(NodeLabel.RECORD, self.ref)
        self.trusted = False  # written by a finished batch: may be skipped when its hash matches
        self.hash = ""

    @property
    def doc(self) -> dict[str, Any]:
        if self._doc is None:
            converted = to_jsonable(self.raw)
            self._doc = converted if isinstance(converted, dict) else {}
        return self._doc


def _le(a: Any, b: Any) -> bool | None:
    """``a <= b`` for two ``_id`` values of the same type; None when they do not compare."""
    if a is None or b is None or type(a) is not type(b):
        return None
    try:
        return bool(a <= b)
    except TypeError:
        return None


class BatchGuard(Protocol):
    mapping: FieldMapping | None

    def trusted(self, raw_id: Any) -> bool: ...

    def dirty(self, raw_id: Any) -> bool: ...

    async def before(self, first: Any, last: Any) -> None: ...

    async def after(self, first: Any, last: Any) -> None: ...


class CollectionCheckpoint:
    """The ``Checkpoint`` node of one collection: resume point, mapping, dirty batch ranges.

    ``last_id`` only moves forward (a full pass re-reads from the start but keeps the furthest
    position reached); ``dirty`` holds the ranges of batches started and not finished.
    """

    def __init__(self, store: GraphStore, key: str, scope: str, database: str, props: Mapping[str, Any]):
        self._store, self._key, self._scope, self._database = store, key, scope, database
        self.last_id = _decode_id(str(props["last_id"])) if props.get("last_id") else None
        self.dirty_ranges: list[tuple[Any, Any]] = [
            (_decode_id(a), _decode_id(b)) for a, b in json.loads(str(props.get("dirty") or "[]"))
        ]
        self.mapping: FieldMapping | None = _stored_mapping(props)

    def trusted(self, raw_id: Any) -> bool:
        """Written by a finished batch (at or before ``last_id``, in no dirty range)."""
        return bool(_le(raw_id, self.last_id)) and not self.dirty(raw_id)

    def dirty(self, raw_id: Any) -> bool:
        """Inside the range of a batch that was being written when a run stopped (or incomparable)."""
        return any(
            _le(lo, raw_id) is not False and _le(raw_id, hi) is not False for lo, hi in self.dirty_ranges
        )

    async def before(self, first: Any, last: Any) -> None:
        await self._save(extra=[(first, last)])

    async def after(self, first: Any, last: Any) -> None:
        # a finished batch re-extracted every untrusted document of its range
        self.dirty_ranges = [
            (lo, hi) for lo, hi in self.dirty_ranges if not (_le(first, lo) and _le(hi, last))
        ]
        if self.last_id is None or _le(self.last_id, last):
            self.last_id = last
        await self._save()

    async def finished_full_pass(self) -> None:
        self.dirty_ranges = []
        await self._save()

    async def _save(self, extra: Sequence[tuple[Any, Any]] = ()) -> None:
        props: dict[str, Any] = {"database": self._database}
        if self.last_id is not None:
            props["last_id"] = _encode_id(self.last_id)
        dirty = [*self.dirty_ranges, *extra]
        props["dirty"] = json.dumps([[_encode_id(lo), _encode_id(hi)] for lo, hi in dirty])
        if self.mapping is not None:
            props["mapping"] = json.dumps(asdict(self.mapping), sort_keys=True)
        await _write_checkpoint(self._store, self._key, self._scope, props)


async def ingest_json_dump(
    store: GraphStore,
    embedder: Embedder,
    vocabulary: Vocabulary,
    path: Path,
    progress: Progress | None = None,
    nlp: NLP | None = None,
    warning_codes: frozenset[int] = frozenset(),
    timezone: str = "UTC",
    status_values: Mapping[str, Mapping[str, str]] | None = None,
) -> list[IngestReport]:
    """A dump file or folder (see :mod:`flowrag.ingest.dumps`), full sync per collection."""
    data = await asyncio.to_thread(read_dump, path)
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
            nlp=nlp,
            warning_codes=warning_codes,
            timezone=timezone,
            status_values=(status_values or {}).get(collection),
        )
        await delete_unseen(store, collection, seen, report)
        reports.append(report.finish())
    await link_all(store)
    await refresh_lexicon(store, embedder)
    return reports


async def delete_unseen(store: GraphStore, collection: str, seen: set[str], report: IngestReport) -> None:
    """Remove the nodes of documents a full pass no longer read. Every uid in ``seen`` was just
    written or found unchanged in this scope, so when the scope holds no more nodes than that
    (besides its Collection node) nothing vanished, and its uids — two per document, millions on
    a big collection — are not read back."""
    collection_uid = make_uid(NodeLabel.COLLECTION, collection)
    held = await store.scope_count(SOURCE, collection)
    if held - len(await store.existing_hashes([collection_uid])) <= len(seen):
        return
    existing = await store.scope_uids(SOURCE, collection)
    existing.discard(make_uid(NodeLabel.COLLECTION, collection))
    await delete_stale(store, stale_uids(existing, seen), report)


def _connect(options: MongoOptions) -> Any:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    try:
        client: Any = MongoClient(options.uri, serverSelectionTimeoutMS=options.timeout_ms, tz_aware=True)
        client.admin.command("ping")
    except PyMongoError as exc:
        raise SourceError(
            f"cannot reach MongoDB at {redact(options.uri)}: {exc.__class__.__name__}",
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
    nlp: NLP | None = None,
) -> list[IngestReport]:
    check_overrides(options.mappings)
    client = _connect(options)
    try:
        db = client[options.database]
        reports = []
        for name in _collections(db, options):
            reports.append(
                await _ingest_collection(store, embedder, vocabulary, db[name], name, options, progress, nlp)
            )
        await link_all(store)
        await refresh_lexicon(store, embedder)
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
    nlp: NLP | None = None,
) -> IngestReport:
    report = IngestReport(SOURCE, name)
    key = _checkpoint_key(options.database, name)
    checkpoint = CollectionCheckpoint(store, key, name, options.database, await _read_checkpoint(store, key))
    query: dict[str, Any] = dict(options.filters.get(name, {}))
    if not options.full and checkpoint.last_id is not None:
        after = {"_id": {"$gt": checkpoint.last_id}}
        query = {"$and": [query, after]} if query else after
    total = coll.count_documents(query) if progress else None
    if options.limit and total is not None:
        total = min(total, options.limit)
    seen: set[str] | None = set() if options.full else None
    # the mapping detected on the first run is kept, so later runs (which may only see a few new
    # documents) extract the same way; an override given now still wins
    override = options.mappings.get(name)
    mapping = checkpoint.mapping.merged(override) if checkpoint.mapping and override else checkpoint.mapping
    await ingest_documents(
        store,
        embedder,
        vocabulary,
        name,
        _cursor(coll, query, options.batch_size, options.limit),
        report,
        mapping=mapping,
        override=override,
        batch_size=options.batch_size,
        progress=progress,
        total=total,
        seen=seen,
        guard=checkpoint,
        nlp=nlp,
        warning_codes=options.warning_codes,
        timezone=options.timezone,
        status_values=options.status_values.get(name),
    )
    if seen is not None and not options.limit and name not in options.filters:
        await checkpoint.finished_full_pass()
        await delete_unseen(store, name, seen, report)
    return report.finish()

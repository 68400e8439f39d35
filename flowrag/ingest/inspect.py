"""Preview what an ingestion would build from monitoring collections, without writing anything:
for each collection, the field inferred for each concept with its confidence, the ambiguous
concepts, and how many sampled documents would become runs (the rest stay plain records)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowrag.extract.bson_convert import to_jsonable
from flowrag.extract.mapping import CONCEPTS, infer_mapping
from flowrag.extract.monitoring import FieldMapping, flatten, with_conventions
from flowrag.ingest.dumps import read_dump

__all__ = ["CollectionPreview", "inspect_documents", "inspect_dump", "inspect_mongo"]


@dataclass(frozen=True)
class CollectionPreview:
    collection: str
    sampled: int
    fields: dict[str, str | None]
    confidence: dict[str, float]
    ambiguous: dict[str, tuple[str, ...]]
    runs: int  # sampled documents that would become runs
    statuses: dict[str, int] = field(default_factory=dict)  # status class -> sampled runs
    # status values classified by their runs' evidence: raw value -> "CLASS (why)"
    status_values: dict[str, str] = field(default_factory=dict)
    unclassified: tuple[str, ...] = ()  # status values nothing classifies
    day_first: bool | None = None  # numeric dates' order, when the values tell

    def as_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "sampled": self.sampled,
            "mapping": {c: f for c, f in self.fields.items() if f},
            "confidence": self.confidence,
            "ambiguous": {c: list(v) for c, v in self.ambiguous.items()},
            "runs": self.runs,
            "records_only": self.sampled - self.runs,
            "statuses": self.statuses,
            "status_values": self.status_values,
            "unclassified_status_values": list(self.unclassified),
            "dates": None if self.day_first is None else "day first" if self.day_first else "month first",
        }


def inspect_documents(
    collection: str, docs: Sequence[Mapping[str, Any]], override: Mapping[str, str | None] | None = None
) -> CollectionPreview:
    converted = [d for d in (to_jsonable(doc) for doc in docs) if isinstance(d, dict)]
    inference = infer_mapping(converted)
    mapping = FieldMapping.of(inference.fields).merged(override or {})
    mapping, found = with_conventions(mapping, converted)
    fields = {c: getattr(mapping, c) for c in CONCEPTS}
    runs = 0
    statuses: dict[str, int] = {}
    if mapping.is_run:
        for doc in converted:
            flat = flatten(doc)
            if (
                flat.get(mapping.pipeline or "") not in (None, "")
                and flat.get(mapping.status or "") is not None
            ):
                runs += 1
                status = mapping.status_of(flat[mapping.status or ""])
                statuses[status] = statuses.get(status, 0) + 1
    return CollectionPreview(
        collection,
        len(converted),
        fields,
        inference.confidence,
        inference.ambiguous,
        runs,
        statuses,
        {v: f"{c} ({found.evidence[v]})" for v, c in sorted(found.status_values.items())},
        found.unclassified,
        found.day_first,
    )


async def inspect_mongo(
    uri: str,
    database: str,
    sample: int = 200,
    include: Sequence[str] = (),
    overrides: Mapping[str, Mapping[str, str | None]] | None = None,
) -> list[CollectionPreview]:
    from flowrag.ingest.monitoring import MongoOptions, _collections, _connect

    options = MongoOptions(uri, database, tuple(include))

    def run() -> list[CollectionPreview]:
        client = _connect(options)
        try:
            db = client[database]
            out = []
            for name in _collections(db, options):
                docs = list(db[name].find({}).sort("_id", 1).limit(sample))
                out.append(inspect_documents(name, docs, (overrides or {}).get(name)))
            return out
        finally:
            client.close()

    return await asyncio.to_thread(run)


async def inspect_dump(path: Path, sample: int = 200) -> list[CollectionPreview]:
    data = await asyncio.to_thread(read_dump, path)
    return [inspect_documents(name, docs[:sample]) for name, docs in data.items()]

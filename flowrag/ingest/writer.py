"""The writer: content-hash diff, embed only new/changed texts, batched upserts, a typed report."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from flowrag.cancel import checkpoint
from flowrag.errors import IngestError
from flowrag.extract.secrets import redact_row
from flowrag.graph.port import GraphStore
from flowrag.models.embeddings import Embedder
from flowrag.schema import ONTOLOGY, NodeRow, RelRow

__all__ = ["IngestReport", "Writer", "embed_rows"]

log = logging.getLogger(__name__)

#: What every ingester reports as it goes: (scope — a collection, a repository, a listing —, items
#: done, total when known). The CLI draws it as bars, the API streams it as ``jobProgress``.
Progress = Callable[[str, int, int | None], None]


@dataclass
class IngestReport:
    source: str
    scope: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    relationships: int = 0
    embedded: int = 0  # texts that went through the model (cache misses)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    errors: list[str] = field(default_factory=list)  # item-level problems, reported not raised
    # Mongo: the field each concept was read from, with confidence ("job.name (0.70)"), and the
    # concepts whose candidates were close ("pipeline: job.name | job.label")
    mapping: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.deleted + self.relationships

    def finish(self) -> IngestReport:
        self.seconds = time.perf_counter() - self.started
        return self

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "scope": self.scope,
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "relationships": self.relationships,
            "embedded": self.embedded,
            "skipped": dict(self.skipped),
            "errors": list(self.errors),
            "mapping": dict(self.mapping),
            "seconds": round(self.seconds, 3),
        }


def stale_uids(
    existing: set[str],
    seen: set[str],
    *,
    shrink_limit: float | None = None,
    allow_shrink: bool = False,
    subject: str = "",
    hint: str = "",
) -> list[str]:
    """What a full read of a scope no longer saw: the nodes to remove once the new ones are
    written. With ``shrink_limit`` a read that would remove more than that share of the scope is
    refused before anything is written (a truncated spec, an estate listed by the wrong key):
    ``subject`` says what would shrink ("spec 'dct'"), ``hint`` how to go ahead anyway."""
    stale = sorted(existing - seen)
    if (
        shrink_limit is not None
        and existing
        and len(stale) > shrink_limit * len(existing)
        and not allow_shrink
    ):
        raise IngestError(
            f"this read would remove {len(stale)} of the {len(existing)} nodes of {subject}; nothing was written",
            hint=hint or "if the source really shrank, run again with --allow-shrink",
        )
    return stale


async def delete_stale(store: GraphStore, stale: Sequence[str], report: IngestReport) -> None:
    """Remove the nodes a full read no longer saw (their relationships and vectors go with them)."""
    if stale:
        report.deleted += await store.delete_nodes(list(stale))


class Writer:
    """Writes extracted rows; unchanged nodes cost one hash lookup and nothing else."""

    def __init__(self, store: GraphStore, embedder: Embedder, batch_size: int = 2000) -> None:
        self._store = store
        self._embedder = embedder
        self._batch = batch_size

    async def write(
        self,
        nodes: Sequence[NodeRow],
        rels: Iterable[RelRow],
        report: IngestReport,
        *,
        repair: Iterable[str] = (),
    ) -> set[str]:
        """Upsert ``nodes`` and the relationships touching a changed node; returns changed uids.

        Relationships touching a ``repair`` uid are written even when its node is unchanged: the
        caller knows an earlier write may have stopped between the nodes and their relationships.
        """
        checkpoint()
        latest: dict[str, NodeRow] = {}
        for node in nodes:  # the one redaction layer every source goes through before storage
            latest[node.uid] = redact_row(node)
        existing = await self._store.existing_hashes(list(latest))
        changed: list[NodeRow] = []
        for uid, node in latest.items():
            if existing.get(uid) == node.computed_hash():
                report.unchanged += 1
            else:
                changed.append(node)
        changed = await self._embed(changed, report)
        for start in range(0, len(changed), self._batch):
            checkpoint()
            result = await self._store.upsert_nodes(changed[start : start + self._batch])
            report.created += result.created
            report.updated += result.updated
        touched = {n.uid for n in changed}
        linked = touched | set(repair)
        fresh = [r for r in rels if r.start_uid in linked or r.end_uid in linked]
        for start in range(0, len(fresh), self._batch):
            report.relationships += await self._store.upsert_relationships(fresh[start : start + self._batch])
        return touched

    async def _embed(self, nodes: list[NodeRow], report: IngestReport) -> list[NodeRow]:
        out, embedded = await embed_rows(self._embedder, nodes)
        report.embedded += embedded
        return out


async def embed_rows(embedder: Embedder, nodes: Sequence[NodeRow]) -> tuple[list[NodeRow], int]:
    """``nodes`` with an embedding for each embeddable one that has none, and how many texts the
    model encoded (distinct texts not in its cache)."""
    todo = [
        i for i, n in enumerate(nodes) if n.embed and n.embedding is None and ONTOLOGY.label(n.label).embedded
    ]
    if not todo:
        return list(nodes), 0
    texts = [(nodes[i].embed_text or nodes[i].text or nodes[i].name)[:8000] for i in todo]
    misses_before = getattr(embedder, "misses", 0)
    # the model runs in a worker thread so a server's event loop keeps answering meanwhile
    vectors = await asyncio.to_thread(embedder.embed_passages, texts)
    embedded = getattr(embedder, "misses", misses_before + len(set(texts))) - misses_before
    out = list(nodes)
    for i, vec in zip(todo, vectors, strict=True):
        out[i] = replace(nodes[i], embedding=tuple(vec.tolist()))
    return out, embedded

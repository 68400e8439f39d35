"""The corpus vocabulary as ``Term`` nodes, one embedding per word (see
``flowrag.answer.retrieval.lexicon`` for how questions use it). Refreshed after every ingestion;
only new words are embedded, vanished ones are removed."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from flowrag.graph.port import GraphStore, StoredNode, all_nodes
from flowrag.ingest.writer import IngestReport, Writer
from flowrag.models.embeddings import Embedder
from flowrag.models.vocabulary import identifier_words
from flowrag.schema import NodeLabel, NodeRow

__all__ = ["LEXICON_SCOPE", "corpus_words", "refresh_lexicon"]

log = logging.getLogger(__name__)

LEXICON_SCOPE = "lexicon"
_SOURCE = "system"
# Labels whose names carry the corpus vocabulary (record and run texts are values, not words)
_NAMED_LABELS = (
    "Endpoint",
    "Schema",
    "Tag",
    "Function",
    "Class",
    "Route",
    "HttpCall",
    "DocChunk",
    "DocSection",
    "Pipeline",
    "Error",
    "Technology",
)
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def _node_words(node: StoredNode) -> Iterable[str]:
    parts = [node.name, str(node.props.get("operation_id", "")), str(node.props.get("summary", ""))]
    fields = node.props.get("properties")  # a schema's field names: email, bio, snapshot_id
    if isinstance(fields, list):
        parts += [str(f) for f in fields]
    for part in parts:
        for word in _WORD.findall(identifier_words(part)):
            yield word.lower()


def corpus_words(nodes: Iterable[StoredNode], limit: int = 20000) -> list[str]:
    """Distinct words of the nodes' names, identifiers, summaries and schema field names, most
    frequent first."""
    counts: dict[str, int] = {}
    for node in nodes:
        for word in _node_words(node):
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    return ranked[:limit]


async def refresh_lexicon(store: GraphStore, embedder: Embedder) -> int:
    """Bring the Term nodes in line with the corpus vocabulary; returns the words written."""
    nodes: list[StoredNode] = []
    for label in _NAMED_LABELS:
        nodes += await all_nodes(store, label)
    words = corpus_words(nodes)
    rows = [
        NodeRow(NodeLabel.TERM, w, _SOURCE, LEXICON_SCOPE, w, name=w, text=w, embed_text=w) for w in words
    ]
    report = IngestReport(_SOURCE, LEXICON_SCOPE)
    await Writer(store, embedder).write(rows, (), report)
    wanted = {row.uid for row in rows}
    stale = (await store.scope_uids(_SOURCE, LEXICON_SCOPE, NodeLabel.TERM.value)) - wanted
    if stale:
        await store.delete_nodes(sorted(stale))
    log.debug(
        "lexicon: %d words, %d written, %d removed", len(rows), report.created + report.updated, len(stale)
    )
    return report.created + report.updated

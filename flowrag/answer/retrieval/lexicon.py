"""A cross-lingual bridge learned from the corpus: question words -> the corpus words they mean.

At ingestion, ``flowrag.ingest.lexicon.refresh_lexicon`` collects the corpus vocabulary — the words of names and
identifiers (``uploadImage`` -> upload, image; ``refresh_by_snapshot`` -> refresh, snapshot) — and
stores each word once as a ``Term`` node with its own embedding (incremental: only new words are
embedded, vanished ones are removed).

At question time a word the corpus does not contain ("photo", "identifiants", "supprimer") is
embedded as a query and compared with the Term vectors. Raw cosine nearest neighbours suffer from
hubness (a few corpus words are close to everything), so candidates are ranked by CSLS
(Conneau et al., 2018): ``cos(q, w) - r(w) / 2`` where ``r(w)`` is the mean similarity of ``w`` to
its nearest generic question words (the words of the relevance probes). The best few become extra
full-text terms. Nothing here is a list of translations: the bridge is whatever this corpus holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flowrag.graph.port import GraphStore
from flowrag.models.embeddings import Embedder
from flowrag.schema import NodeLabel

HUB_NEIGHBOURS = 5

__all__ = ["Bridge", "BridgedWord"]


@dataclass(frozen=True)
class BridgedWord:
    word: str  # the question's word
    term: str  # a corpus word
    score: float  # CSLS score


class Bridge:
    """Question word -> corpus words, ranked by CSLS against generic question words."""

    def __init__(self, store: GraphStore, embedder: Embedder, generic_words: Sequence[str]) -> None:
        self._store = store
        self._embedder = embedder
        self._generic_words = list(dict.fromkeys(generic_words))
        self._generic: NDArray[np.float32] | None = None

    def _generic_matrix(self) -> NDArray[np.float32]:
        if self._generic is None:
            self._generic = np.asarray(self._embedder.embed_queries(self._generic_words), dtype=np.float32)
        return self._generic

    async def bridge(self, words: Sequence[str], per_word: int, candidates: int = 8) -> list[BridgedWord]:
        """For each word, its ``per_word`` best corpus words (none when the store has no Terms)."""
        if not words:
            return []
        vectors = await asyncio.to_thread(self._embedder.embed_queries, list(words))
        hits = await asyncio.gather(
            *(self._store.vector_search(v.tolist(), [NodeLabel.TERM.value], candidates) for v in vectors)
        )
        terms = sorted({h.node.name for found in hits for h in found})
        if not terms:
            return []
        generic = await asyncio.to_thread(self._generic_matrix)
        term_vectors = await asyncio.to_thread(self._embedder.embed_passages, terms)  # cached at ingestion
        sims = np.asarray(term_vectors, dtype=np.float32) @ generic.T
        k = min(HUB_NEIGHBOURS, sims.shape[1])
        hub = dict(zip(terms, np.sort(sims, axis=1)[:, -k:].mean(axis=1).tolist(), strict=True))
        out: list[BridgedWord] = []
        for word, found in zip(words, hits, strict=True):
            ranked = sorted(
                (BridgedWord(word, h.node.name, h.score - hub[h.node.name] / 2) for h in found),
                key=lambda b: -b.score,
            )
            out += [b for b in ranked if b.term != word][:per_word]
        return out

"""Composition root shared by the CLI and the API: settings -> store, embedder, NLP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowrag.graph import GraphStore, open_store
from flowrag.models.embeddings import CachedEmbedder, make_embedder
from flowrag.models.nlp import NLP
from flowrag.models.vocabulary import Vocabulary, load_vocabulary
from flowrag.settings import Settings

if TYPE_CHECKING:
    from flowrag.answer.service import Answerer

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings
    store: GraphStore
    embedder: CachedEmbedder
    nlp: NLP
    vocabulary: Vocabulary
    _answerer: Answerer | None = field(default=None, repr=False)

    @property
    def answerer(self) -> Answerer:
        """The one answer path of this process (built on first use, shared by every caller)."""
        if self._answerer is None:
            from flowrag.answer.service import Answerer

            self._answerer = Answerer(
                self.store, self.embedder, self.nlp, self.settings.llm, timezone=self.settings.timezone
            )
        return self._answerer

    def store_changed(self) -> None:
        """An ingestion wrote to the store: measured backgrounds are stale."""
        if self._answerer is not None:
            self._answerer.invalidate()

    @classmethod
    async def open(cls, settings: Settings) -> Runtime:
        from flowrag import tracing

        tracing.configure(settings.otel)  # before the store: a missing extra fails first
        store = await open_store(settings)
        inner = make_embedder(settings.embedding, settings.models_dir)
        embedder = CachedEmbedder(inner, settings.data_dir / "cache" / "embeddings.sqlite3")
        return cls(
            settings,
            store,
            embedder,
            NLP(settings.nlp.vocabulary_file),
            load_vocabulary(settings.nlp.vocabulary_file),
        )

    def warm_up(self) -> None:
        """Load what a first question needs (both languages' pipelines, the embedding model), so
        that an interactive session answers its first question as fast as the next ones."""
        for lang in ("fr", "en"):
            self.nlp.entities("warm-up", lang)
            self.nlp.lemmas("warm-up", lang)
        self.embedder.embed_queries(["warm-up"])

    async def close(self) -> None:
        from flowrag import tracing

        self.embedder.close()
        await self.store.close()
        tracing.shutdown()  # what is buffered is exported before the process ends

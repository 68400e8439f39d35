"""Per-label HNSW vector indexes (usearch) persisted beside the SQLite file.

SQLite's ``vectors`` table is the source of truth; the ``.usearch`` files are a derived cache.
Each index file has a sidecar recording the store generation it was saved at: when it differs from
the generation in SQLite (the process was killed before saving), the index is rebuilt from the
table, so nothing is lost; so is an index file that cannot be read (truncated, corrupt). Read-only commands memory-map the files (``view``), which keeps the cold
start of a CLI command on a million vectors at milliseconds instead of a full load.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["VectorIndexes"]

log = logging.getLogger(__name__)

# HNSW parameters. Insertion is the cost that bounds bulk loads (measured on 2 cores, 384-d:
# f16 ~3.3k vectors/s, i8 ~5.2k/s at expansion_add 64, same self-recall 0.99), so vectors are
# int8-quantised (1M x 384 = 384 MB) and added in large deferred batches (see EmbeddedStore).
_CONNECTIVITY = 16
_EXPANSION_ADD = 64
_EXPANSION_SEARCH = 128
_DTYPE = "i8"


def _usearch() -> None:
    """Import usearch, ONNX Runtime first: loading ONNX Runtime's extension after usearch's
    segfaults the process (usearch 2.26 / onnxruntime 1.23–1.32, Linux x86_64), and the embedding
    model may be needed after the store has been read. Imported once; 0.1 s."""
    with contextlib.suppress(ImportError):  # an install without it uses another engine
        import onnxruntime  # noqa: F401  (the order is the point)
    import usearch.index  # noqa: F401


def _new_index(dimension: int) -> object:
    _usearch()
    from usearch.index import Index

    return Index(
        ndim=dimension,
        metric="cos",
        dtype=_DTYPE,
        connectivity=_CONNECTIVITY,
        expansion_add=_EXPANSION_ADD,
        expansion_search=_EXPANSION_SEARCH,
    )


class _LabelIndex:
    def __init__(self, path: Path, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self.index: object | None = None
        self.mutable = False
        self.dirty = False

    @property
    def gen_path(self) -> Path:
        return self.path.with_suffix(".gen")

    def saved_generation(self) -> int | None:
        try:
            return int(self.gen_path.read_text().strip())
        except (OSError, ValueError):
            return None


class VectorIndexes:
    """Lazily opened usearch indexes, one per embedded label."""

    def __init__(
        self,
        directory: Path,
        dimension: int,
        generation: Callable[[str], int],
        rows: Callable[[str], Iterable[tuple[NDArray[np.uint64], NDArray[np.float32]]]],
    ) -> None:
        self._dir = directory
        self._dimension = dimension
        self._generation = generation
        self._rows = rows
        self._labels: dict[str, _LabelIndex] = {}

    def _entry(self, label: str) -> _LabelIndex:
        entry = self._labels.get(label)
        if entry is None:
            entry = _LabelIndex(self._dir / f"{label}.usearch", self._dimension)
            self._labels[label] = entry
        return entry

    def _open(self, label: str, *, mutable: bool) -> object:
        entry = self._entry(label)
        if entry.index is not None and (entry.mutable or not mutable):
            return entry.index
        fresh = entry.saved_generation() == self._generation(label)
        index = None
        if entry.path.exists() and fresh:
            index = self._read(entry, mutable)
        if index is None:
            index = self._rebuild(label)
            entry.dirty = True
            mutable = True
        entry.index = index
        entry.mutable = mutable
        return index

    def _read(self, entry: _LabelIndex, mutable: bool) -> object | None:
        """The saved index, or None (rebuilt by the caller) when the file cannot be read."""
        _usearch()
        from usearch.index import Index

        try:
            if mutable:
                index = _new_index(self._dimension)
                index.load(str(entry.path))  # type: ignore[attr-defined]
                return index
            return Index.restore(str(entry.path), view=True) or _new_index(self._dimension)
        except (RuntimeError, ValueError, OSError) as exc:  # usearch's errors for a damaged file
            log.warning(
                "%s cannot be read (%s): rebuilding it from the store's vectors", entry.path.name, exc
            )
            return None

    def inspect(self, label: str) -> tuple[str, int | None]:
        """``(state, vectors in the saved file)``; state is ok, missing, stale or unreadable."""
        _usearch()
        from usearch.index import Index

        entry = self._entry(label)
        if not entry.path.exists():
            return "missing", None
        if entry.saved_generation() != self._generation(label):
            return "stale", None
        try:
            index = Index.restore(str(entry.path), view=True)
        except (RuntimeError, ValueError, OSError):
            return "unreadable", None
        return ("ok", len(index)) if index is not None else ("unreadable", None)

    def rebuild(self, label: str) -> int:
        """Drop ``label``'s index file and build it again from the stored vectors; saved at once."""
        entry = self._entry(label)
        entry.index = self._rebuild(label)
        entry.mutable = entry.dirty = True
        self.save()
        return len(entry.index)  # type: ignore[arg-type]

    def _rebuild(self, label: str) -> object:
        index = _new_index(self._dimension)
        count = 0
        for keys, vectors in self._rows(label):
            index.add(keys, vectors)  # type: ignore[attr-defined]
            count += len(keys)
        if count:
            log.warning("rebuilt the %s vector index from the store (%d vectors)", label, count)
        return index

    def prepare(self, label: str) -> None:
        """Open ``label``'s index for writing before the SQLite commit that changes it, so a
        rebuild (after a crash) never sees the rows about to be added."""
        self._open(label, mutable=True)

    def add(self, label: str, keys: Sequence[int], vectors: NDArray[np.float32]) -> None:
        if not len(keys):
            return
        index = self._open(label, mutable=True)
        key_array = np.asarray(keys, dtype=np.uint64)
        present = np.asarray(index.contains(key_array)).astype(np.bool_).reshape(-1)  # type: ignore[attr-defined]
        if present.any():
            index.remove(key_array[present])  # type: ignore[attr-defined]
        index.add(key_array, vectors)  # type: ignore[attr-defined]
        self._entry(label).dirty = True

    def remove(self, label: str, keys: Sequence[int]) -> None:
        if not keys:
            return
        index = self._open(label, mutable=True)
        index.remove(np.asarray(keys, dtype=np.uint64))  # type: ignore[attr-defined]
        self._entry(label).dirty = True

    def search(self, label: str, vector: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        index = self._open(label, mutable=False)
        if len(index) == 0:  # type: ignore[arg-type]
            return []
        matches = index.search(vector, k)  # type: ignore[attr-defined]
        keys = np.asarray(matches.keys).reshape(-1)
        distances = np.asarray(matches.distances).reshape(-1)
        return [(int(key), 1.0 - float(dist)) for key, dist in zip(keys, distances, strict=False)]

    def save(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        for label, entry in self._labels.items():
            if not entry.dirty or entry.index is None:
                continue
            generation = self._generation(label)
            tmp = entry.path.with_suffix(".tmp")
            entry.index.save(str(tmp))  # type: ignore[attr-defined]
            tmp.replace(entry.path)
            entry.gen_path.write_text(str(generation))
            entry.dirty = False

    @property
    def dirty(self) -> bool:
        return any(e.dirty for e in self._labels.values())

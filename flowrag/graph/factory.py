"""Build the configured store (composition-root helper)."""

from __future__ import annotations

from flowrag.graph.port import GraphStore
from flowrag.settings import Settings, StoreKind

__all__ = ["open_store"]


async def open_store(settings: Settings, *, migrate: bool = True) -> GraphStore:
    """Open the configured store; by default run the (idempotent) migrations."""
    store: GraphStore
    if settings.store.kind is StoreKind.NEO4J:
        from flowrag.graph.neo4j_store import Neo4jStore

        store = await Neo4jStore.connect(
            settings.store.neo4j_uri,
            settings.store.neo4j_user,
            settings.store.neo4j_password.get_secret_value(),
            settings.store.neo4j_database,
            settings.store.batch_size,
            settings.store.connect_timeout_s,
        )
    else:
        from flowrag.graph.embedded import EmbeddedStore

        store = EmbeddedStore.open(settings.store_path)
    if migrate:
        try:
            await store.migrate(settings.embedding.dimension)
        except BaseException:
            await store.close()
            raise
    return store

"""Full-text on the embedded store: very common words do not drown (or slow) a search."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowrag.graph.embedded import EmbeddedStore
from flowrag.graph.embedded import fulltext as embedded
from flowrag.schema import NodeLabel, NodeRow


async def test_common_words_are_dropped_from_or_queries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "_COMMON_MIN", 50)  # "common" = in more than 50 rows here
    store = EmbeddedStore.open(tmp_path / "g")
    await store.migrate(8)
    rows = [
        NodeRow(
            NodeLabel.RECORD,
            f"runs/{i}",
            "mongo",
            "runs",
            f"runs/{i}",
            name=f"runs/{i}",
            text="status: SUCCESS",
        )
        for i in range(400)
    ]
    rows += [
        NodeRow(
            NodeLabel.RECORD,
            f"ops/{i}",
            "mongo",
            "ops",
            f"ops/{i}",
            name=f"ops/{i}",
            text="Statut du rafraîchissement VDB",
        )
        for i in range(3)
    ]
    await store.upsert_nodes(rows)
    assert embedded.prune_common(store._conn, '"status" OR "rafraichissement"') == (
        '"rafraichissement"',
        True,
    )
    hits = await store.fulltext_search("status rafraîchissement", ["Record"], 5)
    assert [h.node.scope for h in hits] == ["ops"] * 3  # the rare word decides, accents folded
    only_common = await store.fulltext_search("status", ["Record"], 5)
    assert len(only_common) == 5  # still answered (unranked): a common word is not "no match"
    assert embedded.prune_common(store._conn, '"orders qa" OR "status"') == (
        '"orders qa"',
        True,
    )  # phrases stay
    await store.close()

"""`flowrag export` / `flowrag import`: move a whole graph between stores (embedded <-> Neo4j) as
JSON Lines — nodes (with provenance, content hash and embedding) first, then relationships."""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from flowrag.errors import SourceError
from flowrag.graph.port import GraphStore
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType

__all__ = ["export_graph", "import_graph"]

FORMAT = "flowrag-graph/1"


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


async def export_graph(
    store: GraphStore, path: Path, batch: int = 2000, progress: Callable[[int], None] | None = None
) -> tuple[int, int]:
    nodes = edges = 0
    after = ""
    edge_tmp = path.with_name(path.name + ".edges.tmp")
    with _open(path, "w") as out, edge_tmp.open("w", encoding="utf-8") as edge_out:
        out.write(json.dumps({"format": FORMAT}) + "\n")
        while True:
            batch_nodes, batch_edges = await store.export_batch(after, batch)
            if not batch_nodes:
                break
            for node, embedding in batch_nodes:
                out.write(
                    json.dumps({"node": node.as_dict(), "embedding": embedding}, ensure_ascii=False) + "\n"
                )
            for edge in batch_edges:
                edge_out.write(
                    json.dumps({"edge": [edge.type, edge.start, edge.end, edge.props]}, ensure_ascii=False)
                    + "\n"
                )
            nodes += len(batch_nodes)
            edges += len(batch_edges)
            after = batch_nodes[-1][0].uid
            if progress:
                progress(nodes)
    with _open(path, "a") as out, edge_tmp.open(encoding="utf-8") as edge_in:
        for line in edge_in:
            out.write(line)
    edge_tmp.unlink()
    return nodes, edges


def _row(data: dict[str, Any], embedding: list[float] | None) -> NodeRow:
    return NodeRow(
        label=NodeLabel(data["label"]),
        key=data["key"],
        source=data["source"],
        scope=data["scope"],
        source_id=data["source_id"],
        name=data["name"],
        text=data["text"],
        props=data["props"],
        embedding=tuple(embedding) if embedding else None,
        hash=data["content_hash"],
    )


async def import_graph(
    store: GraphStore,
    path: Path,
    batch: int = 2000,
    progress: Callable[[int], None] | None = None,
    embed: Callable[[list[NodeRow]], Awaitable[list[NodeRow]]] | None = None,
) -> tuple[int, int]:
    """Nodes then relationships from an export. With ``embed``, the exported vectors are dropped
    and each batch of nodes is embedded again (by their text; moving to another model)."""
    nodes: list[NodeRow] = []

    async def write(rows: list[NodeRow]) -> int:
        if embed is not None:
            rows = await embed([replace(r, embedding=None) for r in rows])
        return (await store.upsert_nodes(rows)).written

    rels: list[RelRow] = []
    n_nodes = n_rels = 0
    try:
        with _open(path, "r") as src:
            header = json.loads(src.readline() or "{}")
            if header.get("format") != FORMAT:
                raise SourceError(f"{path} is not a flowrag export (format {header.get('format')!r})")
            for number, line in enumerate(src, start=2):
                item = json.loads(line)
                if "node" in item:
                    nodes.append(_row(item["node"], item.get("embedding")))
                    if len(nodes) >= batch:
                        n_nodes += await write(nodes)
                        nodes.clear()
                        if progress:
                            progress(n_nodes)
                elif "edge" in item:
                    if nodes:
                        n_nodes += await write(nodes)
                        nodes.clear()
                    kind, start, end, props = item["edge"]
                    rels.append(RelRow(RelType(kind), start, end, props))
                    if len(rels) >= batch:
                        n_rels += await store.upsert_relationships(rels)
                        rels.clear()
                else:
                    raise SourceError(f"{path}:{number}: neither a node nor an edge")
    except (OSError, json.JSONDecodeError, KeyError, ValueError) as exc:
        raise SourceError(f"cannot import {path}: {exc}") from exc
    if nodes:
        n_nodes += await write(nodes)
    if rels:
        n_rels += await store.upsert_relationships(rels)
    await store.flush()
    return n_nodes, n_rels

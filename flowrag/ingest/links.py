"""Deterministic cross-source links, recomputed after any ingestion (so source order is free):

- ``(HttpCall)-[:TARGETS]->(Endpoint)``: same method and path template, tolerant to base paths
  (``/v3``, ``{base_url}``), ``{param}`` vs ``:param`` vs ``<param>`` vs concrete ids;
- ``(Route)-[:IMPLEMENTS]->(Endpoint)``: the code serves a documented operation;
- ``(File|Function)-[:IMPLEMENTS]->(Pipeline)``: normalised names match (``dags/ingest_trades.py``
  ↔ pipeline ``ingest_trades``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urlparse

from flowrag.extract.vocabulary import normalise_name
from flowrag.graph.port import GraphStore, StoredNode
from flowrag.schema import RelRow, RelType

__all__ = ["link_all", "match_endpoint", "normalise_path"]

_ID = re.compile(r"^(\d+|[0-9a-f]{8,}|[0-9a-f-]{36}|[A-Z]+-\d+)$", re.IGNORECASE)
_PARAM = re.compile(r"^(\{[^}]*\}|:\w+|<[^>]+>|\$\{[^}]*\})$")
_PAGE = 5000


def normalise_path(url: str) -> tuple[str, ...]:
    """``https://h/v3/vdbs/42/refresh?x=1`` -> ``('v3', 'vdbs', '{}', 'refresh')``."""
    text = url.strip()
    if "://" in text and not text.startswith("{"):
        text = urlparse(text).path
    text = text.split("?", 1)[0].split("#", 1)[0]
    segments = []
    for segment in text.strip("/").split("/"):
        if not segment:
            continue
        if _PARAM.match(segment) or _ID.match(segment) or ("{" in segment and "}" in segment):
            segments.append("{}")
        else:
            segments.append(segment.lower())
    return tuple(segments)


def match_endpoint(
    method: str, path: tuple[str, ...], endpoints: dict[str, list[tuple[tuple[str, ...], str]]]
) -> str | None:
    """The endpoint uid whose path is the longest suffix of ``path`` (the rest is a base path)."""
    best: tuple[int, str] | None = None
    for candidate, uid in endpoints.get(method.upper(), []):
        n = len(candidate)
        if n == 0 or n > len(path) or path[-n:] != candidate or all(s == "{}" for s in candidate):
            continue
        if best is None or n > best[0]:
            best = (n, uid)
    return best[1] if best else None


async def _all(store: GraphStore, label: str) -> list[StoredNode]:
    nodes: list[StoredNode] = []
    while True:
        page = await store.find_nodes(label, limit=_PAGE, offset=len(nodes))
        nodes += page
        if len(page) < _PAGE:
            return nodes


async def link_all(store: GraphStore) -> int:
    endpoints: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    for ep in await _all(store, "Endpoint"):
        endpoints[str(ep.props.get("method", "")).upper()].append(
            (normalise_path(str(ep.props.get("path", ""))), ep.uid)
        )
    rels: list[RelRow] = []
    if endpoints:
        for call in await _all(store, "HttpCall"):
            target = match_endpoint(
                str(call.props.get("method", "")), normalise_path(str(call.props.get("url", ""))), endpoints
            )
            if target:
                rels.append(RelRow(RelType.TARGETS, call.uid, target))
        for route in await _all(store, "Route"):
            target = match_endpoint(
                str(route.props.get("method", "")),
                normalise_path(str(route.props.get("path_template", ""))),
                endpoints,
            )
            if target:
                rels.append(RelRow(RelType.IMPLEMENTS, route.uid, target))
    pipelines = {p.key: p.uid for p in await _all(store, "Pipeline")}
    if pipelines:
        for file in await _all(store, "File"):
            name = normalise_name(str(file.props.get("path", file.name)))
            if name in pipelines:
                rels.append(RelRow(RelType.IMPLEMENTS, file.uid, pipelines[name]))
        for fn in await _all(store, "Function"):
            name = normalise_name(fn.name.rsplit(".", 1)[-1])
            if name in pipelines:
                rels.append(RelRow(RelType.IMPLEMENTS, fn.uid, pipelines[name]))
    return await store.upsert_relationships(rels) if rels else 0

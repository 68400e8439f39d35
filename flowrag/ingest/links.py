"""Deterministic cross-source links, recomputed after any ingestion (so source order is free):

- ``(HttpCall)-[:TARGETS]->(Endpoint)``: same method and path template, tolerant to base paths
  (``/v3``, ``{base_url}``), ``{param}`` vs ``:param`` vs ``<param>`` vs concrete ids;
- ``(Route)-[:IMPLEMENTS]->(Endpoint)``: the code serves a documented operation;
- ``(File|Function)-[:IMPLEMENTS]->(Pipeline)``: normalised names match (``dags/ingest_trades.py``
  ↔ pipeline ``ingest_trades``);
- ``(File)-[:IMPORTS]->(File)``: import specifiers resolved inside the same repository;
- ``(Function)-[:CALLS]->(Function)``: a called name resolved to a function of the same file, else
  to the only function of that name in the repository (ambiguous names link nothing);
- ``(Function)-[:CALLS_ENDPOINT]->(Endpoint)``: derived — the endpoints a function reaches through its
  own HTTP calls or those of its callees (up to ``CALL_DEPTH`` calls deep), so "which endpoint does
  the code of this flow call" is one hop from the function, not four. Kept in sync: edges of a
  function whose reach changed are replaced, unchanged ones are not rewritten.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urlparse

from flowrag.extract.imports import SuffixIndex, resolve_import
from flowrag.extract.vocabulary import normalise_name
from flowrag.graph.port import GraphStore, StoredNode, all_nodes
from flowrag.schema import RelRow, RelType

__all__ = ["link_all", "match_endpoint", "normalise_path"]

_ID = re.compile(r"^(\d+|[0-9a-f]{8,}|[0-9a-f-]{36}|[A-Z]+-\d+)$", re.IGNORECASE)
_PARAM = re.compile(r"^(\{[^}]*\}|:\w+|<[^>]+>|\$\{[^}]*\})$")
CALL_DEPTH = 3


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


def _import_links(files: list[StoredNode]) -> list[RelRow]:
    by_repo: dict[str, list[StoredNode]] = defaultdict(list)
    for file in files:
        by_repo[file.scope].append(file)
    rels: list[RelRow] = []
    for repo_files in by_repo.values():
        uid_of = {str(f.props.get("path", "")): f.uid for f in repo_files}
        index = SuffixIndex(uid_of)
        for file in repo_files:
            specs = file.props.get("imports") or []
            language, path = str(file.props.get("language", "")), str(file.props.get("path", ""))
            for spec in specs if isinstance(specs, list) else []:
                for target in resolve_import(language, path, str(spec), index):
                    if uid_of[target] != file.uid:
                        rels.append(RelRow(RelType.IMPORTS, file.uid, uid_of[target]))
    return rels


def _call_links(functions: list[StoredNode]) -> list[RelRow]:
    by_file: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    by_repo: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for fn in functions:
        simple = fn.name.rsplit(".", 1)[-1]
        by_file[(fn.scope, str(fn.props.get("path", "")))].setdefault(simple, fn.uid)
        by_repo[fn.scope][simple].append(fn.uid)
    rels: list[RelRow] = []
    for fn in functions:
        calls = fn.props.get("calls") or []
        local = by_file[(fn.scope, str(fn.props.get("path", "")))]
        for name in calls if isinstance(calls, list) else []:
            target = local.get(str(name))
            if target is None:
                candidates = by_repo[fn.scope].get(str(name), [])
                target = candidates[0] if len(candidates) == 1 else None
            if target is not None and target != fn.uid:
                rels.append(RelRow(RelType.CALLS, fn.uid, target))
    return rels


async def _sync_calls_endpoint(
    store: GraphStore, functions: list[StoredNode], call_targets: list[RelRow]
) -> int:
    uids = [f.uid for f in functions]
    if not uids:
        return 0
    hood = await store.neighbours(uids, ["MAKES", "CALLS", "CALLS_ENDPOINT"], 10_000)
    direct: dict[str, set[str]] = defaultdict(set)
    target_of = {r.start_uid: r.end_uid for r in call_targets}
    callees: dict[str, set[str]] = defaultdict(set)
    existing: dict[str, set[str]] = defaultdict(set)
    for edge in hood.edges:
        if edge.type == "MAKES" and edge.end in target_of:
            direct[edge.start].add(target_of[edge.end])
        elif edge.type == "CALLS":
            callees[edge.start].add(edge.end)
        elif edge.type == "CALLS_ENDPOINT":
            existing[edge.start].add(edge.end)
    wanted: dict[str, set[str]] = {}
    for uid in uids:
        reach: set[str] = set(direct.get(uid, ()))
        frontier, seen = {uid}, {uid}
        for _ in range(CALL_DEPTH):
            frontier = {c for f in frontier for c in callees.get(f, ()) if c not in seen}
            seen |= frontier
            for callee in frontier:
                reach |= direct.get(callee, set())
        wanted[uid] = reach
    changed = [u for u in uids if wanted[u] != existing.get(u, set())]
    if not changed:
        return 0
    await store.delete_relationships(changed, ["CALLS_ENDPOINT"])
    rows = [RelRow(RelType.CALLS_ENDPOINT, u, e) for u in changed for e in sorted(wanted[u])]
    return await store.upsert_relationships(rows) if rows else 0


async def link_all(store: GraphStore) -> int:
    endpoints: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    for ep in await all_nodes(store, "Endpoint"):
        endpoints[str(ep.props.get("method", "")).upper()].append(
            (normalise_path(str(ep.props.get("path", ""))), ep.uid)
        )
    rels: list[RelRow] = []
    if endpoints:
        for call in await all_nodes(store, "HttpCall"):
            target = match_endpoint(
                str(call.props.get("method", "")), normalise_path(str(call.props.get("url", ""))), endpoints
            )
            if target:
                rels.append(RelRow(RelType.TARGETS, call.uid, target))
        for route in await all_nodes(store, "Route"):
            target = match_endpoint(
                str(route.props.get("method", "")),
                normalise_path(str(route.props.get("path_template", ""))),
                endpoints,
            )
            if target:
                rels.append(RelRow(RelType.IMPLEMENTS, route.uid, target))
    files = await all_nodes(store, "File")
    functions = await all_nodes(store, "Function")
    rels += _import_links(files) + _call_links(functions)
    targets = [r for r in rels if r.type == RelType.TARGETS]
    pipelines = {p.key: p.uid for p in await all_nodes(store, "Pipeline")}
    if pipelines:
        for file in files:
            name = normalise_name(str(file.props.get("path", file.name)))
            if name in pipelines:
                rels.append(RelRow(RelType.IMPLEMENTS, file.uid, pipelines[name]))
        for fn in functions:
            name = normalise_name(fn.name.rsplit(".", 1)[-1])
            if name in pipelines:
                rels.append(RelRow(RelType.IMPLEMENTS, fn.uid, pipelines[name]))
    written = await store.upsert_relationships(rels) if rels else 0
    return written + await _sync_calls_endpoint(store, functions, targets)

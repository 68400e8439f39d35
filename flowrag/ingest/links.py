"""Deterministic cross-source links, recomputed after any ingestion (so source order is free):

- ``(HttpCall)-[:TARGETS]->(Endpoint)``: same method and path template, tolerant to base paths
  (``/v3``, ``{base_url}``), ``{param}`` vs ``:param`` vs ``<param>`` vs concrete ids;
- ``(Route)-[:IMPLEMENTS]->(Endpoint)``: the code serves a documented operation;
- ``(File|Function)-[:IMPLEMENTS]->(Pipeline)``: normalised names match (``dags/ingest_trades.py``
  ↔ pipeline ``ingest_trades``);
- ``(File)-[:IMPORTS]->(File)``: import specifiers resolved inside the same repository;
- ``(Function)-[:CALLS]->(Function)``: a called name resolved to a function of the same file, else
  to the only function of that name in the repository (ambiguous names link nothing);
- ``(Pipeline)-[:DEPENDS_ON]->(Vdb|DSource|DelphixEnvironment)``: the flow's name contains the
  object's name as whole words (``refresh_orders_qa`` -> VDB ``orders_qa``; a one-word name needs
  ``MIN_NAME_CHARS`` characters, so a VDB called ``qa`` names no flow);
- ``(DocChunk)-[:MENTIONS]->(Vdb|…)``, ``(Pipeline)-[:DEPENDS_ON]->(Vdb|…)``: a configuration entry
  names the object in its values; the flow whose name is the entry's key depends on it;
- ``(HttpCall)-[:ACTS_ON]->(Vdb|…)``: the URL names a live object by its DCT id or name after its
  collection segment (``/vdbs/orders_qa/refresh``);
- ``(Vdb|DSource|…)-[:INSTANCE_OF]->(DelphixKind)`` and ``(DelphixJob)-[:DOCUMENTED_AS]->(Endpoint)``
  (:func:`link_delphix`): a job's type names an operation (``DB_REFRESH`` -> refresh) that the
  documented endpoints acting on the job target's kind perform;
- ``(Function)-[:CALLS_ENDPOINT]->(Endpoint)``: derived — the endpoints a function reaches through its
  own HTTP calls or those of its callees (up to ``CALL_DEPTH`` calls deep), so "which endpoint does
  the code of this flow call" is one hop from the function, not four. Kept in sync: edges of a
  function whose reach changed are replaced, unchanged ones are not rewritten.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urlparse

from flowrag.extract.delphix import LISTINGS, name_key, name_words
from flowrag.extract.imports import SuffixIndex, resolve_import
from flowrag.graph.port import Filter, GraphStore, StoredNode, all_nodes
from flowrag.models.vocabulary import normalise_name
from flowrag.schema import DELPHIX_OBJECTS, NodeLabel, RelRow, RelType, make_uid

__all__ = ["DELPHIX_NAMED", "distinctive", "link_all", "link_delphix", "match_endpoint", "normalise_path"]

_ID = re.compile(r"^(\d+|[0-9a-f]{8,}|[0-9a-f-]{36}|[A-Z]+-\d+)$", re.IGNORECASE)
_PARAM = re.compile(r"^(\{[^}]*\}|:\w+|<[^>]+>|\$\{[^}]*\})$")
CALL_DEPTH = 3
MIN_NAME_CHARS = 5
#: the live objects flows and free text name (what a flow depends on)
DELPHIX_NAMED = (NodeLabel.VDB, NodeLabel.DSOURCE, NodeLabel.DELPHIX_ENVIRONMENT)


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


def distinctive(name: str | tuple[str, ...]) -> bool:
    """A name specific enough to be matched in other text: two words or more, or one long word."""
    words = name_words(name) if isinstance(name, str) else name
    return len(words) >= 2 or (len(words) == 1 and len(words[0]) >= MIN_NAME_CHARS)


async def _delphix_names(store: GraphStore) -> dict[tuple[str, ...], set[str]]:
    """Name words of each live object flows may name -> their uids."""
    names: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for label in DELPHIX_NAMED:
        for node in await all_nodes(store, label.value):
            words = name_words(node.name)
            if distinctive(words):
                names[words].add(node.uid)
    return names


def _depends_links(pipelines: list[StoredNode], names: dict[tuple[str, ...], set[str]]) -> list[RelRow]:
    if not names:
        return []
    longest = max(len(w) for w in names)
    rels: list[RelRow] = []
    for pipeline in pipelines:
        words = name_words(pipeline.name or pipeline.key)
        found: set[str] = set()
        for size in range(min(longest, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                found |= names.get(words[start : start + size], set())
        rels += [RelRow(RelType.DEPENDS_ON, pipeline.uid, uid) for uid in sorted(found)]
    return rels


_CONFIG_KINDS = frozenset({"yaml", "json", "toml"})
_VALUE_WORD = re.compile(r"[\w][\w.-]*[\w]")


def _config_links(
    chunks: list[StoredNode], names: dict[tuple[str, ...], set[str]], pipelines: dict[str, str]
) -> list[RelRow]:
    """A configuration entry (a top-level YAML/JSON/TOML key) whose values name a live object
    mentions it; when the key is a flow's name, the flow depends on it (``refresh_orders_qa:
    {vdb: orders_qa}``)."""
    rels: list[RelRow] = []
    for chunk in chunks:
        if chunk.props.get("kind") not in _CONFIG_KINDS:
            continue
        found: set[str] = set()
        for word in set(_VALUE_WORD.findall(chunk.text or "")):
            found |= names.get(name_words(word), set())
        flow = pipelines.get(normalise_name(chunk.name))
        for uid in sorted(found):
            rels.append(RelRow(RelType.MENTIONS, chunk.uid, uid))
            if flow:
                rels.append(RelRow(RelType.DEPENDS_ON, flow, uid))
    return rels


async def _call_object_links(store: GraphStore, calls: list[StoredNode]) -> list[RelRow]:
    """An HTTP call whose URL names a live object after its collection segment: by DCT id or name."""
    collections = {x.path.strip("/").split("/")[-1]: x.label for x in LISTINGS if not x.search}
    wanted: dict[str, list[tuple[str, NodeLabel, str]]] = defaultdict(list)
    for call in calls:
        segments = [s for s in urlparse(str(call.props.get("url", ""))).path.split("/") if s]
        for i, segment in enumerate(segments[:-1]):
            label = collections.get(segment.lower())
            ident = segments[i + 1]
            if label is not None and not _PARAM.match(ident) and "{" not in ident and "$" not in ident:
                wanted[call.uid].append((ident, label, name_key(ident)))
    if not wanted:
        return []
    rels: list[RelRow] = []
    by_label: dict[NodeLabel, set[str]] = defaultdict(set)
    for items in wanted.values():
        for ident, label, key in items:
            by_label[label] |= {ident, key}
    found: dict[tuple[NodeLabel, str], set[str]] = defaultdict(set)
    for label, values in by_label.items():
        for prop in ("dct_id", "name_key"):
            for node in await store.find_nodes(
                label.value, [Filter(prop, "in", sorted(values))], limit=10_000
            ):
                found[(label, str(node.props.get(prop)))].add(node.uid)
    for call_uid, items in wanted.items():
        for ident, label, key in items:
            targets = found.get((label, ident)) or found.get((label, key)) or set()
            if len(targets) == 1:  # one object of that id or name (two estates may share a name)
                rels.append(RelRow(RelType.ACTS_ON, call_uid, next(iter(targets))))
    return rels


async def link_delphix(store: GraphStore, uids: set[str] | None = None) -> int:
    """``INSTANCE_OF`` and ``DOCUMENTED_AS`` for the live objects ``uids`` (None: all of them), so
    that an estate ingested before or after the API documentation meets it."""
    kinds = {n.key for n in await all_nodes(store, NodeLabel.DELPHIX_KIND.value)}
    if not kinds:
        return 0
    labels = {label.value for label in DELPHIX_OBJECTS}
    if uids is None:
        objects = [n for label in sorted(labels) for n in await all_nodes(store, label)]
    else:
        wanted = [u for u in uids if u.split(":", 1)[0] in labels]
        objects = [
            n for i in range(0, len(wanted), 5000) for n in await store.get_nodes(wanted[i : i + 5000])
        ]
    rels = [
        RelRow(RelType.INSTANCE_OF, n.uid, make_uid(NodeLabel.DELPHIX_KIND, str(n.props.get("kind"))))
        for n in objects
        if n.props.get("kind") in kinds
    ]
    jobs = [n for n in objects if n.label == NodeLabel.DELPHIX_JOB.value]
    if jobs:
        rels += await _documented_as(store, jobs)
    return await store.upsert_relationships(rels) if rels else 0


async def _documented_as(store: GraphStore, jobs: list[StoredNode]) -> list[RelRow]:
    endpoints = await all_nodes(store, NodeLabel.ENDPOINT.value)
    hood = await store.neighbours([e.uid for e in endpoints], ["ACTS_ON"], 50)
    # (operation, kind the operation targets) -> endpoints
    performs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for edge in hood.edges:
        if edge.props.get("role") == "target" and edge.end.startswith(f"{NodeLabel.DELPHIX_KIND.value}:"):
            performs[(str(edge.props.get("operation")), edge.end.split(":", 1)[1])].append(edge.start)
    operations = {op for op, _ in performs}
    kind_of_label = {x.label.value: x.kind for x in LISTINGS}
    rels: list[RelRow] = []
    for job in jobs:
        words = set(name_words(str(job.props.get("job_type", ""))))
        kind = kind_of_label.get(str(job.props.get("target_kind", "")), "")
        for op in operations:
            if set(op.split("_")) <= words:
                rels += [
                    RelRow(RelType.DOCUMENTED_AS, job.uid, ep) for ep in sorted(performs.get((op, kind), []))
                ]
    return rels


async def link_all(store: GraphStore) -> int:
    endpoints: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    for ep in await all_nodes(store, "Endpoint"):
        endpoints[str(ep.props.get("method", "")).upper()].append(
            (normalise_path(str(ep.props.get("path", ""))), ep.uid)
        )
    rels: list[RelRow] = []
    calls = await all_nodes(store, "HttpCall")
    if endpoints:
        for call in calls:
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
    pipeline_nodes = await all_nodes(store, "Pipeline")
    pipelines = {p.key: p.uid for p in pipeline_nodes}
    if pipelines:
        for file in files:
            name = normalise_name(str(file.props.get("path", file.name)))
            if name in pipelines:
                rels.append(RelRow(RelType.IMPLEMENTS, file.uid, pipelines[name]))
        for fn in functions:
            name = normalise_name(fn.name.rsplit(".", 1)[-1])
            if name in pipelines:
                rels.append(RelRow(RelType.IMPLEMENTS, fn.uid, pipelines[name]))
    names = await _delphix_names(store)
    if names:
        rels += _depends_links(pipeline_nodes, names)
        rels += await _call_object_links(store, calls)
        rels += _config_links(await all_nodes(store, "DocChunk"), names, pipelines)
    written = await store.upsert_relationships(rels) if rels else 0
    return written + await _sync_calls_endpoint(store, functions, targets)

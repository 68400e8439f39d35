"""Evidence for an aggregate over runs: the groups the store counted, each cited by its most recent
run (or, for "never failed", by the group's own node), with the causes of its failures grouped by
error template and shown as the run's own message."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flowrag.answer.aggregates import AggregatePlan, GroupValues
from flowrag.answer.context import EvidenceItem, provenance
from flowrag.graph.aggregate import DIMENSION_LABELS, RunAggregate, RunGroup, RunQuery, day_bounds
from flowrag.graph.port import GraphStore, StoredEdge, StoredNode, all_nodes
from flowrag.schema import NodeLabel, make_uid

__all__ = ["AggregateAnswer", "answer_aggregate", "excerpt", "group_values"]

_DIM_NAMES = {
    "fr": {
        "pipeline": "flux",
        "technology": "technologie",
        "host": "hôte",
        "environment": "environnement",
        "collection": "collection",
        "error_template": "erreur",
        "status": "statut",
        "day": "jour",
    },
    "en": {
        "pipeline": "pipeline",
        "technology": "technology",
        "host": "host",
        "environment": "environment",
        "collection": "collection",
        "error_template": "error",
        "status": "status",
        "day": "day",
    },
}


async def group_values(store: GraphStore) -> GroupValues:
    """The keys of every group node the store holds, and pipelines' display names."""
    keys: dict[str, frozenset[str]] = {}
    aliases: dict[str, dict[str, str]] = {}
    for dim, label in DIMENSION_LABELS.items():
        if label is None or dim in ("error_template", "collection"):  # collections: the planner's
            continue
        nodes = await all_nodes(store, label)
        keys[dim] = frozenset(n.key.lower() for n in nodes if n.key)
        names = {}
        for n in nodes:
            for alias in (n.name, str(n.props.get("display_name", ""))):
                alias = alias.strip().lower()
                if len(alias) >= 3 and alias != n.key.lower():
                    names[alias] = n.key.lower()
        aliases[dim] = names
    return GroupValues(keys, aliases)


def excerpt(text: str, limit: int = 220) -> str:
    """The start of a message, cut at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return (cut if len(cut) > limit // 2 else text[:limit]) + "…"


def _day(iso: str | None) -> str:
    return (iso or "").replace("T", " ").replace("Z", " UTC")


@dataclass
class AggregateAnswer:
    items: list[EvidenceItem]
    edges: list[StoredEdge]
    summary: str
    result: RunAggregate
    previous_total: int | None = None  # counted runs in the period compared with
    agg: AggregatePlan | None = None  # the aggregate answered, when it is not the one asked


def _within(query: RunQuery, group: RunGroup) -> RunQuery:
    """The runs of one group (for its causes)."""
    if query.group_by == "day":
        start, end = day_bounds(group.key, query.day_offset_minutes)
        start = max(start, query.start or start)
        end = min(end, query.end or end)
        where = query.where
    else:
        start, end = query.start or "", query.end or ""
        where = (*query.where, (query.group_by, (group.key,)))
    by = "pipeline" if query.group_by == "error_template" else "error_template"
    return RunQuery(query.statuses, start or None, end or None, where, by, limit=3)


async def answer_aggregate(
    store: GraphStore, agg: AggregatePlan, lang: str, top_k: int, window_text: str
) -> AggregateAnswer:
    query = agg.query
    result = await store.aggregate_runs(query)
    answered: AggregatePlan | None = None
    if not result.groups and not query.negate and query.group_by not in ("pipeline", "day"):
        # a dimension the runs do not carry (a cause asked of a collection without error
        # messages): the runs themselves, by flow, still answer, with their own fields
        by_flow = replace(query, group_by="pipeline")
        found = await store.aggregate_runs(by_flow)
        if found.groups:
            agg = answered = replace(agg, query=by_flow)
            query, result = by_flow, found
    previous: dict[str, int] = {}
    previous_total: int | None = None
    if agg.compare:  # one query: every group of the previous period (its total counts them all)
        before = await store.aggregate_runs(replace(query.shifted(*agg.compare), order="most", limit=1000))
        previous_total = before.total
        previous = {g.key: g.count for g in before.groups}
    names = _DIM_NAMES[lang]
    dim = names[query.group_by]
    status = "/".join(query.statuses) or ("tous statuts" if lang == "fr" else "any status")
    shown = result.groups[:top_k]
    causes: dict[str, RunAggregate] = {}
    if not query.negate and query.statuses != ("SUCCESS",):
        for group in shown:
            causes[group.key] = await store.aggregate_runs(_within(query, group))
    # the nodes to cite and name: latest runs, the groups' own nodes, the cause templates
    wanted: list[str] = []
    label = DIMENSION_LABELS.get(query.group_by)
    for group in shown:
        wanted += group.latest[:1]
        if label:
            wanted.append(make_uid(NodeLabel(label), group.key))
        for cause in causes.get(group.key, RunAggregate(0, 0)).groups:
            wanted += cause.latest[:1]
            if query.group_by != "error_template":
                wanted.append(make_uid(NodeLabel.ERROR, cause.key))
    nodes = {n.uid: n for n in await store.get_nodes(list(dict.fromkeys(wanted)))}
    items: list[EvidenceItem] = []
    for group in shown:
        node = nodes.get(group.latest[0]) if group.latest else None
        own = nodes.get(make_uid(NodeLabel(label), group.key)) if label else None
        cite = node or own
        if cite is None:
            continue
        title = _title(query.group_by, group.key, own)
        text = _group_text(lang, dim, title, status, group, query.negate, previous, agg)
        reasons = [
            _cause_text(lang, c, nodes, query.group_by)
            for c in causes.get(group.key, RunAggregate(0, 0)).groups
        ]
        if reasons:
            text += (" Causes : " if lang == "fr" else " Causes: ") + " ; ".join(reasons)
        items.append(
            EvidenceItem(len(items) + 1, cite, float(group.count or group.runs or 0), provenance(cite), text)
        )
    summary = _summary(lang, result, status, dim, window_text, query.negate, previous_total)
    hood = await store.neighbours([i.node.uid for i in items], ["FAILED_WITH", "OF"], 3)
    return AggregateAnswer(items, list(hood.edges), summary, result, previous_total, answered)


def _title(group_by: str, key: str, own: StoredNode | None) -> str:
    if group_by == "error_template" and own is not None:
        return excerpt(own.name, 120)
    return own.name if own is not None and own.name else key


def _group_text(
    lang: str,
    dim: str,
    title: str,
    status: str,
    group: RunGroup,
    negate: bool,
    previous: dict[str, int],
    agg: AggregatePlan,
) -> str:
    fr = lang == "fr"
    if negate:
        seen = f" ({group.runs} exécution(s) dans la période)" if fr else f" ({group.runs} run(s) in scope)"
        return (
            f"{dim.capitalize()} {title} : aucune exécution {status}" + (seen if group.runs else "") + "."
            if fr
            else f"{dim.capitalize()} {title}: no {status} run" + (seen if group.runs else "") + "."
        )
    text = (
        f"{dim.capitalize()} {title} : {group.count} exécution(s) {status}, "
        f"première le {_day(group.first)}, dernière le {_day(group.last)}."
        if fr
        else f"{dim.capitalize()} {title}: {group.count} run(s) {status}, "
        f"first at {_day(group.first)}, latest at {_day(group.last)}."
    )
    if agg.measure == "duration" and group.max_duration_s is not None:
        mean = group.mean_duration_s or 0.0
        text += (
            f" Durée max {group.max_duration_s:.0f} s, moyenne {mean:.0f} s."
            if fr
            else f" Longest {group.max_duration_s:.0f} s, mean {mean:.0f} s."
        )
    if agg.compare:
        before = previous.get(group.key, 0)
        text += (
            f" Période précédente : {before} ({group.count - before:+d})."
            if fr
            else f" Previous period: {before} ({group.count - before:+d})."
        )
    return text


def _cause_text(lang: str, cause: RunGroup, nodes: dict[str, StoredNode], group_by: str) -> str:
    run = nodes.get(cause.latest[0]) if cause.latest else None
    message = excerpt(str(run.props.get("error_message", ""))) if run else ""
    if group_by == "error_template":  # the causes of an error are the flows it hits
        return f"{cause.key} (×{cause.count})"
    template = nodes.get(make_uid(NodeLabel.ERROR, cause.key))
    shape = excerpt(template.name, 120) if template else cause.key
    if lang == "fr":
        return f"« {message} » (×{cause.count} ; modèle : {shape})"
    return f'"{message}" (×{cause.count}; template: {shape})'


def _summary(
    lang: str,
    result: RunAggregate,
    status: str,
    dim: str,
    window: str,
    negate: bool,
    previous_total: int | None,
) -> str:
    fr = lang == "fr"
    if negate:
        names = ", ".join(g.key for g in result.groups)
        more = result.group_count - len(result.groups)
        names += (f" (+{more})" if more > 0 else "") if names else ""
        return (
            f"{result.group_count} {dim}(s) sans exécution {status} — {window}"
            + (f" : {names}." if names else ".")
            if fr
            else f"{result.group_count} {dim}(s) with no {status} run — {window}"
            + (f": {names}." if names else ".")
        )
    text = (
        f"{result.total} exécution(s) [{status}] — {window}, sur {result.group_count} {dim}(s)."
        if fr
        else f"{result.total} run(s) [{status}] — {window}, across {result.group_count} {dim}(s)."
    )
    if previous_total is not None:
        delta = result.total - previous_total
        text += (
            f" Période précédente : {previous_total} ({delta:+d})."
            if fr
            else f" Previous period: {previous_total} ({delta:+d})."
        )
    return text

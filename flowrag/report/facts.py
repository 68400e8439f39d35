"""The morning report's facts: one day of runs, read from the store through the aggregation engine.

Every figure is a :class:`~flowrag.graph.aggregate.RunQuery` the store answers itself (SQL on the
embedded store, Cypher on Neo4j), so the report costs a few dozen indexed queries whatever the
number of runs. Nothing here knows a flow, a technology or a message: the groups are the store's.

- failures by flow (count, first and last time, causes grouped by error template with the run's own
  message, hosts, technology, citations ``collection/_id``);
- new errors: templates whose first failing run is that day;
- trends by flow and by technology against the previous ``trend_days`` days (up / down when the day
  is more than one standard deviation from their mean, new, recovered), and flows failing several
  days in a row;
- impacts: technologies, Delphix objects named in the failing runs' messages (after a word that is a
  Delphix kind the store knows) and, with a live estate ingested, the VDBs, dSources and
  environments the failing flows depend on and the DCT jobs that failed that day; the code that
  implements the failing flows;
- runs per day by status over ``chart_days`` days.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flowrag.answer.context import provenance
from flowrag.answer.run_answers import excerpt
from flowrag.graph.aggregate import RunAggregate, RunGroup, RunQuery
from flowrag.graph.port import Filter, GraphStore, StoredNode, all_nodes
from flowrag.schema import NodeLabel, RelType, make_uid
from flowrag.timeutil import to_iso

__all__ = [
    "Cause",
    "CodeLink",
    "DayStatus",
    "DelphixObject",
    "FlowFailures",
    "NewError",
    "Report",
    "Streak",
    "Trend",
    "Window",
    "build_facts",
    "local_day_bounds",
    "yesterday",
]

Direction = Literal["up", "down", "new", "recovered", "stable"]
_FAILED = ("FAILED",)
_MAX_GROUPS = 1000  # the engine's limit; a report says when a day has more groups than that
_STREAK_DAYS = 60  # how far back a run of failing days is followed


@dataclass(frozen=True)
class Cause:
    template_id: str
    template: str  # the normalised shape
    message: str  # the latest run's own message (excerpt)
    count: int
    hosts: tuple[str, ...]
    citations: tuple[str, ...]  # collection/_id of the latest runs with this cause


@dataclass(frozen=True)
class FlowFailures:
    pipeline: str
    name: str
    technology: str
    count: int
    first: str
    last: str
    hosts: tuple[str, ...]
    causes: tuple[Cause, ...]
    citations: tuple[str, ...]


@dataclass(frozen=True)
class NewError:
    template_id: str
    template: str
    message: str
    count: int
    first: str
    pipelines: tuple[str, ...]
    citation: str


@dataclass(frozen=True)
class Trend:
    dimension: str  # pipeline | technology
    key: str
    name: str
    today: int
    mean: float  # failing runs per day over the previous days
    sd: float
    direction: Direction


@dataclass(frozen=True)
class Streak:
    pipeline: str
    days: int  # consecutive days with failures, ending on the report's day
    since: str


@dataclass(frozen=True)
class DelphixObject:
    kind: str
    name: str
    pipelines: tuple[str, ...]
    citations: tuple[str, ...]


@dataclass(frozen=True)
class CodeLink:
    pipeline: str
    label: str  # File | Function
    name: str
    provenance: str


@dataclass(frozen=True)
class DayStatus:
    day: str
    counts: dict[str, int]


@dataclass
class Report:
    day: str  # the last local day of the period (the only one of a daily report)
    timezone: str
    language: str
    start: str  # UTC bounds of the local day
    end: str
    generated_at: str
    totals: dict[str, int]  # the day's runs by status
    failures: list[FlowFailures] = field(default_factory=list)
    failing_flows: int = 0  # flows with a failure that day (the list holds at most max_flows)
    new_errors: list[NewError] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    streaks: list[Streak] = field(default_factory=list)
    technologies: list[tuple[str, int]] = field(default_factory=list)
    delphix: list[DelphixObject] = field(default_factory=list)
    code: list[CodeLink] = field(default_factory=list)
    chart: list[DayStatus] = field(default_factory=list)
    trend_days: int = 7
    synthesis: str = ""
    synthesis_by: str = "rule"  # rule | llm
    notes: list[str] = field(default_factory=list)
    days: int = 1  # local days in the period, ending on ``day``
    collections: list[str] = field(default_factory=list)  # the collections counted (empty: all)

    @property
    def first_day(self) -> str:
        return (date.fromisoformat(self.day) - timedelta(days=self.days - 1)).isoformat()

    @property
    def failed(self) -> int:
        return self.totals.get("FAILED", 0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["technologies"] = [{"technology": t, "count": c} for t, c in self.technologies]
        return data


def yesterday(tz: str, now: datetime | None = None) -> date:
    """The day before today in the zone ``tz``."""
    current = (now or datetime.now(UTC)).astimezone(ZoneInfo(tz))
    return current.date() - timedelta(days=1)


def local_day_bounds(day: date, tz: str) -> tuple[str, str]:
    """UTC bounds (end exclusive) of the local day ``day`` in the zone ``tz``; DST days are 23 or 25 h."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return to_iso(start.astimezone(UTC)), to_iso(end.astimezone(UTC))


@dataclass(frozen=True)
class Window:
    """What a report counts: the runs of ``days`` local days of ``tz`` ending on ``day``, in
    ``collections`` (every collection when empty). Trends compare it with the windows of the same
    length before it, so a weekly report is compared with the weeks before."""

    day: date
    tz: str
    days: int = 1
    collections: tuple[str, ...] = ()

    @property
    def first(self) -> date:
        return self.day - timedelta(days=self.days - 1)

    def bounds(self) -> tuple[str, str]:
        """UTC bounds (end exclusive), each from its own local day's offset (DST-safe)."""
        return local_day_bounds(self.first, self.tz)[0], local_day_bounds(self.day, self.tz)[1]

    def back(self, periods: int) -> Window:
        """The window ``periods`` lengths before this one."""
        return replace(self, day=self.day - timedelta(days=periods * self.days))

    def on(self, day: date) -> Window:
        """One local day, over the same collections."""
        return replace(self, day=day, days=1)

    def where(self, *extra: tuple[str, tuple[str, ...]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return (*extra, ("collection", self.collections)) if self.collections else tuple(extra)

    def q(self, group_by: str, statuses: tuple[str, ...] = _FAILED, **kw: Any) -> RunQuery:
        """The window's runs grouped by ``group_by``; counts only unless ``latest`` is asked."""
        start, end = self.bounds()
        kw.setdefault("latest", 0)
        where = self.where(*kw.pop("where", ()))
        return RunQuery(
            statuses, start, end, where, group_by=group_by, limit=kw.pop("limit", _MAX_GROUPS), **kw
        )


async def _each(store: GraphStore, queries: Sequence[RunQuery]) -> list[RunAggregate]:
    """Independent queries at once (a server runs them in parallel; the embedded store in turn)."""
    return list(await asyncio.gather(*(store.aggregate_runs(q) for q in queries)))


def _counts(result: RunAggregate) -> dict[str, int]:
    return {g.key: g.count for g in result.groups}


def direction(today: int, history: Sequence[int]) -> tuple[Direction, float, float]:
    """Where a day stands against the days before it (``history[0]`` is the day before): new (no
    failure before), recovered (failing the day before, none today), up / down (more than one
    standard deviation from their mean), stable otherwise."""
    mean = sum(history) / len(history) if history else 0.0
    sd = math.sqrt(sum((c - mean) ** 2 for c in history) / len(history)) if history else 0.0
    if today and not any(history):
        return "new", mean, sd
    if not today and history and history[0]:
        return "recovered", mean, sd
    if today > mean + sd:
        return "up", mean, sd
    if today < mean - sd:
        return "down", mean, sd
    return "stable", mean, sd


def _kind_pattern(kinds: Sequence[str]) -> re.Pattern[str] | None:
    words = sorted({k.lower() for k in kinds if len(k) >= 2}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) + "s?" for w in words)
    # a kind word, then a name: an identifier-shaped token (it holds a digit, _, - or .)
    return re.compile(rf"\b({alternatives})\b[\s:=#«\"'`@]+([A-Za-z0-9][\w.:\-@]*[A-Za-z0-9])", re.IGNORECASE)


def delphix_names(
    message: str, pattern: re.Pattern[str] | None, kinds: dict[str, str]
) -> list[tuple[str, str]]:
    """(kind, name) pairs a message names: ``dSource orders_prod``, ``environment linux-db-07``."""
    if pattern is None:
        return []
    found = []
    for match in pattern.finditer(message):
        word, name = match.group(1).lower(), match.group(2)
        kind = kinds.get(word) or kinds.get(word.rstrip("s"))
        if kind and re.search(r"[\d_.\-]", name) and not name.replace(".", "").isdigit():
            found.append((kind, name))
    return found


async def build_facts(
    store: GraphStore,
    day: date,
    tz: str,
    language: str = "fr",
    *,
    max_flows: int = 20,
    trend_days: int = 7,
    chart_days: int = 14,
    now: datetime | None = None,
    days: int = 1,
    collections: Sequence[str] = (),
) -> Report:
    """Every fact of the report of the ``days`` local days of ``tz`` ending on ``day`` (one by
    default), over ``collections`` (all when empty), from the store."""
    w = Window(day, tz, days, tuple(dict.fromkeys(collections)))
    start, end = w.bounds()
    report = Report(
        day.isoformat(),
        tz,
        language,
        start,
        end,
        to_iso(now or datetime.now(UTC)),
        totals=_counts(await store.aggregate_runs(w.q("status", ()))),
        trend_days=trend_days,
        days=days,
        collections=list(w.collections),
    )
    flows = await store.aggregate_runs(w.q("pipeline", latest=3))
    report.failing_flows = flows.group_count
    if flows.group_count > len(flows.groups):
        report.notes.append(f"{flows.group_count} failing flows; the first {len(flows.groups)} are counted")
    await _failures(store, report, w, flows.groups[:max_flows])
    await _estate(store, report, start, end)
    await _new_errors(store, report, w)
    techs = await store.aggregate_runs(w.q("technology"))
    report.technologies = [(g.key, g.count) for g in techs.groups]  # counts only: no citation asked
    await _trends(store, report, w, flows, techs, trend_days)
    await _code(store, report)
    await _display_names(store, report)
    report.chart = await _chart(store, w, chart_days)
    return report


async def _failures(store: GraphStore, report: Report, w: Window, groups: Sequence[RunGroup]) -> None:
    queries = [w.q("error_template", where=(("pipeline", (g.key,)),), limit=5, latest=3) for g in groups]
    causes = dict(zip((g.key for g in groups), await _each(store, queries), strict=True))
    wanted: list[str] = []
    for group in groups:
        wanted.append(make_uid(NodeLabel.PIPELINE, group.key))
        wanted += group.latest
        for cause in causes[group.key].groups:
            wanted += cause.latest
            wanted.append(make_uid(NodeLabel.ERROR, cause.key))
    nodes = {n.uid: n for n in await store.get_nodes(list(dict.fromkeys(wanted)))}
    kinds = {n.name.lower(): n.name for n in await all_nodes(store, NodeLabel.DELPHIX_KIND.value)}
    pattern = _kind_pattern(list(kinds))
    delphix: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for group in groups:
        flow_node = nodes.get(make_uid(NodeLabel.PIPELINE, group.key))
        runs = [nodes[u] for u in group.latest if u in nodes]
        items = []
        for cause in causes[group.key].groups:
            cause_runs = [nodes[u] for u in cause.latest if u in nodes]
            template = nodes.get(make_uid(NodeLabel.ERROR, cause.key))
            message = str(cause_runs[0].props.get("error_message", "")) if cause_runs else ""
            items.append(
                Cause(
                    cause.key,
                    excerpt(template.name, 160) if template else cause.key,
                    excerpt(message),
                    cause.count,
                    _distinct(r.props.get("host") for r in cause_runs),
                    tuple(provenance(r) for r in cause_runs),
                )
            )
            for run in cause_runs:
                for kind, name in delphix_names(str(run.props.get("error_message", "")), pattern, kinds):
                    flows_of, cites = delphix.setdefault((kind, name), ([], []))
                    if group.key not in flows_of:
                        flows_of.append(group.key)
                    if provenance(run) not in cites:
                        cites.append(provenance(run))
        technology = next((str(r.props["technology"]) for r in runs if r.props.get("technology")), "")
        report.failures.append(
            FlowFailures(
                group.key,
                flow_node.name if flow_node and flow_node.name else group.key,
                technology,
                group.count,
                group.first or "",
                group.last or "",
                _distinct(r.props.get("host") for r in runs),
                tuple(items),
                tuple(provenance(r) for r in runs),
            )
        )
    report.delphix = [
        DelphixObject(kind, name, tuple(flows_of), tuple(cites[:3]))
        for (kind, name), (flows_of, cites) in sorted(delphix.items())
    ]


_KIND_NAMES = {"Vdb": "VDB", "DSource": "dSource", "DelphixEnvironment": "environment"}


async def _estate(store: GraphStore, report: Report, start: str, end: str) -> None:
    """The live estate behind the day's failures: the VDBs, dSources and environments the failing
    flows depend on, and the DCT jobs that failed that day (each with the flows that depend on
    its target). Nothing when no estate is ingested."""
    found = {(o.kind, o.name): o for o in report.delphix}
    flows = [make_uid(NodeLabel.PIPELINE, f.pipeline) for f in report.failures]
    hood = await store.neighbours(flows, [RelType.DEPENDS_ON.value], 20) if flows else None
    objects = {n.uid: n for n in hood.nodes} if hood else {}
    depends: dict[str, list[str]] = {}
    for edge in hood.edges if hood else ():
        depends.setdefault(edge.end, []).append(edge.start.split(":", 1)[1])
    for uid, pipelines in depends.items():
        node = objects.get(uid)
        if node is not None:
            kind = _KIND_NAMES.get(node.label, node.label)
            found.setdefault(
                (kind, node.name), DelphixObject(kind, node.name, tuple(pipelines), (provenance(node),))
            )
    jobs = await store.find_nodes(
        NodeLabel.DELPHIX_JOB.value,
        [Filter("status", "=", "FAILED"), Filter("started_at", ">=", start), Filter("started_at", "<", end)],
        limit=200,
    )
    if jobs:
        targets = await store.neighbours(
            [j.uid for j in jobs], [RelType.ACTS_ON.value, RelType.DEPENDS_ON.value], 50
        )
        target_of = {e.start: e.end for e in targets.edges if e.type == RelType.ACTS_ON.value}
        dependants = await store.neighbours(sorted(set(target_of.values())), [RelType.DEPENDS_ON.value], 50)
        flows_of: dict[str, list[str]] = {}
        for edge in dependants.edges:
            flows_of.setdefault(edge.end, []).append(edge.start.split(":", 1)[1])
        for job in jobs:
            kind = f"DCT job {job.props.get('job_type') or ''}".strip()
            target = str(job.props.get("target_name") or job.props.get("target") or job.name)
            dependent = tuple(flows_of.get(target_of.get(job.uid, ""), ()))
            found[(kind, target)] = DelphixObject(kind, target, dependent, (provenance(job),))
    report.delphix = [found[k] for k in sorted(found)]


def _distinct(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v) for v in values if v))


async def _new_errors(store: GraphStore, report: Report, w: Window) -> None:
    today = await store.aggregate_runs(w.q("error_template", latest=1))
    keys = tuple(g.key for g in today.groups)
    if not keys:
        return
    before = await store.aggregate_runs(
        RunQuery(
            _FAILED,
            None,
            report.start,
            w.where(("error_template", keys)),
            "error_template",
            limit=_MAX_GROUPS,
            latest=0,
        )
    )
    seen = {g.key for g in before.groups}
    fresh = [g for g in today.groups if g.key not in seen]
    if not fresh:
        return
    queries = [w.q("pipeline", where=(("error_template", (g.key,)),), limit=10) for g in fresh]
    hits = dict(zip((g.key for g in fresh), await _each(store, queries), strict=True))
    wanted = [make_uid(NodeLabel.ERROR, g.key) for g in fresh] + [g.latest[0] for g in fresh if g.latest]
    nodes = {n.uid: n for n in await store.get_nodes(wanted)}
    for group in fresh:
        template = nodes.get(make_uid(NodeLabel.ERROR, group.key))
        run = nodes.get(group.latest[0]) if group.latest else None
        report.new_errors.append(
            NewError(
                group.key,
                excerpt(template.name, 160) if template else group.key,
                excerpt(str(run.props.get("error_message", ""))) if run else "",
                group.count,
                group.first or "",
                tuple(g.key for g in hits[group.key].groups),
                provenance(run) if run else "",
            )
        )


async def _before(store: GraphStore, w: Window, dimension: str, periods: int) -> list[dict[str, int]]:
    """Failing runs per group in each of the ``periods`` windows before ``w`` (nearest first)."""
    queries = [w.back(back).q(dimension) for back in range(1, periods + 1)]
    return [_counts(result) for result in await _each(store, queries)]


async def _trends(
    store: GraphStore,
    report: Report,
    w: Window,
    flows: RunAggregate,
    techs: RunAggregate,
    trend_days: int,
) -> None:
    ran, techs_ran = await _each(store, [w.q("pipeline", ()), w.q("technology", ())])
    ran_today = {"pipeline": set(_counts(ran)), "technology": set(_counts(techs_ran))}
    today = {"pipeline": _counts(flows), "technology": _counts(techs)}
    history = {
        "pipeline": await _before(store, w, "pipeline", trend_days),
        "technology": await _before(store, w, "technology", trend_days),
    }
    for dimension in ("pipeline", "technology"):
        keys = set(today[dimension]) | {k for h in history[dimension] for k in h}
        for key in sorted(keys):
            counts = [h.get(key, 0) for h in history[dimension]]
            way, mean, sd = direction(today[dimension].get(key, 0), counts)
            if way == "recovered" and key not in ran_today[dimension]:
                continue  # no run today: nothing says it recovered
            if way != "stable":
                report.trends.append(Trend(dimension, key, key, today[dimension].get(key, 0), mean, sd, way))
    order = {"new": 0, "up": 1, "recovered": 2, "down": 3}
    report.trends.sort(key=lambda t: (t.dimension != "pipeline", order[t.direction], -t.today, t.key))
    if w.days == 1:
        await _streaks(store, report, w, today["pipeline"], history["pipeline"], trend_days)


async def _streaks(
    store: GraphStore,
    report: Report,
    w: Window,
    today: dict[str, int],
    history: list[dict[str, int]],
    trend_days: int,
) -> None:
    """Consecutive failing days ending on a one-day report's day, from the per-day counts, then
    further back for the flows still failing."""
    day, tz = w.day, w.tz
    streak = {key: 1 for key in today}
    open_keys = set(streak)
    for back, per_flow in enumerate(history, start=1):
        open_keys = {k for k in open_keys if per_flow.get(k)}
        for key in open_keys:
            streak[key] = back + 1
    if open_keys:  # failing every day of the window: their failing days further back, one query each
        first, _ = local_day_bounds(day - timedelta(days=_STREAK_DAYS - 1), tz)
        last, _ = local_day_bounds(day - timedelta(days=trend_days), tz)
        offset = datetime.combine(day, time(12), ZoneInfo(tz)).utcoffset() or timedelta(0)
        streaking = sorted(open_keys)
        queries = [
            RunQuery(
                _FAILED,
                first,
                last,
                w.where(("pipeline", (key,))),
                "day",
                limit=_STREAK_DAYS,
                latest=0,
                day_offset_minutes=int(offset.total_seconds() // 60),
            )
            for key in streaking
        ]
        for key, result in zip(streaking, await _each(store, queries), strict=True):
            failing = {g.key for g in result.groups}
            back = trend_days + 1
            while back < _STREAK_DAYS and (day - timedelta(days=back)).isoformat() in failing:
                streak[key] = back + 1
                back += 1
    report.streaks = [
        Streak(key, days, (day - timedelta(days=days - 1)).isoformat())
        for key, days in sorted(streak.items(), key=lambda kv: (-kv[1], kv[0]))
        if days >= 2
    ]


async def _display_names(store: GraphStore, report: Report) -> None:
    """Groups are keys (normalised names); the report shows the nodes' own names."""
    keys = {("technology", t) for t, _ in report.technologies} | {(t.dimension, t.key) for t in report.trends}
    keys |= {("technology", f.technology) for f in report.failures if f.technology}
    label = {"technology": NodeLabel.TECHNOLOGY, "pipeline": NodeLabel.PIPELINE}
    found = await store.get_nodes([make_uid(label[d], k) for d, k in sorted(keys)])
    names = {(n.label, n.key): n.name for n in found if n.name}
    tech = NodeLabel.TECHNOLOGY.value
    report.technologies = [(names.get((tech, t), t), c) for t, c in report.technologies]
    report.trends = [
        replace(t, name=names.get((label[t.dimension].value, t.key), t.key)) for t in report.trends
    ]
    report.failures = [
        replace(f, technology=names.get((tech, f.technology), f.technology)) for f in report.failures
    ]


async def _code(store: GraphStore, report: Report) -> None:
    uids = [make_uid(NodeLabel.PIPELINE, f.pipeline) for f in report.failures]
    if not uids:
        return
    hood = await store.neighbours(uids, ["IMPLEMENTS"], 5)
    nodes: dict[str, StoredNode] = {n.uid: n for n in hood.nodes}
    wanted = set(uids)
    for edge in hood.edges:
        node = nodes.get(edge.start)
        if edge.end in wanted and node is not None:
            pipeline = edge.end.split(":", 1)[1]
            report.code.append(CodeLink(pipeline, node.label, node.name, provenance(node)))


async def _chart(store: GraphStore, w: Window, days: int) -> list[DayStatus]:
    """Runs per local day and status over the ``days`` days ending on the window's last day (one
    query per day, so that each day has its own UTC offset across a DST change)."""
    dates = [w.day - timedelta(days=back) for back in range(days - 1, -1, -1)]
    results = await _each(store, [w.on(d).q("status", ()) for d in dates])
    return [DayStatus(d.isoformat(), _counts(r)) for d, r in zip(dates, results, strict=True)]

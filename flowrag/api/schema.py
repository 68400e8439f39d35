"""The strawberry GraphQL schema: ask, search, explore, typed domain lists, ingestion jobs."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    ValidationRule,
)
from strawberry.dataloader import DataLoader
from strawberry.extensions import AddValidationRules, MaskErrors, QueryDepthLimiter
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from flowrag.api.jobs import JobManager, JobState
from flowrag.api.report_types import DailyReport, ReportDelivery, SendReportResult
from flowrag.errors import FlowragError
from flowrag.graph.port import Filter, StoredEdge, StoredNode
from flowrag.runtime import Runtime
from flowrag.schema import ONTOLOGY
from flowrag.schema.ontology import PROVENANCE

__all__ = ["Context", "build_schema"]


@dataclass
class Context:
    runtime: Runtime
    jobs: JobManager
    scopes: frozenset[str]  # "read", "write"
    nodes: DataLoader[str, StoredNode | None]
    request: Any = None
    response: Any = None
    connection_params: Any = None  # WebSocket connection_init payload (set by strawberry)


def node_loader(runtime: Runtime) -> DataLoader[str, StoredNode | None]:
    async def load(uids: list[str]) -> list[StoredNode | None]:
        found = {n.uid: n for n in await runtime.store.get_nodes(uids)}
        return [found.get(u) for u in uids]

    return DataLoader(load_fn=load)  # one per request: batching without cross-request caching


class IsReader(BasePermission):
    message = "this query needs an API key with the read scope (header X-API-Key)"
    error_extensions = {"code": "UNAUTHENTICATED"}  # noqa: RUF012 - strawberry's declared attribute

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return "read" in info.context.scopes


class IsWriter(BasePermission):
    message = "this mutation needs an API key with the write scope"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 - strawberry's declared attribute

    def has_permission(self, source: Any, info: Info[Context, None], **kwargs: Any) -> bool:
        return "write" in info.context.scopes


@strawberry.type(description="A node of the graph, with its provenance.")
class Node:
    uid: str = strawberry.field(description="Label:key, the same on both stores")
    label: str = strawberry.field(
        description="one of " + ", ".join(s.label.value for s in ONTOLOGY.labels if not s.system)
    )
    key: str = strawberry.field(description="the property that identifies it within its label")
    name: str
    text: str = strawberry.field(description="readable text: full-text indexed, shown as evidence")
    source: str = strawberry.field(description=PROVENANCE["source"])
    scope: str = strawberry.field(description=PROVENANCE["scope"])
    source_id: str = strawberry.field(description=PROVENANCE["source_id"])
    last_seen: str = strawberry.field(description=PROVENANCE["last_seen"])
    props: JSON = strawberry.field(description="the label's own properties (docs/ontology.md)")

    @classmethod
    def of(cls, n: StoredNode) -> Node:
        return cls(
            uid=n.uid,
            label=n.label,
            key=n.key,
            name=n.name,
            text=n.text,
            source=n.source,
            scope=n.scope,
            source_id=n.source_id,
            last_seen=n.last_seen,
            props=n.props,
        )


@strawberry.type(description="A relationship between two nodes.")
class Edge:
    type: str = strawberry.field(
        description="one of " + ", ".join(r.type.value for r in ONTOLOGY.relationships)
    )
    start: str = strawberry.field(description="uid of the start node")
    end: str = strawberry.field(description="uid of the end node")
    props: JSON

    @classmethod
    def of(cls, e: StoredEdge) -> Edge:
        return cls(type=e.type, start=e.start, end=e.end, props=e.props)

    @strawberry.field
    async def start_node(self, info: Info[Context, None]) -> Node | None:
        node = await info.context.nodes.load(self.start)
        return Node.of(node) if node else None

    @strawberry.field
    async def end_node(self, info: Info[Context, None]) -> Node | None:
        node = await info.context.nodes.load(self.end)
        return Node.of(node) if node else None


@strawberry.type(description="A search hit.")
class ScoredNode:
    node: Node
    score: float = strawberry.field(description="the fused rank score (higher is better)")


@strawberry.type(description="One numbered piece of evidence an answer cites as [n].")
class Citation:
    number: int = strawberry.field(description="the n of [n] in the answer")
    uid: str
    label: str
    provenance: str = strawberry.field(
        description="where it comes from: collection/_id, path:line, METHOD /path (spec version), a DCT path"
    )
    snippet: str = strawberry.field(description="the evidence text shown (up to 300 characters)")
    score: float


@strawberry.type(description="One group an aggregate over runs counted.")
class RunGroupCount:
    key: str = strawberry.field(description="the group's key (a pipeline, technology, host, day…)")
    count: int = strawberry.field(description="counted runs in the group (0 for a negated question)")
    runs: int | None = strawberry.field(description="negated questions: the group's runs in scope")
    last: str | None = strawberry.field(description="the latest counted run's start (UTC)")


@strawberry.type(description="The typed aggregate a question about runs became, and its figures.")
class RunAggregatePlan:
    statuses: list[str]
    group_by: str
    filters: JSON = strawberry.field(description="dimension -> the store's keys the question names")
    negate: bool = strawberry.field(description="groups with no counted run ('never failed')")
    order: str
    measure: str
    limit: int
    total: int
    group_count: int
    previous_total: int | None = strawberry.field(description="counted runs in the period compared with")
    groups: list[RunGroupCount]

    @classmethod
    def of(cls, info: dict[str, Any] | None) -> RunAggregatePlan | None:
        if info is None:
            return None
        return cls(
            statuses=info["statuses"],
            group_by=info["group_by"],
            filters=info["filters"],
            negate=info["negate"],
            order=info["order"],
            measure=info["measure"],
            limit=info["limit"],
            total=info["total"],
            group_count=info["group_count"],
            previous_total=info["previous_total"],
            groups=[RunGroupCount(**g) for g in info["groups"]],
        )


@strawberry.type(description="The walk over the live Delphix estate a question became.")
class EstateWalkPlan:
    labels: list[str] = strawberry.field(description="the labels asked for, in the question's order")
    anchors: list[str] = strawberry.field(description="uids of the objects and flows the question names")
    negate: bool = strawberry.field(description="'not since': last activity older than the window")
    statuses: list[str]
    latest: bool = strawberry.field(description="the most recent object of each label only")
    counts: JSON = strawberry.field(description="label -> objects found")

    @classmethod
    def of(cls, info: dict[str, Any] | None) -> EstateWalkPlan | None:
        if info is None:
            return None
        return cls(
            labels=info["labels"],
            anchors=info["anchors"],
            negate=info["negate"],
            statuses=info["statuses"],
            latest=info["latest"],
            counts=info["counts"],
        )


@strawberry.type(description="What the answer path did with the question.")
class AnswerPlan:
    language: str
    route: str = strawberry.field(
        description="retrieval (graph search), aggregate (a structured query over runs) or estate "
        "(a walk over the live Delphix estate)"
    )
    confidence: str = strawberry.field(
        description="strong, weak (answered, low confidence) or off-topic (not in the evidence), "
        "judged against this store's background"
    )
    relevance: str = strawberry.field(description="the relevance judgement in numbers")
    window_start: str | None
    window_end: str | None
    window_phrase: str | None
    timezone: str | None
    statuses: list[str]
    sources: list[str]
    collections: list[str]
    answer_types: list[str]
    aggregate: RunAggregatePlan | None = strawberry.field(
        description="route aggregate: the typed query over runs and what it counted"
    )
    estate: EstateWalkPlan | None = strawberry.field(
        description="route estate: the labels asked, the objects named, what was found"
    )

    @classmethod
    def of(cls, info: dict[str, Any]) -> AnswerPlan:
        window = info["window"] or {}
        return cls(
            language=info["language"],
            route=info["route"],
            confidence=info["confidence"],
            relevance=info["relevance"],
            window_start=window.get("start"),
            window_end=window.get("end"),
            window_phrase=window.get("phrase"),
            timezone=window.get("timezone"),
            statuses=info["statuses"],
            sources=info["sources"],
            collections=info["collections"],
            answer_types=info["answer_types"],
            aggregate=RunAggregatePlan.of(info.get("aggregate")),
            estate=EstateWalkPlan.of(info.get("estate")),
        )


@strawberry.type(description="A cited answer.")
class Answer:
    question: str
    answer: str = strawberry.field(description="the text, citing evidence as [n]")
    mode: str = strawberry.field(
        description="llm, extractive (no LLM configured or reachable: the top facts) or no-answer"
    )
    language: str = strawberry.field(description="fr or en, detected from the question")
    citations: list[Citation]
    nodes: list[Node] = strawberry.field(description="the evidence nodes, ranked")
    edges: list[Edge] = strawberry.field(description="the relationships between the evidence nodes")
    cypher: str = strawberry.field(description="a read-only query that opens the evidence in Neo4j Browser")
    timings: JSON = strawberry.field(description="milliseconds per stage of the answer path")
    session_id: str | None = strawberry.field(description="pass it back to ask a follow-up")
    plan: AnswerPlan
    notes: list[str] = strawberry.field(
        description="what the reader should know: low confidence, bridged words"
    )

    @classmethod
    def of(cls, result: Any) -> Answer:
        return cls(
            question=result.question,
            answer=result.answer,
            mode=result.mode,
            language=result.language,
            citations=[Citation(**c.__dict__) for c in result.citations],
            nodes=[Node.of(n) for n in result.nodes],
            edges=[Edge.of(e) for e in result.edges],
            cypher=result.cypher,
            timings=result.timings,
            session_id=result.session_id,
            plan=AnswerPlan.of(result.plan_info),
            notes=list(result.notes),
        )


@strawberry.type
class Subgraph:
    nodes: list[Node]
    edges: list[Edge]


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class NodeConnection:
    nodes: list[Node]
    page_info: PageInfo
    total: int


@strawberry.type
class Count:
    name: str
    count: int


@strawberry.type
class Sources:
    nodes: list[Count]
    relationships: list[Count]
    collections: list[Node]
    specs: list[Node]
    repositories: list[Node]


@strawberry.type(description="A background ingestion job (its progress is the jobProgress subscription).")
class Job:
    id: str
    kind: str = strawberry.field(description="openapi, code, mongo, delphix…: what it ingests")
    state: str = strawberry.field(description="QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED")
    done: int = strawberry.field(description="items read so far")
    total: int | None = strawberry.field(description="items to read, when the source says")
    message: str = strawberry.field(description="the error of a failed job, with its hint")
    report: JSON | None = strawberry.field(description="the ingestion reports of a finished job")
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, j: JobState) -> Job:
        return cls(
            id=j.id,
            kind=j.kind,
            state=j.state,
            done=j.done,
            total=j.total,
            message=j.message,
            report=json.loads(j.report) if j.report else None,
            created_at=j.created_at,
            updated_at=j.updated_at,
        )


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise GraphQLError("invalid cursor", extensions={"code": "BAD_USER_INPUT"}) from exc


async def _page(
    info: Info[Context, None],
    label: str,
    filters: list[Filter],
    first: int,
    after: str | None,
    order_by: str | None = None,
    descending: bool = False,
) -> NodeConnection:
    if not 1 <= first <= 500:
        raise GraphQLError("first must be between 1 and 500", extensions={"code": "BAD_USER_INPUT"})
    start = _offset(after)
    store = info.context.runtime.store
    rows = await store.find_nodes(
        label, filters, order_by=order_by, descending=descending, limit=first + 1, offset=start
    )
    total = await store.count_nodes(label, filters)
    more = len(rows) > first
    rows = rows[:first]
    return NodeConnection(
        nodes=[Node.of(n) for n in rows],
        total=total,
        page_info=PageInfo(end_cursor=_cursor(start + len(rows)) if rows else None, has_next_page=more),
    )


def _report_service(info: Info[Context, None]) -> Any:
    from flowrag.answer.llm import LLMClient
    from flowrag.report.service import ReportService

    rt = info.context.runtime
    return ReportService(rt.store, rt.settings, LLMClient(rt.settings.llm))


def _translate(exc: FlowragError) -> GraphQLError:
    code = (
        "BAD_USER_INPUT"
        if exc.__class__.__name__ in {"SourceError", "OntologyError", "ConfigError", "ReportError"}
        else "FLOWRAG_ERROR"
    )
    return GraphQLError(exc.message, extensions={"code": code, "hint": exc.hint or ""})


@strawberry.type(description="How one collection would be read: the field of each concept, with confidences.")
class CollectionMapping:
    collection: str
    sampled: int = strawberry.field(description="documents read (the first ones by _id)")
    runs: int = strawberry.field(description="sampled documents that would become runs")
    fields: JSON = strawberry.field(description="concept -> field path (null: absent)")
    confidence: JSON = strawberry.field(description="concept -> 0..1")
    ambiguous: JSON = strawberry.field(description="concept -> the close candidate fields")
    statuses: JSON = strawberry.field(description="status class -> sampled runs")


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[IsWriter],
        description="Preview the inferred mapping of a MongoDB database on a sample, writing nothing "
        "(write scope: it reaches a server; the ingestion host allowlist applies).",
    )
    async def inspect_mongo(
        self,
        info: Info[Context, None],
        uri: str,
        db: str,
        sample: int = 200,
        include: list[str] | None = None,
    ) -> list[CollectionMapping]:
        from flowrag.ingest.inspect import inspect_mongo

        _allowed(info, uri, mongo=True)
        overrides = info.context.runtime.settings.mongo.mappings
        try:
            previews = await inspect_mongo(
                uri, db, max(1, min(sample, 1000)), tuple(include or ()), overrides
            )
        except FlowragError as exc:
            raise _translate(exc) from exc
        return [
            CollectionMapping(
                collection=p.collection,
                sampled=p.sampled,
                runs=p.runs,
                fields=p.fields,
                confidence=p.confidence,
                ambiguous={k: list(v) for k, v in p.ambiguous.items()},
                statuses=p.statuses,
            )
            for p in previews
        ]

    @strawberry.field(permission_classes=[IsReader])
    async def ask(
        self,
        info: Info[Context, None],
        question: str,
        sources: list[str] | None = None,
        collections: list[str] | None = None,
        session_id: str | None = None,
        top_k: int = 8,
        language: str | None = None,
    ) -> Answer:

        rt = info.context.runtime
        try:
            result = await rt.answerer.ask(
                question,
                sources=tuple(sources or ()),
                collections=tuple(collections or ()),
                session_id=session_id,
                top_k=max(1, min(top_k, 50)),
                language=language,
            )
        except FlowragError as exc:
            raise _translate(exc) from exc
        return Answer.of(result)

    @strawberry.field(permission_classes=[IsReader])
    async def search(
        self, info: Info[Context, None], text: str, labels: list[str] | None = None, top_k: int = 10
    ) -> list[ScoredNode]:
        from flowrag.answer.retrieval import domain_labels

        if not 1 <= top_k <= 100:
            raise GraphQLError("topK must be between 1 and 100", extensions={"code": "BAD_USER_INPUT"})
        rt = info.context.runtime
        try:
            wanted = [ONTOLOGY.label(lbl).label.value for lbl in labels] if labels else domain_labels()
            hits = await rt.answerer.retriever.search(text, wanted, top_k)
        except FlowragError as exc:
            raise _translate(exc) from exc
        return [ScoredNode(node=Node.of(h.node), score=h.score) for h in hits]

    @strawberry.field(permission_classes=[IsReader])
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        found = await info.context.nodes.load(str(id))
        return Node.of(found) if found else None

    @strawberry.field(permission_classes=[IsReader])
    async def neighbourhood(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        depth: int = 1,
        types: list[str] | None = None,
        cap: int = 25,
    ) -> Subgraph:
        from flowrag.graph.expansion import ExpansionStep, expand

        if not 1 <= depth <= 2:
            raise GraphQLError("depth must be 1 or 2", extensions={"code": "BAD_USER_INPUT"})
        try:
            hood = await expand(
                info.context.runtime.store,
                [str(id)],
                [ExpansionStep(tuple(types or ()), max(1, min(cap, 100)))] * depth,
            )
        except FlowragError as exc:
            raise _translate(exc) from exc
        return Subgraph(nodes=[Node.of(n) for n in hood.nodes], edges=[Edge.of(e) for e in hood.edges])

    @strawberry.field(
        permission_classes=[IsReader],
        description="The morning report of a local day (YYYY-MM-DD, 'today', default yesterday), built now from the store.",
    )
    async def report(
        self,
        info: Info[Context, None],
        date: str | None = None,
        language: str | None = None,
        chart_days: Annotated[
            int | None,
            strawberry.argument(
                description="days in the chart of runs per day, ending on the report's day (2..90)"
            ),
        ] = None,
    ) -> DailyReport:
        if language not in (None, "fr", "en"):
            raise GraphQLError("language must be fr or en", extensions={"code": "BAD_USER_INPUT"})
        if chart_days is not None and not 2 <= chart_days <= 90:
            raise GraphQLError("chartDays must be between 2 and 90", extensions={"code": "BAD_USER_INPUT"})
        service = _report_service(info)
        try:
            day = service.day(date)
            built = await service.build(day, language, chart_days)
        except FlowragError as exc:
            raise _translate(exc) from None
        return DailyReport.of(built, await service.deliveries(day))

    @strawberry.field(permission_classes=[IsReader])
    async def pipelines(
        self, info: Info[Context, None], name: str | None = None, first: int = 50, after: str | None = None
    ) -> NodeConnection:
        filters = [Filter("key", "=", name)] if name else []
        return await _page(info, "Pipeline", filters, first, after, order_by="key")

    @strawberry.field(permission_classes=[IsReader])
    async def runs(
        self,
        info: Info[Context, None],
        pipeline: str | None = None,
        status: str | None = None,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> NodeConnection:
        filters = []
        if pipeline:
            filters.append(Filter("pipeline", "=", pipeline))
        if status:
            filters.append(Filter("status", "=", status.upper()))
        if from_:
            filters.append(Filter("started_at", ">=", from_))
        if to:
            filters.append(Filter("started_at", "<", to))
        return await _page(info, "Run", filters, first, after, order_by="started_at", descending=True)

    @strawberry.field(permission_classes=[IsReader])
    async def endpoints(
        self,
        info: Info[Context, None],
        tag: str | None = None,
        method: str | None = None,
        path: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> NodeConnection:
        filters = []
        if method:
            filters.append(Filter("method", "=", method.upper()))
        if path:
            filters.append(Filter("path", "=", path))
        conn = await _page(
            info, "Endpoint", filters, 500 if tag else first, None if tag else after, order_by="key"
        )
        if tag:
            conn.nodes = [n for n in conn.nodes if tag in (n.props or {}).get("tags", [])][:first]
            conn.total = len(conn.nodes)
        return conn

    @strawberry.field(permission_classes=[IsReader])
    async def symbols(
        self,
        info: Info[Context, None],
        repo: str | None = None,
        kind: str = "Function",
        name: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> NodeConnection:
        if kind not in {"Function", "Class", "Route", "HttpCall", "File"}:
            raise GraphQLError(
                "kind must be Function, Class, Route, HttpCall or File", extensions={"code": "BAD_USER_INPUT"}
            )
        filters = []
        if repo:
            filters.append(Filter("scope", "=", repo))
        if name:
            filters.append(Filter("name", "=", name))
        return await _page(info, kind, filters, first, after, order_by="key")

    @strawberry.field(permission_classes=[IsReader])
    async def collections(self, info: Info[Context, None]) -> list[Node]:
        return [Node.of(n) for n in await info.context.runtime.store.find_nodes("Collection", limit=1000)]

    @strawberry.field(permission_classes=[IsReader])
    async def sources(self, info: Info[Context, None]) -> Sources:
        store = info.context.runtime.store
        stats = await store.stats()
        return Sources(
            nodes=[Count(name=k, count=v) for k, v in sorted(stats.nodes.items())],
            relationships=[Count(name=k, count=v) for k, v in sorted(stats.relationships.items())],
            collections=[Node.of(n) for n in await store.find_nodes("Collection", limit=1000)],
            specs=[Node.of(n) for n in await store.find_nodes("ApiSpec", limit=1000)],
            repositories=[Node.of(n) for n in await store.find_nodes("Repository", limit=1000)],
        )

    @strawberry.field(permission_classes=[IsReader])
    async def job(self, info: Info[Context, None], id: strawberry.ID) -> Job | None:
        state = await info.context.jobs.get(str(id))
        return Job.of(state) if state else None

    @strawberry.field(permission_classes=[IsReader])
    async def jobs(self, info: Info[Context, None], first: int = 50) -> list[Job]:
        return [Job.of(j) for j in await info.context.jobs.recent(max(1, min(first, 500)))]


def _policy(info: Info[Context, None]) -> Any:
    from flowrag.ingest.access import SourcePolicy

    api = info.context.runtime.settings.api
    return SourcePolicy(roots=tuple(api.ingest_roots), allowed_hosts=tuple(api.allowed_hosts))


def _allowed(info: Info[Context, None], location: str, *, mongo: bool = False) -> Any:
    """The server's source policy, after checking ``location`` against it (else a GraphQL error)."""
    policy = _policy(info)
    try:
        if mongo:
            policy.check_mongo(location)
        else:
            policy.check(location)
    except FlowragError as exc:
        raise GraphQLError(
            f"{exc.message}: {exc.hint}" if exc.hint else exc.message, extensions={"code": "FORBIDDEN"}
        ) from exc
    return policy


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[IsWriter])
    async def ingest_open_api(self, info: Info[Context, None], location: str, name: str | None = None) -> Job:
        from flowrag.ingest.openapi import ingest_openapi

        rt = info.context.runtime
        policy = _allowed(info, location)

        async def work(progress: Any) -> list[Any]:
            report = await ingest_openapi(rt.store, rt.embedder, location, name, policy=policy)
            progress(report.scope, report.read, report.read)
            return [report]

        return Job.of(await info.context.jobs.start("openapi", {"location": location, "name": name}, work))

    @strawberry.mutation(
        permission_classes=[IsWriter],
        description="Build and deliver a day's report to the configured channels (all by default) "
        "that do not have it yet; resend sends again.",
    )
    async def send_report(
        self,
        info: Info[Context, None],
        date: str | None = None,
        channels: list[str] | None = None,
        resend: bool = False,
    ) -> SendReportResult:
        service = _report_service(info)
        try:
            day = service.day(date)
            built, deliveries = await service.send(day, channels, resend=resend)
        except FlowragError as exc:
            raise _translate(exc) from None
        return SendReportResult(
            report=DailyReport.of(built, await service.deliveries(day)),
            deliveries=[ReportDelivery.of(d) for d in deliveries],
        )

    @strawberry.mutation(
        permission_classes=[IsWriter],
        description="Sync the live Delphix estate through the DCT v3 API (a background job). The "
        "API key is the server's FLOWRAG_DELPHIX__API_KEY, never an argument; the URL defaults to "
        "FLOWRAG_DELPHIX__URL and must pass the server's source policy.",
    )
    async def ingest_delphix(
        self,
        info: Info[Context, None],
        url: str | None = None,
        name: str | None = None,
        since: str | None = None,
        kinds: list[str] | None = None,
    ) -> Job:
        from flowrag.ingest.delphix import DctOptions, ingest_delphix

        rt = info.context.runtime
        try:
            options = DctOptions.from_settings(
                rt.settings.delphix, url=url, name=name, since=since, kinds=tuple(kinds or ())
            )
            options.listings()
        except FlowragError as exc:
            raise _translate(exc) from None
        policy = _allowed(info, options.base)

        async def work(progress: Any) -> list[Any]:
            return [await ingest_delphix(rt.store, rt.embedder, options, policy=policy, progress=progress)]

        params = {
            "url": options.url,
            "name": options.scope,
            "since": options.since,
            "kinds": list(options.kinds),
        }
        return Job.of(await info.context.jobs.start("delphix", params, work))

    @strawberry.mutation(permission_classes=[IsWriter])
    async def ingest_code(self, info: Info[Context, None], location: str, name: str | None = None) -> Job:
        from flowrag.ingest.code import ingest_code

        rt = info.context.runtime
        _allowed(info, location)

        async def work(progress: Any) -> list[Any]:
            return [await ingest_code(rt.store, rt.embedder, location, name, progress)]

        return Job.of(await info.context.jobs.start("code", {"location": location, "name": name}, work))

    @strawberry.mutation(permission_classes=[IsWriter])
    async def ingest_mongo(
        self,
        info: Info[Context, None],
        uri: str,
        db: str,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        limit: int | None = None,
        full: bool = False,
    ) -> Job:
        from flowrag.ingest.monitoring import MongoOptions, ingest_mongo

        rt = info.context.runtime
        _allowed(info, uri, mongo=True)
        # the same mappings, filters and codes as `flowrag ingest mongo`
        options = MongoOptions.from_settings(
            uri,
            db,
            rt.settings.mongo,
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
            limit=limit,
            full=full,
        )

        async def work(progress: Any) -> list[Any]:
            return await ingest_mongo(rt.store, rt.embedder, rt.vocabulary, options, progress, nlp=rt.nlp)

        safe_uri = uri.split("@", 1)[-1]  # never store credentials in the job record
        return Job.of(await info.context.jobs.start("mongo", {"uri": safe_uri, "db": db, "full": full}, work))

    @strawberry.mutation(permission_classes=[IsWriter])
    async def ingest_html(self, info: Info[Context, None], location: str, site: str | None = None) -> Job:
        from flowrag.ingest.html import ingest_html

        rt = info.context.runtime
        policy = _allowed(info, location)

        async def work(progress: Any) -> list[Any]:
            report = await ingest_html(rt.store, rt.embedder, location, site, policy=policy)
            progress(report.scope, report.read, report.read)
            return [report]

        return Job.of(await info.context.jobs.start("html", {"location": location, "site": site}, work))

    @strawberry.mutation(permission_classes=[IsWriter])
    async def cancel_job(self, info: Info[Context, None], id: strawberry.ID) -> Job | None:
        state = await info.context.jobs.cancel(str(id))
        return Job.of(state) if state else None


@strawberry.type
class AskEvent:
    """One event of ``askStream``: a piece of answer text, then (last) the complete answer."""

    token: str | None = None
    answer: Answer | None = None


@strawberry.type
class Subscription:
    @strawberry.subscription(permission_classes=[IsReader])
    async def job_progress(self, info: Info[Context, None], id: strawberry.ID) -> AsyncGenerator[Job, None]:
        async for state in info.context.jobs.follow(str(id)):
            yield Job.of(state)

    @strawberry.subscription(permission_classes=[IsReader])
    async def ask_stream(
        self,
        info: Info[Context, None],
        question: str,
        sources: list[str] | None = None,
        collections: list[str] | None = None,
        session_id: str | None = None,
        top_k: int = 8,
        language: str | None = None,
    ) -> AsyncGenerator[AskEvent, None]:
        """``ask``, with the answer's tokens pushed as the LLM writes them."""
        from flowrag.answer.service import AnswerResult

        rt = info.context.runtime
        stream = rt.answerer.ask_stream(
            question,
            sources=tuple(sources or ()),
            collections=tuple(collections or ()),
            session_id=session_id,
            top_k=max(1, min(top_k, 50)),
            language=language,
        )
        try:
            async for item in stream:
                if isinstance(item, AnswerResult):
                    yield AskEvent(answer=Answer.of(item))
                else:
                    yield AskEvent(token=item)
        except FlowragError as exc:
            raise _translate(exc) from exc


def _should_mask(error: GraphQLError) -> bool:
    """Expected errors (with a code) go to the client; anything else is masked."""
    original = error.original_error
    if original is None:
        return False  # validation/parse errors are for the client
    if isinstance(original, GraphQLError):
        return False
    return not (error.extensions or {}).get("code")


def root_field_limit(limit: int) -> type[ValidationRule]:
    """A validation rule: at most ``limit`` root fields per operation, aliases and fragments
    included (200 aliased ``ask`` fields in one request would stall the server)."""

    class RootFieldLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = 0
            stack = list(node.selection_set.selections)
            seen: set[str] = set()
            while stack:
                selection = stack.pop()
                if isinstance(selection, FieldNode):
                    if not selection.name.value.startswith("__"):
                        count += 1
                elif isinstance(selection, InlineFragmentNode):
                    stack += selection.selection_set.selections
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                    seen.add(selection.name.value)
                    fragment = self.context.get_fragment(selection.name.value)
                    if fragment is not None:
                        stack += fragment.selection_set.selections
            if count > limit:
                self.report_error(
                    GraphQLError(
                        f"an operation may select at most {limit} root fields, this one selects {count}"
                    )
                )

    return RootFieldLimit


# The cost of a request: every selected field counts once per item it can be resolved for (a page
# size — `first`, `topK`, `cap` — multiplies what is selected below it: a literal counts as given,
# a variable at the argument's upper bound), and the fields that run the answer path, the report
# or a Mongo sample count as many fields. Introspection counts too (the depth limit skips it).
PAGE_ARGUMENTS = {"first": 500, "topK": 100, "cap": 200}
HEAVY_FIELDS = {"ask": 200, "askStream": 200, "report": 100, "sendReport": 100, "inspectMongo": 100}


def cost_limit(limit: int) -> type[ValidationRule]:
    """A validation rule: refuse an operation whose cost (above) exceeds ``limit``."""

    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = selection_depth(node.selection_set.selections, self.context.get_fragment)
            if depth > _introspection_depth():
                self.report_error(
                    GraphQLError(
                        f"this operation nests {depth} levels, over the limit of {_introspection_depth()} "
                        "(the standard introspection query's depth; introspection included)"
                    )
                )
                return
            total = self._cost(node.selection_set.selections, 1, frozenset())
            if total > limit:
                self.report_error(
                    GraphQLError(
                        f"this operation costs {total:,} (fields times page sizes), over the limit of "
                        f"{limit:,}: select fewer fields or ask for smaller pages"
                    )
                )

        def _cost(self, selections: Any, multiplier: int, fragments: frozenset[str]) -> int:
            total = 0
            for selection in selections:
                if isinstance(selection, FieldNode):
                    total += multiplier * HEAVY_FIELDS.get(selection.name.value, 1)
                    if selection.selection_set is not None:
                        total += self._cost(
                            selection.selection_set.selections, multiplier * _page_size(selection), fragments
                        )
                elif isinstance(selection, InlineFragmentNode):
                    total += self._cost(selection.selection_set.selections, multiplier, fragments)
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in fragments:
                    fragment = self.context.get_fragment(selection.name.value)
                    if fragment is not None:
                        total += self._cost(
                            fragment.selection_set.selections, multiplier, fragments | {selection.name.value}
                        )
                if total > 10**9:  # enough to refuse; stop walking
                    return total
            return total

    return CostLimit


def selection_depth(
    selections: Any, fragment: Callable[[str], Any], seen: frozenset[str] = frozenset()
) -> int:
    """How deep ``selections`` nest, fragments followed (each once per path), ``__`` fields included."""
    deepest = 0
    for selection in selections:
        if isinstance(selection, FieldNode):
            below = (
                selection_depth(selection.selection_set.selections, fragment, seen)
                if selection.selection_set
                else 0
            )
            deepest = max(deepest, 1 + below)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, selection_depth(selection.selection_set.selections, fragment, seen))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            found = fragment(selection.name.value)
            if found is not None:
                names = seen | {selection.name.value}
                deepest = max(deepest, selection_depth(found.selection_set.selections, fragment, names))
    return deepest


@functools.cache
def _introspection_depth() -> int:
    """How deep the standard introspection query (what GraphiQL sends) nests: no operation may
    nest deeper, introspection included (the depth limit of the API's own fields is lower)."""
    from graphql import get_introspection_query, parse

    document = parse(get_introspection_query(descriptions=True, input_value_deprecation=True))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return selection_depth(operation.selection_set.selections, fragments.get)


def _page_size(field: FieldNode) -> int:
    for argument in field.arguments or ():
        bound = PAGE_ARGUMENTS.get(argument.name.value)
        if bound is None:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(1, min(int(value.value), bound))
        return bound  # a variable: its value is not known at validation
    return 1


def build_schema(
    max_depth: int, max_root_fields: int = 10, max_cost: int = 50_000, timer: type[Any] | None = None
) -> strawberry.Schema:
    """``timer``: a schema extension timing each operation (the server's metrics)."""
    extensions: list[Any] = [
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: AddValidationRules([root_field_limit(max_root_fields), cost_limit(max_cost)]),
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="internal error"),
    ]
    if timer is not None:
        extensions.insert(0, timer)
    return strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions)

"""The GraphQL queries: ask, search, explore, typed domain lists, reports, the mapping preview."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import strawberry
from graphql import (
    GraphQLError,
)
from strawberry.types import Info

from flowrag.api.enums import LabelName, RelationshipType, RunStatus, SourceName, values
from flowrag.api.report_types import DailyReport
from flowrag.api.types import (
    Answer,
    CollectionMapping,
    Context,
    Count,
    Edge,
    IsReader,
    IsWriter,
    Job,
    Node,
    NodeConnection,
    PageInfo,
    ScoredNode,
    Sources,
    Subgraph,
)
from flowrag.errors import FlowragError
from flowrag.graph.port import Filter


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
        sources: list[SourceName] | None = None,
        collections: list[str] | None = None,
        session_id: str | None = None,
        top_k: int = 8,
        language: str | None = None,
    ) -> Answer:

        rt = info.context.runtime
        try:
            result = await rt.answerer.ask(
                question,
                sources=tuple(values(sources)),
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
        self, info: Info[Context, None], text: str, labels: list[LabelName] | None = None, top_k: int = 10
    ) -> list[ScoredNode]:
        from flowrag.answer.retrieval import domain_labels

        if not 1 <= top_k <= 100:
            raise GraphQLError("topK must be between 1 and 100", extensions={"code": "BAD_USER_INPUT"})
        rt = info.context.runtime
        try:
            wanted = values(labels) or domain_labels()
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
        types: list[RelationshipType] | None = None,
        cap: int = 25,
    ) -> Subgraph:
        from flowrag.graph.expansion import ExpansionStep, expand

        if not 1 <= depth <= 2:
            raise GraphQLError("depth must be 1 or 2", extensions={"code": "BAD_USER_INPUT"})
        try:
            hood = await expand(
                info.context.runtime.store,
                [str(id)],
                [ExpansionStep(tuple(values(types)), max(1, min(cap, 100)))] * depth,
            )
        except FlowragError as exc:
            raise _translate(exc) from exc
        return Subgraph(nodes=[Node.of(n) for n in hood.nodes], edges=[Edge.of(e) for e in hood.edges])

    @strawberry.field(
        permission_classes=[IsReader],
        description="The morning report of a local day (YYYY-MM-DD, 'today', default yesterday), or of the "
        "days ending on it, over some collections or all, built now from the store.",
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
        days: Annotated[
            int,
            strawberry.argument(
                description="local days counted, ending on the report's day (1..90): failures, causes and "
                "trends of a week with 7; trends compare with as many periods of that length before it"
            ),
        ] = 1,
        collections: Annotated[
            list[str] | None,
            strawberry.argument(description="count only the runs of these Mongo collections (default all)"),
        ] = None,
    ) -> DailyReport:
        if language not in (None, "fr", "en"):
            raise GraphQLError("language must be fr or en", extensions={"code": "BAD_USER_INPUT"})
        if chart_days is not None and not 2 <= chart_days <= 90:
            raise GraphQLError("chartDays must be between 2 and 90", extensions={"code": "BAD_USER_INPUT"})
        service = _report_service(info)
        try:
            day = service.day(date)
            built = await service.build(day, language, chart_days, days=days, collections=collections or ())
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
        status: RunStatus | None = None,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> NodeConnection:
        filters = []
        if pipeline:
            filters.append(Filter("pipeline", "=", pipeline))
        if status:
            filters.append(Filter("status", "=", values([status])[0]))
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

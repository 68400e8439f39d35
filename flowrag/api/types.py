"""The GraphQL types a client sees (nodes, edges, answers with their plan and citations, jobs), the
request context and the read/write permissions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from flowrag.api.jobs import JobManager, JobState
from flowrag.graph.port import StoredEdge, StoredNode
from flowrag.runtime import Runtime
from flowrag.schema import ONTOLOGY
from flowrag.schema.ontology import PROVENANCE


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
class AskEvent:
    """One event of ``askStream``: a piece of answer text, then (last) the complete answer."""

    token: str | None = None
    answer: Answer | None = None

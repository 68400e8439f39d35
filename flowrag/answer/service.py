"""The answer path: plan -> (aggregate query | hybrid retrieval) -> context -> LLM or extractive."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flowrag import tracing
from flowrag.answer.aggregates import GroupValues, describe, plan_aggregate
from flowrag.answer.context import (
    EvidenceItem,
    browser_cypher,
    build_context,
    cut_at_boundary,
    render_evidence,
)
from flowrag.answer.estate import answer_estate, plan_estate
from flowrag.answer.llm import NO_ANSWER, SYSTEM_PROMPTS, LLMClient
from flowrag.answer.planner import Plan, explain, plan_question
from flowrag.answer.retrieval import STRATEGIES, Evidence, Retriever
from flowrag.answer.run_answers import answer_aggregate, group_values
from flowrag.answer.sessions import SessionStore, Turn, rewrite_follow_up
from flowrag.errors import LLMError, PlanError
from flowrag.graph.port import GraphStore, StoredEdge, StoredNode
from flowrag.models.embeddings import Embedder
from flowrag.models.nlp import NLP, detect_language
from flowrag.settings import LLMSettings

__all__ = ["AnswerResult", "Answerer", "Citation"]

log = logging.getLogger(__name__)
_CITE = re.compile(r"\[(\d{1,3})\]")


@dataclass(frozen=True)
class Citation:
    number: int
    uid: str
    label: str
    provenance: str
    snippet: str
    score: float


@dataclass
class AnswerResult:
    question: str
    answer: str
    mode: str  # "llm" | "extractive" | "no-answer"
    language: str
    citations: list[Citation]
    nodes: list[StoredNode]
    edges: list[StoredEdge]
    cypher: str
    timings: dict[str, float]
    plan: Plan
    session_id: str | None = None
    notes: list[str] = field(default_factory=list)
    route: str = "retrieval"  # "retrieval" | "aggregate" | "estate"
    confidence: str = "strong"  # "strong" | "weak" | "off-topic" (relevance against the store)
    relevance: str = ""  # why, in numbers
    timezone: str = "UTC"  # the zone whose days "hier" and "depuis lundi" mean
    aggregate: dict[str, Any] | None = None  # the typed aggregate over runs (route "aggregate")
    estate: dict[str, Any] | None = None  # the walk over the live Delphix estate (route "estate")

    @property
    def plan_info(self) -> dict[str, Any]:
        info = explain(self.plan, self.route, self.timezone)
        info["confidence"] = self.confidence
        info["relevance"] = self.relevance
        info["aggregate"] = self.aggregate
        info["estate"] = self.estate
        return info

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "mode": self.mode,
            "language": self.language,
            "citations": [c.__dict__ for c in self.citations],
            "nodes": [{"uid": n.uid, "label": n.label, "name": n.name} for n in self.nodes],
            "edges": [{"type": e.type, "start": e.start, "end": e.end} for e in self.edges],
            "cypher": self.cypher,
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
            "session_id": self.session_id,
            "notes": self.notes,
            "plan": self.plan_info,
        }


@dataclass
class _Prepared:
    """Everything an answer needs before the text is generated."""

    question: str
    plan: Plan
    items: list[EvidenceItem]
    edges: list[StoredEdge]
    summary: str | None
    history: list[Turn]
    session_id: str | None
    timings: dict[str, float]
    started: float
    notes: list[str] = field(default_factory=list)
    route: str = "retrieval"
    confidence: str = "strong"
    relevance: str = ""
    timezone: str = "UTC"
    aggregate: dict[str, Any] | None = None
    estate: dict[str, Any] | None = None


@dataclass
class _Gathered:
    """The evidence of one planned question and how it was found."""

    items: list[EvidenceItem]
    edges: list[StoredEdge]
    summary: str | None
    aggregate_info: dict[str, Any] | None
    estate_info: dict[str, Any] | None
    route: str
    confidence: str
    relevance: str
    notes: list[str]


def _trace_facts(result: AnswerResult) -> dict[str, Any]:
    """What the root span of an answer says about it (no question or evidence text)."""
    return {
        "route": result.route,
        "confidence": result.confidence,
        "language": result.language,
        "mode": result.mode,
        "citations": len(result.citations),
    }


_LABEL = {
    "fr": "Réponse extractive (aucun LLM configuré ou joignable) — faits tirés du graphe :",
    "en": "Extractive answer (no LLM configured or reachable) — facts from the graph:",
}


def _fmt_day(iso: str) -> str:
    return iso.replace("T", " ").replace("Z", " UTC")


class Answerer:
    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        nlp: NLP,
        llm: LLMSettings,
        strategy: str = "balanced",
        timezone: str = "UTC",
    ) -> None:
        self.timezone = timezone
        self._store = store
        self._embedder = embedder
        self._nlp = nlp
        self._llm = LLMClient(llm)
        self._llm_settings = llm
        self._retriever = Retriever(store, embedder, STRATEGIES[strategy])
        self.sessions = SessionStore(store)
        self._values: GroupValues | None = None  # the store's group keys, for aggregate filters
        self._has_runs: bool | None = None
        self._has_estate: bool | None = None

    def invalidate(self) -> None:
        """The store changed (an ingestion finished): relevance background and the group values
        aggregates filter by are read again."""
        self._retriever.invalidate()
        self._values = None
        self._has_runs = None
        self._has_estate = None

    @property
    def retriever(self) -> Retriever:
        return self._retriever

    async def ask(
        self,
        question: str,
        *,
        sources: tuple[str, ...] = (),
        collections: tuple[str, ...] = (),
        session_id: str | None = None,
        top_k: int = 8,
        language: str | None = None,
        now: datetime | None = None,
        use_llm: bool = True,
        timezone: str | None = None,
    ) -> AnswerResult:
        with tracing.span("flowrag.ask", question_chars=len(question), top_k=top_k) as root:
            prepared = await self._prepare(
                question, sources, collections, session_id, top_k, language, now, timezone
            )
            if not prepared.items:
                result = await self._finish(prepared, NO_ANSWER[prepared.plan.language], "no-answer")
            elif not (use_llm and self._llm.configured):
                result = await self._finish(prepared, self._extractive(prepared), "extractive")
            else:
                t0 = time.perf_counter()
                with tracing.span(
                    "flowrag.llm", model=self._llm_settings.model, evidence=len(prepared.items)
                ) as llm:
                    try:
                        answer, mode = await self._llm.complete(self._messages(prepared)), "llm"
                    except LLMError as exc:
                        prepared.notes.append(exc.message)
                        answer, mode = self._extractive(prepared), "extractive"
                    tracing.annotate(llm, mode=mode, answer_chars=len(answer))
                prepared.timings["llm_ms"] = (time.perf_counter() - t0) * 1000
                result = await self._finish(prepared, answer, mode)
            tracing.annotate(root, **_trace_facts(result))
            return result

    async def ask_stream(
        self,
        question: str,
        *,
        sources: tuple[str, ...] = (),
        collections: tuple[str, ...] = (),
        session_id: str | None = None,
        top_k: int = 8,
        language: str | None = None,
        now: datetime | None = None,
        timezone: str | None = None,
    ) -> AsyncIterator[str | AnswerResult]:
        """The answer's text as it is generated (LLM tokens, or the extractive answer in one piece),
        then the complete :class:`AnswerResult` (citations, subgraph, timings) as the last item."""
        # spans are started, not made current: the generator's yields would leak their context
        root = tracing.start("flowrag.ask", question_chars=len(question), top_k=top_k, streamed=True)
        llm = None
        error: BaseException | None = None
        try:
            with tracing.within(root):
                prepared = await self._prepare(
                    question, sources, collections, session_id, top_k, language, now, timezone
                )
            if not prepared.items or not self._llm.configured:
                answer = (
                    NO_ANSWER[prepared.plan.language] if not prepared.items else self._extractive(prepared)
                )
                yield answer
                result = await self._finish(
                    prepared, answer, "no-answer" if not prepared.items else "extractive"
                )
                tracing.annotate(root, **_trace_facts(result))
                yield result
                return
            t0 = time.perf_counter()
            with tracing.within(root):
                llm = tracing.start(
                    "flowrag.llm", model=self._llm_settings.model, evidence=len(prepared.items)
                )
            parts: list[str] = []
            try:
                async for token in self._llm.stream(self._messages(prepared)):
                    parts.append(token)
                    yield token
                mode = "llm"
            except LLMError as exc:
                prepared.notes.append(exc.message)
                fallback = self._extractive(prepared)
                mode = "extractive"
                if parts:  # the stream broke midway: say so, then give the extractive answer
                    fallback = "\n\n" + fallback
                parts.append(fallback)
                yield fallback
            tracing.finish(llm, mode=mode, answer_chars=sum(len(p) for p in parts))
            llm = None
            prepared.timings["llm_ms"] = (time.perf_counter() - t0) * 1000
            result = await self._finish(prepared, "".join(parts), mode)
            tracing.annotate(root, **_trace_facts(result))
            yield result
        except BaseException as exc:
            error = exc if not isinstance(exc, GeneratorExit) else None
            raise
        finally:
            tracing.finish(llm, error)
            tracing.finish(root, error)

    async def _prepare(
        self,
        question: str,
        sources: tuple[str, ...],
        collections: tuple[str, ...],
        session_id: str | None,
        top_k: int,
        language: str | None,
        now: datetime | None,
        timezone: str | None = None,
    ) -> _Prepared:
        zone_name = timezone or self.timezone
        zone = ZoneInfo(zone_name)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        history = await self.sessions.history(session_id) if session_id else []
        retrieval_question = rewrite_follow_up(question, history)
        known = tuple(n.key for n in await self._store.find_nodes("Collection", limit=500))
        missing = [c for c in collections if c not in known]
        if missing:
            raise PlanError(
                f"no collection {missing[0]!r} in the store",
                hint=(
                    f"collections: {', '.join(sorted(known))}"
                    if known
                    else "no monitoring data is ingested yet"
                )
                + " (flowrag stats lists what is ingested)",
            )
        t0 = time.perf_counter()
        with tracing.span("flowrag.plan", follow_up=retrieval_question != question) as traced:
            plan = plan_question(
                retrieval_question,
                self._nlp,
                now=now,
                sources=sources,
                collections=collections,
                language=language,
                known_collections=known,
                tz=zone,
            )
            if language is None and retrieval_question != question:
                plan = Plan(**{**plan.__dict__, "language": detect_language(question)})
            tracing.annotate(
                traced, language=plan.language, sources=plan.sources, windowed=plan.window is not None
            )
        timings["plan_ms"] = (time.perf_counter() - t0) * 1000
        with tracing.span("flowrag.retrieve") as traced:
            found = await self._gather(plan, top_k, now, zone, timings)
            tracing.annotate(
                traced, route=found.route, confidence=found.confidence, evidence=len(found.items)
            )
        return _Prepared(
            question,
            plan,
            found.items,
            found.edges,
            found.summary,
            history,
            session_id,
            timings,
            started,
            found.notes,
            found.route,
            found.confidence,
            found.relevance,
            zone_name,
            found.aggregate_info,
            found.estate_info,
        )

    async def _gather(
        self, plan: Plan, top_k: int, now: datetime | None, zone: ZoneInfo, timings: dict[str, float]
    ) -> _Gathered:
        """The evidence of a planned question, by the route it takes: the live estate, an
        aggregate over runs, or graph retrieval."""
        t0 = time.perf_counter()
        summary: str | None = None
        aggregate_info: dict[str, Any] | None = None
        estate_info: dict[str, Any] | None = None
        notes: list[str] = []
        route, confidence, relevance = "retrieval", "strong", ""
        # run aggregates only when the store holds runs (a question about "chaînes" on an API-only
        # store is answered from what the store does hold)
        agg = None
        if self._has_estate is None:  # once per store generation, as for runs
            self._has_estate = any(
                [await self._store.count_nodes(label) > 0 for label in ("Vdb", "DSource", "DelphixJob")]
            )
        estate = await plan_estate(self._store, plan, self._nlp) if self._has_estate else None
        if estate is None:
            if self._has_runs is None:  # once per store generation (a sort-free count on both stores)
                self._has_runs = await self._store.count_nodes("Run") > 0
            if self._has_runs:
                if self._values is None:
                    self._values = await group_values(self._store)
                agg = plan_aggregate(
                    plan, self._nlp, self._values, limit=max(top_k, 10), now=now or datetime.now(UTC), tz=zone
                )
        if estate is not None:
            route = "estate"
            walked = await answer_estate(self._store, estate, plan.language, top_k)
            items, edges, summary = walked.items, walked.edges, walked.summary
            estate_info = {
                "labels": list(estate.labels),
                "anchors": [a.uid for a in estate.anchors],
                "negate": estate.negate,
                "statuses": list(estate.statuses),
                "latest": estate.latest,
                "counts": walked.counts,
            }
            timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        elif agg is not None:
            route = "aggregate"
            window = (
                f"{_fmt_day(plan.window.start)} → {_fmt_day(plan.window.end)}"
                if plan.window
                else ("toute la période" if plan.language == "fr" else "all time")
            )
            found = await answer_aggregate(self._store, agg, plan.language, top_k, window)
            items, edges, summary = found.items, found.edges, found.summary
            agg = found.agg or agg  # grouped by flow when the asked dimension has no values
            aggregate_info = describe(agg) | {
                "total": found.result.total,
                "group_count": found.result.group_count,
                "previous_total": found.previous_total,
                "groups": [
                    {"key": g.key, "count": g.count, "runs": g.runs, "last": g.last}
                    for g in found.result.groups
                ],
            }
            timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        else:
            evidence = await self._retriever.retrieve(plan)
            timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
            timings.update({f"retrieve.{k}": v for k, v in evidence.timings.items()})
            if evidence.judgement is not None:
                confidence, relevance = evidence.judgement.verdict, evidence.judgement.reason
            if evidence.bridged:
                bridged = "; ".join(f"{w} → {', '.join(t)}" for w, t in evidence.bridged.items())
                notes.append(f"corpus words for question words it lacks: {bridged}")
            if confidence == "weak":
                notes.append(f"low confidence: {relevance}")
            elif confidence == "off-topic" and not evidence.nodes:
                notes.append(f"no answer: {relevance}")
            items = build_context(
                evidence.nodes[: top_k * 3], evidence.scores, self._llm_settings.context_tokens
            )
            edges = self._edges(evidence, items)
        return _Gathered(
            items, edges, summary, aggregate_info, estate_info, route, confidence, relevance, notes
        )

    async def _finish(self, prepared: _Prepared, answer: str, mode: str) -> AnswerResult:
        cited = {int(n) for n in _CITE.findall(answer)}
        citations = [
            Citation(
                i.number,
                i.node.uid,
                i.node.label,
                i.provenance,
                cut_at_boundary(i.snippet, 300),
                round(i.score, 4),
            )
            for i in prepared.items
            if mode != "llm" or i.number in cited or not cited
        ]
        if prepared.session_id:
            await self.sessions.append(prepared.session_id, prepared.question, answer)
        prepared.timings["total_ms"] = (time.perf_counter() - prepared.started) * 1000
        nodes = [i.node for i in prepared.items]
        return AnswerResult(
            prepared.question,
            answer,
            mode,
            prepared.plan.language,
            citations,
            nodes,
            prepared.edges,
            browser_cypher([n.uid for n in nodes]),
            prepared.timings,
            prepared.plan,
            prepared.session_id,
            prepared.notes,
            prepared.route,
            prepared.confidence,
            prepared.relevance,
            prepared.timezone,
            prepared.aggregate,
            prepared.estate,
        )

    @staticmethod
    def _edges(evidence: Evidence, items: list[EvidenceItem]) -> list[StoredEdge]:
        kept = {i.node.uid for i in items}
        return [e for e in evidence.edges if e.start in kept and e.end in kept]

    def _messages(self, prepared: _Prepared) -> list[dict[str, str]]:
        plan, items, history, summary = prepared.plan, prepared.items, prepared.history, prepared.summary
        messages = [{"role": "system", "content": SYSTEM_PROMPTS[plan.language]}]
        for turn in history[-3:]:
            messages += [
                {"role": "user", "content": turn.question},
                {"role": "assistant", "content": turn.answer[:800]},
            ]
        block = render_evidence(items)
        if summary:
            block = f"{summary}\n\n{block}"
        messages.append({"role": "user", "content": f"{block}\n\nQuestion : {plan.question}"})
        return messages

    def _extractive(self, prepared: _Prepared) -> str:
        plan, items, summary = prepared.plan, prepared.items, prepared.summary
        lang = plan.language
        lines = [_LABEL[lang]]
        if summary:
            lines.append(summary)
        for item in items[:6]:
            text = cut_at_boundary(item.snippet, 280).replace("\n", " ")
            lines.append(
                f"- [{item.number}] {item.node.label} « {item.node.name} » ({item.provenance}) : {text}"
                if lang == "fr"
                else f'- [{item.number}] {item.node.label} "{item.node.name}" ({item.provenance}): {text}'
            )
        return "\n".join(lines)

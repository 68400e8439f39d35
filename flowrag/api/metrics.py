"""Prometheus metrics of one ``flowrag serve`` process, at ``GET /metrics`` (read scope).

- ``flowrag_request_seconds{operation}``: latency of each GraphQL operation, labelled by its root
  fields (``ask``, ``search``, ``runs,report``…; the label set is bounded by the schema);
- ``flowrag_ingested_items_total{source,outcome}``: what ingestion jobs read, created, updated,
  left unchanged, deleted, skipped, and their errors, per source;
- ``flowrag_jobs{state}``: ingestion jobs of this process by state;
- ``flowrag_store_nodes{label}`` / ``flowrag_store_relationships{type}``: store size, read at scrape
  time (one query);
- ``flowrag_embedding_cache_{hits,misses}_total`` and ``flowrag_embedding_cache_hit_ratio``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from strawberry.extensions import SchemaExtension

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_OUTCOMES = ("read", "created", "updated", "unchanged", "deleted", "relationships", "embedded")


class _CacheCollector:
    """Embedding cache counters, read from the live embedder at scrape time."""

    def __init__(self, embedder: Callable[[], Any]) -> None:
        self._embedder = embedder

    def collect(self) -> Iterator[Any]:
        embedder = self._embedder()
        hits = float(getattr(embedder, "hits", 0))
        misses = float(getattr(embedder, "misses", 0))
        yield CounterMetricFamily("flowrag_embedding_cache_hits", "Texts served by the cache.", hits)
        yield CounterMetricFamily("flowrag_embedding_cache_misses", "Texts sent to the model.", misses)
        ratio = hits / (hits + misses) if hits + misses else 0.0
        yield GaugeMetricFamily("flowrag_embedding_cache_hit_ratio", "hits / (hits + misses).", ratio)


class Metrics:
    def __init__(self, embedder: Callable[[], Any]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "flowrag_request_seconds",
            "GraphQL operation latency, by root fields.",
            ["operation"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.ingested = Counter(
            "flowrag_ingested_items",
            "Items handled by ingestion jobs, by source and outcome.",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.jobs = Gauge(
            "flowrag_jobs", "Ingestion jobs of this process, by state.", ["state"], registry=self.registry
        )
        self.nodes = Gauge(
            "flowrag_store_nodes", "Nodes in the store, by label.", ["label"], registry=self.registry
        )
        self.relationships = Gauge(
            "flowrag_store_relationships",
            "Relationships in the store, by type.",
            ["type"],
            registry=self.registry,
        )
        self.registry.register(_CacheCollector(embedder))  # type: ignore[arg-type]

    def ingestion_finished(self, reports: Sequence[Any]) -> None:
        for report in reports:
            for outcome in _OUTCOMES:
                self.ingested.labels(report.source, outcome).inc(getattr(report, outcome, 0))
            self.ingested.labels(report.source, "skipped").inc(sum(dict(report.skipped).values()))
            self.ingested.labels(report.source, "errors").inc(len(report.errors))

    async def render(self, store: Any, jobs: Sequence[Any]) -> bytes:
        stats = await store.stats()
        for label, count in stats.nodes.items():
            self.nodes.labels(label).set(count)
        for kind, count in stats.relationships.items():
            self.relationships.labels(kind).set(count)
        states: dict[str, int] = {}
        for job in jobs:
            states[job.state] = states.get(job.state, 0) + 1
        for state in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"):
            self.jobs.labels(state).set(states.get(state, 0))
        return generate_latest(self.registry)

    def extension(self) -> type[SchemaExtension]:
        """A schema extension timing every operation into :attr:`requests`."""
        histogram = self.requests

        class OperationTimer(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                started = time.perf_counter()
                yield
                histogram.labels(_operation(self.execution_context)).observe(time.perf_counter() - started)

        return OperationTimer


_ROOTS: dict[int, frozenset[str]] = {}


def _roots(schema: Any) -> frozenset[str]:
    """The schema's root field names (a label only ever holds these: bounded cardinality)."""
    core = getattr(schema, "_schema", None)
    if core is None:
        return frozenset()
    if id(core) not in _ROOTS:
        names = {"__schema", "__type", "__typename"}
        for kind in (core.query_type, core.mutation_type, core.subscription_type):
            if kind is not None:
                names.update(kind.fields)
        _ROOTS[id(core)] = frozenset(names)
    return _ROOTS[id(core)]


def _operation(context: Any) -> str:
    """The operation's root fields (``ask``, ``report,runs``); ``invalid`` when it did not parse,
    ``other`` for a name the schema does not have (a label never holds a caller's text)."""
    document = getattr(context, "graphql_document", None)
    if document is None:
        return "invalid"
    known = _roots(getattr(context, "schema", None))
    fields: set[str] = set()
    for definition in document.definitions:
        selection_set = getattr(definition, "selection_set", None)
        for selection in getattr(selection_set, "selections", ()) or ():
            name = getattr(getattr(selection, "name", None), "value", None)
            if name:
                fields.add(name if name in known else "other")
    return ",".join(sorted(fields)[:4]) or "fragment"

"""OpenTelemetry traces, exported by the real OTLP/HTTP exporter to a loopback receiver that decodes
them with the OTLP protobuf definitions: one trace per question, plan → retrieve → LLM under
``flowrag.ask`` (asked and streamed, with a real llama.cpp server), the report's span, and no
question or evidence text in any attribute."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from flowrag import tracing
from flowrag.answer.service import Answerer, AnswerResult
from flowrag.errors import ConfigError
from flowrag.graph.embedded import EmbeddedStore
from flowrag.settings import OtelSettings
from tests.conftest import TEST_DIMENSION
from tests.integration.test_answer import NOW, load_example
from tests.integration.test_llm import llm_settings
from tests.support import report_data as data
from tests.support.llm_server import LlamaServer

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is part of the test install")


class _Collector(BaseHTTPRequestHandler):
    spans: ClassVar[list[dict[str, Any]]] = []
    paths: ClassVar[list[str]] = []

    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        type(self).paths.append(self.path)
        for resource in request.resource_spans:
            service = next(
                a.value.string_value for a in resource.resource.attributes if a.key == "service.name"
            )
            for scope in resource.scope_spans:
                for span in scope.spans:
                    attributes = {}
                    for a in span.attributes:
                        value = a.value
                        kind = value.WhichOneof("value")
                        attributes[a.key] = (
                            [v.string_value for v in value.array_value.values]
                            if kind == "array_value"
                            else getattr(value, kind)
                        )
                    type(self).spans.append(
                        {
                            "name": span.name,
                            "trace": span.trace_id.hex(),
                            "id": span.span_id.hex(),
                            "parent": span.parent_span_id.hex(),
                            "attributes": attributes,
                            "status": span.status.code,
                            "service": service,
                            "ms": (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6,
                        }
                    )
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def collector() -> Iterator[str]:
    _Collector.spans, _Collector.paths = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        tracing.shutdown()
        server.shutdown()


def _tree(spans: list[dict[str, Any]], root: dict[str, Any]) -> dict[str, list[str]]:
    """Span names under ``root``, by parent name."""
    by_id = {s["id"]: s for s in spans if s["trace"] == root["trace"]}
    out: dict[str, list[str]] = {}
    for s in by_id.values():
        if s["parent"] in by_id:
            out.setdefault(by_id[s["parent"]]["name"], []).append(s["name"])
    return {k: sorted(v) for k, v in out.items()}


async def test_a_question_is_one_trace_plan_retrieve_llm(
    tmp_path: Path, collector: str, cached_embedder: Any, nlp: Any, llama_server: LlamaServer
) -> None:
    assert tracing.configure(
        OtelSettings(endpoint=f"{collector}/v1/traces", service_name="flowrag-test", flush_ms=100)
    )
    store = EmbeddedStore.open(tmp_path / "graph")
    await store.migrate(TEST_DIMENSION)
    try:
        await load_example(store, cached_embedder)
        answerer = Answerer(store, cached_embedder, nlp, llm_settings(llama_server))
        question = "Quels flows ont échoué hier et pourquoi ?"
        asked = await answerer.ask(question, now=NOW)
        streamed = [
            i
            async for i in answerer.ask_stream("Which code calls the Delphix VDB refresh endpoint?", now=NOW)
        ]
        assert isinstance(streamed[-1], AnswerResult)
        from flowrag.report.service import ReportService
        from flowrag.settings import Settings

        await data.load(store)
        report = await ReportService(store, Settings(timezone=data.TZ), channels={}).build(data.DAY, days=7)
    finally:
        await store.close()
        tracing.shutdown()  # flushes the batch
    spans = _Collector.spans
    assert set(_Collector.paths) == {"/v1/traces"} and {s["service"] for s in spans} == {"flowrag-test"}
    roots = [s for s in spans if s["name"] == "flowrag.ask"]
    assert len(roots) == 2 and all(r["parent"] == "" for r in roots)
    for root, result in zip(roots, (asked, streamed[-1]), strict=True):
        assert _tree(spans, root) == {"flowrag.ask": ["flowrag.llm", "flowrag.plan", "flowrag.retrieve"]}
        facts = root["attributes"]
        assert facts["flowrag.route"] == result.route and facts["flowrag.mode"] == result.mode == "llm"
        assert facts["flowrag.citations"] == len(result.citations)
        llm = next(s for s in spans if s["trace"] == root["trace"] and s["name"] == "flowrag.llm")
        assert llm["attributes"]["flowrag.model"] == "openai/smollm2" and llm["ms"] > 0
    assert roots[1]["attributes"]["flowrag.streamed"] is True
    built = next(s for s in spans if s["name"] == "flowrag.report")
    assert built["attributes"]["flowrag.days"] == 7 and built["attributes"]["flowrag.failed"] == report.failed
    # the question and the evidence stay in the process
    texts = [str(v) for s in spans for v in s["attributes"].values()]
    assert not any("échoué" in t or "refresh" in t or "ORA-" in t for t in texts)


async def test_a_failing_question_is_a_span_with_an_error(
    tmp_path: Path, collector: str, cached_embedder: Any, nlp: Any
) -> None:
    from flowrag.errors import PlanError
    from flowrag.settings import LLMSettings

    assert tracing.configure(OtelSettings(endpoint=f"{collector}/v1/traces", flush_ms=100))
    store = EmbeddedStore.open(tmp_path / "graph")
    await store.migrate(TEST_DIMENSION)
    try:
        answerer = Answerer(store, cached_embedder, nlp, LLMSettings())
        with pytest.raises(PlanError):
            await answerer.ask("Quels flows ont échoué ?", collections=("nope",))
        with pytest.raises(PlanError):
            [i async for i in answerer.ask_stream("Quels flows ont échoué ?", collections=("nope",))]
    finally:
        await store.close()
        tracing.shutdown()
    failed = [s for s in _Collector.spans if s["name"] == "flowrag.ask"]
    assert len(failed) == 2 and all(s["status"] == 2 for s in failed)  # STATUS_CODE_ERROR


def test_traces_are_off_without_an_endpoint_and_a_missing_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure(OtelSettings()) is False and not tracing.enabled()
    with tracing.span("nothing") as nothing:
        assert nothing is None
    import builtins

    real_import = builtins.__import__

    def without_sdk(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry.sdk"):
            raise ImportError(name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_sdk)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    with pytest.raises(
        ConfigError, match=r"pip install 'flowrag\[otel\]'|OpenTelemetry SDK is not installed"
    ) as err:
        tracing.configure(OtelSettings())
    assert "\n" not in err.value.message and not tracing.enabled()

"""OpenTelemetry traces of the answer path and of the report: ``flowrag.ask`` spans ``flowrag.plan``,
``flowrag.retrieve`` and ``flowrag.llm``; under ``flowrag serve`` they sit below the GraphQL
operation's span. Off unless an OTLP endpoint is configured (``FLOWRAG_OTEL__ENDPOINT``, or the
standard ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``) and the ``otel``
extra is installed; when off, every call here is a no-op costing one attribute read.

Spans carry what an operator needs to find a slow or failing stage (route, confidence, language,
answer mode, counts, the model) and never the question's or the evidence's text: a bank's traces
leave the process for a collector the data team may not own."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flowrag.errors import ConfigError

if TYPE_CHECKING:
    from flowrag.settings import OtelSettings

__all__ = ["annotate", "configure", "enabled", "finish", "shutdown", "span", "start", "within"]

log = logging.getLogger(__name__)

_STANDARD_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


class _State:
    tracer: Any = None
    provider: Any = None


_state = _State()


def enabled() -> bool:
    return _state.tracer is not None


def configure(settings: OtelSettings) -> bool:
    """Start exporting spans over OTLP/HTTP when an endpoint is configured; once per process (a
    second call keeps the first provider). A configured endpoint without the extra is a
    ConfigError naming the install, not a silent absence of traces."""
    if _state.tracer is not None:
        return True
    endpoint = settings.endpoint or next(
        (os.environ[v] for v in _STANDARD_ENDPOINTS if os.environ.get(v)), None
    )
    if not endpoint:
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise ConfigError(
            f"traces are configured ({endpoint}) but the OpenTelemetry SDK is not installed ({exc.name})",
            hint="pip install 'flowrag[otel]', or unset FLOWRAG_OTEL__ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT",
        ) from None
    # the standard variable names the collector's base URL; the exporter wants the traces path
    if settings.endpoint is None and not os.environ.get(_STANDARD_ENDPOINTS[0]):
        endpoint = endpoint.rstrip("/") + "/v1/traces"
    headers = dict(settings.headers) if settings.headers else None
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    exporter = OTLPSpanExporter(endpoint=endpoint, headers=headers, timeout=settings.timeout_s)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=settings.flush_ms))
    trace.set_tracer_provider(provider)
    _state.provider = provider
    _state.tracer = provider.get_tracer("flowrag")
    log.info("exporting traces to %s", endpoint)
    return True


def shutdown() -> None:
    """Export what is buffered and stop (at the end of a CLI command or of the server)."""
    if _state.provider is not None:
        _state.provider.shutdown()
    _state.provider = None
    _state.tracer = None


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, (str, bool, int, float)):
            out[f"flowrag.{key}"] = value
        elif isinstance(value, (list, tuple)):
            out[f"flowrag.{key}"] = [str(v) for v in value]
        else:
            out[f"flowrag.{key}"] = str(value)
    return out


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Any]:
    """A span around a block, child of the current one; an exception is recorded on it. The block
    must not yield from an async generator (the span's context would leak): use :func:`start`."""
    if _state.tracer is None:
        yield None
        return
    with _state.tracer.start_as_current_span(name, attributes=_attributes(attributes)) as current:
        yield current


def start(name: str, **attributes: Any) -> Any:
    """A span that is not made current (for work spread over an async generator's yields), child
    of the current span; end it with :func:`finish`."""
    if _state.tracer is None:
        return None
    return _state.tracer.start_span(name, attributes=_attributes(attributes))


@contextmanager
def within(parent: Any) -> Iterator[None]:
    """Make ``parent`` (from :func:`start`) the current span for a block without yields."""
    if parent is None:
        yield
        return
    from opentelemetry import trace

    with trace.use_span(parent, end_on_exit=False, record_exception=False):
        yield


def annotate(current: Any, **attributes: Any) -> None:
    """Attributes known once the work is done (the route taken, the answer's mode)."""
    if current is not None:
        current.set_attributes(_attributes(attributes))


def finish(current: Any, error: BaseException | None = None, **attributes: Any) -> None:
    if current is None:
        return
    current.set_attributes(_attributes(attributes))
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        current.record_exception(error)
        current.set_status(Status(StatusCode.ERROR, str(error)[:200]))
    current.end()

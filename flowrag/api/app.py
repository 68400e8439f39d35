"""ASGI app factory (composition root of the server): Starlette + strawberry GraphQL, GraphiQL at
/graphql, WebSocket subscriptions, API keys with read/write scopes, request-size limit, CORS."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from flowrag.api.jobs import JobManager
from flowrag.api.metrics import CONTENT_TYPE as METRICS_TYPE
from flowrag.api.metrics import Metrics
from flowrag.api.schema import Context, build_schema, node_loader
from flowrag.errors import ConfigError
from flowrag.logs import REQUEST_ID, request_id_from
from flowrag.runtime import Runtime
from flowrag.settings import Settings

__all__ = ["GRAPHIQL_ASSETS", "check_exposure", "create_app", "hash_key", "parse_keys"]

log = logging.getLogger(__name__)
access = logging.getLogger("flowrag.access")

#: GraphiQL's JavaScript/CSS, vendored by scripts/vendor_graphiql.py (strawberry's page loads them
#: from unpkg.com, which a closed network cannot reach) and served at /graphiql-assets/.
GRAPHIQL_ASSETS = Path(__file__).parent / "static" / "graphiql"
UI_ASSETS = Path(__file__).parent / "static" / "ui"  # built from web/ (npm run build)
_ASK = (
    "query($q: String!) {\n  ask(question: $q) {\n    answer mode\n    citations { number label provenance }\n"
    "    plan { route windowPhrase aggregate { groupBy total } }\n    cypher\n  }\n}"
)
EXAMPLE_TABS = [
    {"query": _ASK, "variables": json.dumps({"q": question})}
    for question in (
        "Quels flows ont échoué hier et pourquoi ?",
        "Which code calls the Delphix VDB refresh endpoint?",
        "Comment ajouter un endpoint qui rafraîchit une VDB depuis notre API ?",
    )
] + [
    {
        "query": "{\n  report {\n    day failingFlows synthesis\n    failures { name count causes { message count citations } }\n"
        "    trends { name direction }\n  }\n}"
    }
]


def _three_quarters_of_memory() -> float | None:
    try:
        return 0.75 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (AttributeError, ValueError, OSError):  # not POSIX: no memory limit
        return None


def check_exposure(host: str, has_keys: bool, insecure_no_auth: bool) -> None:
    """Refuse to serve a non-loopback address without API keys (unless explicitly insecure)."""
    import ipaddress

    if has_keys or insecure_no_auth:
        return
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ConfigError(
            f"refusing to serve {host} without API keys: anyone who can reach it could read the graph "
            "and start ingestions",
            hint="set FLOWRAG_API__API_KEYS (see docs/operations.md), bind 127.0.0.1, or pass --insecure-no-auth",
        )


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_keys(entries: list[str]) -> dict[str, frozenset[str]]:
    """``scope:sha256hex`` entries -> hash -> scopes (write implies read)."""
    keys: dict[str, frozenset[str]] = {}
    for entry in entries:
        scope, _, digest = entry.partition(":")
        if scope not in ("read", "write") or len(digest) != 64:
            raise ConfigError(
                f"invalid API key entry {entry[:12]}…: expected 'read:<sha256>' or 'write:<sha256>'",
                hint='hash a key with: python -c "import hashlib,sys;print(hashlib.sha256(sys.argv[1].encode()).hexdigest())" KEY',
            )
        keys[digest.lower()] = frozenset({"read", "write"} if scope == "write" else {"read"})
    return keys


class BodyLimit:
    """Refuse request bodies larger than the limit (413) before they are parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and int(length) > self.max_bytes:
                response = _too_large(self.max_bytes)
                await response(scope, receive, send)
                return
            received = 0

            async def limited() -> Any:
                """Count the bytes actually streamed (a chunked body has no Content-Length)."""
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_bytes:
                        raise _TooLarge
                return message

            try:
                await self.app(scope, limited, send)
            except _TooLarge:
                await _too_large(self.max_bytes)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class RequestId:
    """Each HTTP request gets an id (the caller's ``X-Request-ID`` when it is a plain token), sent
    back in the response and carried by every log line written while serving it; one access line
    per request at INFO (method, path, status, ms)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        token = REQUEST_ID.set(request_id_from(given))
        started = time.perf_counter()
        status = 500

        async def tagged(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", REQUEST_ID.get().encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            ms = round((time.perf_counter() - started) * 1000, 1)
            access.info(
                "%s %s %d %.1f ms",
                scope.get("method", ""),
                scope.get("path", ""),
                status,
                ms,
                extra={
                    "method": scope.get("method", ""),
                    "path": scope.get("path", ""),
                    "status": status,
                    "ms": ms,
                },
            )
            REQUEST_ID.reset(token)


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "message": f"request body larger than {max_bytes} bytes",
                    "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                }
            ]
        },
        status_code=413,
    )


class FlowragGraphQL(GraphQL[Context, None]):
    def __init__(self, state: dict[str, Any], keys: dict[str, frozenset[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state = state
        self._keys = keys

    def scopes_of(self, headers: Any) -> frozenset[str]:
        """What the request's key (``X-API-Key`` or ``Authorization: Bearer``) may do."""
        return self._scopes(headers)

    def _scopes(self, headers: Any, params: dict[str, Any] | None = None) -> frozenset[str]:
        if not self._keys:
            return frozenset({"read", "write"})  # no keys configured: local, trusted use
        key = headers.get("x-api-key") or ""
        auth = headers.get("authorization") or ""
        if not key and auth.lower().startswith("bearer "):
            key = auth[7:]
        if not key and params:
            key = str(params.get("apiKey") or params.get("x-api-key") or "")
        digest = hash_key(key) if key else ""
        for known, scopes in self._keys.items():
            if digest and hmac.compare_digest(known, digest):
                return scopes
        return frozenset()

    async def on_ws_connect(self, context: Context) -> Any:
        """``connection_init`` carries the key for browsers (they cannot set WebSocket headers)."""
        params = context.connection_params if isinstance(context.connection_params, dict) else None
        if params:
            scopes = self._scopes({}, params)
            if scopes:
                context.scopes = scopes
        if self._keys and not context.scopes:
            raise ConnectionRejectionError(
                {"message": "an API key is needed (connection_init payload apiKey)"}
            )
        return await super().on_ws_connect(context)

    @property
    def graphql_ide_html(self) -> str:
        html = super().graphql_ide_html.replace("https://unpkg.com/", "/graphiql-assets/")
        # the seed questions open as example tabs (GraphiQL's defaultTabs: first visit only)
        tabs = json.dumps(EXAMPLE_TABS).replace("<", "\\u003c")
        return html.replace("fetcher: fetcher,", f"fetcher: fetcher,\n          defaultTabs: {tabs},", 1)

    async def get_context(self, request: Any, response: Any) -> Context:
        runtime: Runtime = self._state["runtime"]
        return Context(
            runtime=runtime,
            jobs=self._state["jobs"],
            scopes=self._scopes(request.headers),
            nodes=node_loader(runtime),
            request=request,
            response=response,
        )


def report_scheduler(rt: Runtime, settings: Settings) -> Any:
    """The morning report's scheduler, with an incremental Mongo ingestion first when configured."""
    from flowrag.answer.llm import LLMClient
    from flowrag.report.schedule import ReportScheduler
    from flowrag.report.service import ReportService

    report = settings.report
    before = None
    if report.ingest_before and report.mongo_uri.get_secret_value() and report.mongo_db:

        async def ingest() -> None:
            from flowrag.ingest.monitoring import MongoOptions, ingest_mongo

            options = MongoOptions.from_settings(
                report.mongo_uri.get_secret_value(),
                report.mongo_db,
                settings.mongo,
                timezone=settings.timezone,
            )
            await ingest_mongo(rt.store, rt.embedder, rt.vocabulary, options, nlp=rt.nlp)
            rt.store_changed()

        before = ingest
    service = ReportService(rt.store, settings, LLMClient(settings.llm))
    return ReportScheduler(service, report.schedule, settings.timezone, before=before)


def create_app(settings: Settings, runtime: Runtime | None = None) -> Starlette:
    from flowrag import tracing

    keys = parse_keys(settings.api.api_keys)
    tracing.configure(settings.otel)  # before the schema: its operations are traced too
    if settings.report.schedule:  # a bad expression fails at start, not at 7 a.m.
        from flowrag.report.schedule import cron_trigger

        cron_trigger(settings.report.schedule, settings.timezone)
    state: dict[str, Any] = {}
    metrics = Metrics(lambda: state["runtime"].embedder if "runtime" in state else None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        rt = runtime or await Runtime.open(settings)
        state["runtime"] = rt
        state["jobs"] = JobManager(
            rt.store,
            rt.store_changed,
            timeout_s=settings.api.job_timeout_s,
            max_memory_mb=settings.api.job_max_memory_mb or _three_quarters_of_memory(),
            max_running=settings.api.max_running_jobs,
            on_reports=metrics.ingestion_finished,
        )
        interrupted = await state["jobs"].recover()
        if interrupted:
            log.warning("%d job(s) from a previous run marked INTERRUPTED", interrupted)
        stop = asyncio.Event()
        scheduled = None
        if settings.report.schedule:
            state["scheduler"] = report_scheduler(rt, settings)
            scheduled = asyncio.create_task(state["scheduler"].run(stop), name="morning-report")
        try:
            yield
        finally:
            stop.set()
            if scheduled is not None:
                scheduled.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scheduled
            await state["jobs"].shutdown()
            if runtime is None:
                await rt.close()

    graphql = FlowragGraphQL(
        state,
        keys,
        schema=build_schema(
            settings.api.max_depth, settings.api.max_root_fields, settings.api.max_cost, metrics.extension()
        ),
        graphql_ide="graphiql",
    )

    page = (
        (UI_ASSETS / "index.html")
        .read_text("utf-8")
        .replace(
            "__FLOWRAG_CONFIG__",
            json.dumps({"neo4jBrowser": settings.api.neo4j_browser_url, "keys": bool(keys)}).replace(
                "<", "\\u003c"
            ),
        )
    )

    async def home(request: Request) -> HTMLResponse:
        # the page itself holds no data: every value comes through /graphql with the caller's key
        return HTMLResponse(page, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    async def health(request: Request) -> JSONResponse:
        """Readiness: the store answers (503 with the reason when it does not)."""
        try:
            stats = await state["runtime"].store.stats()
        except Exception as exc:  # any store failure means "not ready", said in one line
            return JSONResponse(
                {"status": "unavailable", "reason": str(getattr(exc, "message", exc))[:300]}, status_code=503
            )
        return JSONResponse(
            {"status": "ok", "store": state["runtime"].store.kind, "nodes": stats.total_nodes}
        )

    async def live(request: Request) -> JSONResponse:
        """Liveness: the process serves requests (no store call)."""
        return JSONResponse({"status": "ok"})

    async def scrape(request: Request) -> Response:
        if not graphql.scopes_of(request.headers) & {"read"}:
            return JSONResponse({"error": "an API key with read scope is needed"}, status_code=401)
        body = await metrics.render(state["runtime"].store, state["jobs"].states())
        return Response(body, media_type=METRICS_TYPE)

    middleware = [Middleware(RequestId), Middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)]
    if settings.api.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.api.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "x-api-key", "authorization"],
            )
        )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/health/ready", health),
            Route("/health/live", live),
            Route("/metrics", scrape),
            Route("/", home),
            Mount("/ui", StaticFiles(directory=UI_ASSETS), name="ui"),
            Mount("/graphiql-assets", StaticFiles(directory=GRAPHIQL_ASSETS), name="graphiql-assets"),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )

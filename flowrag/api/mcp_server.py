"""An MCP server (Model Context Protocol, stdio): the tools an assistant needs to answer from the
graph — ``ask`` (cited answers, French or English), ``search``, ``node`` (properties, provenance
and neighbourhood) and ``morning_report``. Read-only: no tool ingests or writes (ingestion stays
with the CLI and the write-scoped GraphQL API). The store and the model are opened once for the
session, so each question costs the answer path only, not a cold start.

Run: ``flowrag mcp`` (stdio) or ``flowrag mcp --http`` (streamable HTTP at ``/mcp``, behind the
API's keys); needs the ``mcp`` extra: ``pip install 'flowrag[mcp]'``. Errors come back
as tool errors (``is_error``) with flowrag's one-line message and its hint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from flowrag.errors import ConfigError, FlowragError
from flowrag.runtime import Runtime
from flowrag.settings import Settings

__all__ = ["build_http_app", "build_server"]

_MISSING = "the MCP server needs the 'mcp' package"


def _message(exc: FlowragError) -> str:
    return f"{exc.message} (hint: {exc.hint})" if exc.hint else exc.message


def build_server(settings: Settings, shared: dict[str, Runtime] | None = None) -> Any:
    """The MCP server. ``shared``: a runtime opened by the caller for every session (the HTTP
    transport); without it (stdio) the session opens and closes its own."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:  # the extra is not installed
        raise ConfigError(_MISSING, hint="pip install 'flowrag[mcp]'") from exc

    state: dict[str, Runtime] = shared if shared is not None else {}

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        if shared is not None:  # opened once by the HTTP app, not per session
            yield None
            return
        state["rt"] = await Runtime.open(settings)
        try:
            yield None
        finally:
            await state.pop("rt").close()

    server = MCPServer(
        "flowrag",
        instructions=(
            "flowrag answers from a knowledge graph of the team's data flows (MongoDB monitoring "
            "runs), code repositories and API documentation (Delphix DCT). Use `ask` for questions "
            "in French or English; cite its numbered sources. Use `search` and `node` to look "
            "around a result, `morning_report` for a day's failures."
        ),
        lifespan=lifespan,
    )

    async def guarded(call: Any) -> Any:
        try:
            return await call
        except FlowragError as exc:
            raise ToolError(_message(exc)) from None

    @server.tool(
        description="Answer a question from the graph, with numbered citations and the plan applied."
    )
    async def ask(
        question: str,
        sources: list[str] | None = None,
        collections: list[str] | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        result = await guarded(
            state["rt"].answerer.ask(
                question,
                sources=tuple(sources or ()),
                collections=tuple(collections or ()),
                language=language,
            )
        )
        return {
            "answer": result.answer,
            "mode": result.mode,
            "confidence": result.confidence,
            "citations": [
                {
                    "n": c.number,
                    "uid": c.uid,
                    "label": c.label,
                    "provenance": c.provenance,
                    "snippet": c.snippet,
                }
                for c in result.citations
            ],
            "plan": result.plan_info,
        }

    @server.tool(description="Nodes of the graph matching a text (vector and full-text), best first.")
    async def search(text: str, labels: list[str] | None = None, top_k: int = 10) -> dict[str, Any]:
        from flowrag.answer.retrieval import domain_labels
        from flowrag.schema import ONTOLOGY

        if not 1 <= top_k <= 100:
            raise ToolError("top_k must be between 1 and 100")

        async def run() -> Any:
            wanted = [ONTOLOGY.label(lbl).label.value for lbl in labels] if labels else domain_labels()
            return await state["rt"].answerer.retriever.search(text, wanted, top_k)

        hits = await guarded(run())
        return {
            "hits": [
                {"uid": h.node.uid, "label": h.node.label, "name": h.node.name, "score": round(h.score, 4)}
                for h in hits
            ]
        }

    @server.tool(description="One node by uid: its properties, provenance and neighbours.")
    async def node(uid: str) -> dict[str, Any]:
        from flowrag.graph.expansion import ExpansionStep, expand

        store = state["rt"].store
        found = await guarded(store.get_nodes([uid]))
        if not found:
            raise ToolError(f"no node {uid!r} in the store")
        hood = await guarded(expand(store, [uid], [ExpansionStep((), 25)]))
        return {
            "node": found[0].as_dict(),
            "neighbours": [
                {"uid": n.uid, "label": n.label, "name": n.name} for n in hood.nodes if n.uid != uid
            ],
            "edges": [{"type": e.type, "start": e.start, "end": e.end} for e in hood.edges],
        }

    @server.tool(
        description="The morning report of a local day (YYYY-MM-DD or 'today'; default yesterday), as Markdown."
    )
    async def morning_report(date: str | None = None, language: str | None = None) -> str:
        from flowrag.answer.llm import LLMClient
        from flowrag.report.render import to_markdown
        from flowrag.report.service import ReportService

        if language not in (None, "fr", "en"):
            raise ToolError("language must be fr or en")
        rt = state["rt"]
        service = ReportService(rt.store, rt.settings, LLMClient(rt.settings.llm))

        async def run() -> Any:
            return await service.build(service.day(date), language)

        return str(to_markdown(await guarded(run())))

    return server


class _KeyGuard:
    """The API's keys in front of the MCP endpoint: read scope, ``Authorization: Bearer`` or
    ``X-API-Key`` (no keys configured: loopback use, as for the GraphQL API)."""

    def __init__(self, app: Any, keys: dict[str, frozenset[str]]) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        import hmac

        from starlette.responses import JSONResponse

        from flowrag.api.app import hash_key

        if scope["type"] == "http" and self.keys:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            key = headers.get("x-api-key", "")
            auth = headers.get("authorization", "")
            if not key and auth.lower().startswith("bearer "):
                key = auth[7:]
            digest = hash_key(key) if key else ""
            allowed = any(
                "read" in scopes and digest and hmac.compare_digest(known, digest)
                for known, scopes in self.keys.items()
            )
            if not allowed:
                response = JSONResponse({"error": "an API key with read scope is needed"}, status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_http_app(settings: Settings, host: str = "127.0.0.1") -> Any:
    """The same tools over MCP's streamable HTTP transport at ``/mcp``, behind the API keys; the
    store and the model opened once for every session."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount

    from flowrag.api.app import parse_keys

    shared: dict[str, Runtime] = {}
    server = build_server(settings, shared)
    inner = server.streamable_http_app(streamable_http_path="/mcp", host=host)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        shared["rt"] = await Runtime.open(settings)
        try:
            async with inner.router.lifespan_context(inner):  # the SDK's session manager
                yield
        finally:
            await shared.pop("rt").close()

    keys = parse_keys(settings.api.api_keys)
    return Starlette(
        routes=[Mount("/", app=inner)], middleware=[Middleware(_KeyGuard, keys=keys)], lifespan=lifespan
    )

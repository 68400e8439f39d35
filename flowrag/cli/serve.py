"""Long-running and scheduled work: `demo`, `serve`, `mcp` and the morning `report`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from flowrag.cli.base import (
    _fail,
    _with_store,
    app,
    err,
    out,
    run_async,
    state,
)
from flowrag.errors import FlowragError


@app.command()
def demo(
    fresh: Annotated[bool, typer.Option(help="Start from an empty demo store.")] = True,
) -> None:
    """Ingest the bundled example (monitoring runs, Delphix DCT subset, a small code repository) into
    the embedded store and answer three questions in French, with citations."""
    from flowrag.demo import run_demo

    run_async(lambda: run_demo(state.settings, out, err, fresh=fresh))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (FLOWRAG_API__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (FLOWRAG_API__PORT).")] = None,
    insecure_no_auth: Annotated[
        bool,
        typer.Option(
            "--insecure-no-auth",
            help="Serve a non-loopback address without API keys (anyone reaching it can ingest).",
        ),
    ] = False,
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql) with uvicorn."""
    import uvicorn

    from flowrag.api.app import check_exposure, create_app

    settings = state.settings
    try:
        check_exposure(host or settings.api.host, bool(settings.api.api_keys), insecure_no_auth)
    except FlowragError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"  hint: {exc.hint}", highlight=False)
        raise typer.Exit(2) from None
    try:
        application = create_app(settings)
    except FlowragError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(1) from None
    uvicorn.run(
        application,
        host=host or settings.api.host,
        port=port or settings.api.port,
        log_level=settings.log_level.lower() if settings.log_level.upper() != "WARNING" else "info",
        # JSON logs: uvicorn's own loggers go through the root handler too (one format)
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        access_log=settings.log_format != "json",  # flowrag.access has the same line, with the id
    )


@app.command()
def mcp(
    http: Annotated[
        bool, typer.Option("--http", help="Streamable HTTP at /mcp (the API's keys) instead of stdio.")
    ] = False,
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8001,
    insecure_no_auth: Annotated[
        bool, typer.Option("--insecure-no-auth", help="Serve a network address without API keys.")
    ] = False,
) -> None:
    """Serve the graph to AI assistants over MCP (stdio, or HTTP with --http): ask, search, node,
    morning_report; read-only."""
    from flowrag.api.mcp_server import build_http_app, build_server

    settings = state.settings
    try:
        if not http:
            build_server(settings).run("stdio")
            return
        from flowrag.api.app import check_exposure

        check_exposure(host, bool(settings.api.api_keys), insecure_no_auth)
        application = build_http_app(settings, host)
    except FlowragError as exc:
        raise _fail(exc) from None
    import uvicorn

    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def report(
    day: Annotated[
        str | None,
        typer.Option(
            "--date", help="The day, YYYY-MM-DD, 'today' or 'yesterday' (default) in FLOWRAG_TIMEZONE."
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="md, html or json (printed, or written with --output).")
    ] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the rendering to this file.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="fr or en (default FLOWRAG_REPORT__LANGUAGE).")] = None,
    send: Annotated[bool, typer.Option("--send", help="Deliver to the configured channels.")] = False,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Only these channels (files, slack, teams, email); repeatable."),
    ] = None,
    resend: Annotated[
        bool, typer.Option("--resend", help="Send again to channels that already have it.")
    ] = False,
    days: Annotated[
        int,
        typer.Option(
            "--days",
            min=1,
            max=90,
            help="Count the N days ending on --date (a week: 7); trends compare with the N-day periods before.",
        ),
    ] = 1,
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", help="Count only the runs of this Mongo collection; repeatable."),
    ] = None,
) -> None:
    """The morning report of one day: failures by flow with their causes and citations, new errors,
    trends against the previous days, impacted technologies, Delphix objects and code; printed, or
    sent to Slack, Teams, e-mail or a folder (once per channel and day)."""
    from flowrag.answer.llm import LLMClient
    from flowrag.report.render import to_html, to_json, to_markdown
    from flowrag.report.service import ReportService

    renderers = {"md": to_markdown, "html": to_html, "json": to_json}
    if fmt not in renderers:
        err.print(f"[bold red]error:[/] unknown format {fmt!r} (use md, html or json)", highlight=False)
        raise typer.Exit(2)
    if language not in (None, "fr", "en"):
        err.print(f"[bold red]error:[/] unknown language {language!r} (use fr or en)", highlight=False)
        raise typer.Exit(2)
    if (channel or resend) and not send:
        err.print("[bold red]error:[/] --channel and --resend go with --send", highlight=False)
        raise typer.Exit(2)
    if send and (days != 1 or collection):
        err.print(
            "[bold red]error:[/] --send delivers the day's report of every collection (once per day);"
            " --days and --collection build a report to print or write with --output",
            highlight=False,
        )
        raise typer.Exit(2)
    settings = state.settings

    async def go(store: Any) -> Any:
        service = ReportService(store, settings, LLMClient(settings.llm))
        the_day = service.day(day)
        if send:
            service.channels_for(channel)  # an unknown or unconfigured channel fails before any work
        with err.status(f"building the report of {the_day}"):
            built = await service.build(the_day, language, days=days, collections=collection or ())
        if not send:
            await service.save(built)
            return built, []
        return await service.send(the_day, channel, resend=resend, report=built)

    built, deliveries = run_async(lambda: _with_store(go))
    text = renderers[fmt](built)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")
    elif not send:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    for d in deliveries:
        colour = {"sent": "green", "skipped": "yellow"}.get(d.status, "red")
        err.print(
            f"[{colour}]{d.channel}: {d.status}[/] ({d.attempts} attempt(s)) {d.detail}", highlight=False
        )
    if any(d.status == "failed" for d in deliveries):
        raise typer.Exit(1)

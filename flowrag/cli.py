"""The ``flowrag`` command (composition root for the terminal)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from flowrag.errors import ConfigError, FlowragError
from flowrag.logs import configure_logging
from flowrag.settings import Settings, StoreKind, load_settings

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    name="flowrag",
    help="Knowledge-graph-first GraphRAG over monitoring data, code and API docs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_DCT_KINDS = (
    "engines",
    "environments",
    "dsources",
    "vdbs",
    "vdb_groups",
    "snapshots",
    "bookmarks",
    "jobs",
    "masking_jobs",
)
ingest_app = typer.Typer(help="Ingest a source into the graph.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
inspect_app = typer.Typer(
    help="Preview what an ingestion would build (field mapping, runs), writing nothing.", no_args_is_help=True
)
app.add_typer(inspect_app, name="inspect")

out = Console()
err = Console(stderr=True)


class _State:
    settings: Settings
    debug: bool = False


state = _State()


@app.callback()
def _root(
    store: Annotated[
        StoreKind | None, typer.Option(help="Graph store (overrides FLOWRAG_STORE__KIND).")
    ] = None,
    store_path: Annotated[
        Path | None, typer.Option(help="Embedded store directory (FLOWRAG_STORE__PATH).")
    ] = None,
    neo4j_uri: Annotated[str | None, typer.Option(help="Bolt URI (FLOWRAG_STORE__NEO4J_URI).")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")] = False,
) -> None:
    try:
        settings = load_settings()
    except FlowragError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"  hint: {exc.hint}", highlight=False)
        raise typer.Exit(2) from None
    if store is not None:
        settings.store.kind = store
    if store_path is not None:
        settings.store.path = store_path
    if neo4j_uri is not None:
        settings.store.neo4j_uri = neo4j_uri
    state.settings = settings
    state.debug = debug
    configure_logging(
        logging.DEBUG if debug else getattr(logging, settings.log_level.upper(), logging.WARNING),
        settings.log_format,
    )


def _fail(exc: FlowragError) -> typer.Exit:
    """Print a flowrag error as one line (and its hint); the exit to raise."""
    err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    if exc.hint:
        err.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
    return typer.Exit(1)


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; turn flowrag errors into one clear line and exit code 1."""
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except FlowragError as exc:
        if state.debug:
            raise
        raise _fail(exc) from None
    except KeyboardInterrupt:
        err.print("interrupted; ingestion checkpoints let the next run resume")
        raise typer.Exit(130) from None


async def _with_store(fn: Callable[[Any], Awaitable[T]], *, migrate: bool = True) -> T:
    from flowrag.graph import open_store

    store = await open_store(state.settings, migrate=migrate)
    try:
        return await fn(store)
    finally:
        await store.close()


@app.command()
def migrate() -> None:
    """Create constraints, vector and full-text indexes (idempotent)."""

    async def go(store: Any) -> None:
        return None

    run_async(lambda: _with_store(go))
    out.print(f"migrations applied on the {state.settings.store.kind.value} store")


@app.command()
def doctor(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Check the store (integrity, indexes, vectors against the configured model); exit 1 on a failure."""

    async def go(store: Any) -> Any:
        with err.status("checking the store"):
            return await store.check(state.settings.embedding.dimension)

    found = run_async(lambda: _with_store(go, migrate=False))
    if as_json:
        out.print_json(json.dumps([dataclasses.asdict(c) for c in found]))
    else:
        table = Table(title=f"{state.settings.store.kind.value} store")
        for column in ("check", "status", "detail", "fix"):
            table.add_column(column)
        colour = {"ok": "green", "warn": "yellow", "fail": "red"}
        for c in found:
            table.add_row(c.name, f"[{colour[c.status]}]{c.status}[/]", c.detail, c.fix)
        out.print(table)
    if any(c.status == "fail" for c in found):
        raise typer.Exit(1)


@app.command()
def repair() -> None:
    """Rebuild every vector index from the vectors the store holds (after `flowrag doctor` finds one damaged)."""

    async def go(store: Any) -> Any:
        with err.status("rebuilding vector indexes"):
            return await store.rebuild_vector_indexes()

    rebuilt = run_async(lambda: _with_store(go, migrate=False))
    for label, count in rebuilt.items():
        out.print(f"{label}: {count:,} vectors indexed")
    out.print(
        f"rebuilt {len(rebuilt)} vector index(es)" if rebuilt else "no vectors stored: nothing to rebuild"
    )


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Node counts per label and relationship counts per type."""

    async def go(store: Any) -> Any:
        return await store.stats()

    result = run_async(lambda: _with_store(go, migrate=False))
    if as_json:
        out.print_json(json.dumps({"nodes": result.nodes, "relationships": result.relationships}))
        return
    table = Table(title=f"{state.settings.store.kind.value} store")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("count", justify="right")
    for label, count in sorted(result.nodes.items()):
        table.add_row("node", label, f"{count:,}")
    for rel, count in sorted(result.relationships.items()):
        table.add_row("relationship", rel, f"{count:,}")
    out.print(table)
    out.print(f"{result.total_nodes:,} nodes, {result.total_relationships:,} relationships")


@app.command()
def cypher(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query.")],
    params: Annotated[str, typer.Option(help="Query parameters as JSON.")] = "{}",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run a read-only Cypher query (Neo4j store)."""
    try:
        values = json.loads(params)
    except json.JSONDecodeError as exc:
        err.print(f"[bold red]error:[/] --params is not JSON: {exc}")
        raise typer.Exit(2) from None

    async def go(store: Any) -> Any:
        return await store.cypher(query, values)

    rows = run_async(lambda: _with_store(go, migrate=False))
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    if not rows:
        out.print("(no rows)")
        return
    table = Table()
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(json.dumps(v, default=str, ensure_ascii=False) for v in row.values()))
    out.print(table)


# ---------------------------------------------------------------------------------- ingestion
def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def _bar_callback(bar: Any) -> Callable[[str, int, int | None], None]:
    """A progress callback drawing one bar per collection."""
    tasks: dict[str, Any] = {}

    def progress(collection: str, done: int, total: int | None) -> None:
        if collection not in tasks:
            tasks[collection] = bar.add_task(collection, total=total)
        bar.update(tasks[collection], completed=done)

    return progress


def _print_reports(reports: list[Any], as_json: bool, console: Console | None = None) -> None:
    if as_json:
        out.print_json(json.dumps([r.as_dict() for r in reports]))
        return
    table = Table(title="ingestion report")
    for column in (
        "source",
        "scope",
        "read",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "rels",
        "embedded",
        "skipped",
        "s",
    ):
        table.add_column(column, justify="right" if column not in ("source", "scope", "skipped") else "left")
    for r in reports:
        skipped = ", ".join(f"{k}: {v}" for k, v in r.skipped.items()) or "-"
        table.add_row(
            r.source,
            r.scope,
            str(r.read),
            str(r.created),
            str(r.updated),
            str(r.unchanged),
            str(r.deleted),
            str(r.relationships),
            str(r.embedded),
            skipped,
            f"{r.seconds:.1f}",
        )
    (console or out).print(table)
    for r in reports:
        if r.mapping:
            fields = ", ".join(f"{concept} ← {where}" for concept, where in r.mapping.items())
            (console or out).print(f"[dim]{r.scope} mapping: {fields}[/]", highlight=False)
        for problem in r.errors[:10]:
            err.print(f"[yellow]{r.scope}:[/] {problem}", highlight=False)
        if len(r.errors) > 10:
            err.print(f"[yellow]{r.scope}:[/] … {len(r.errors) - 10} more problems")


async def _with_runtime(fn: Callable[[Any], Awaitable[T]]) -> T:
    from flowrag.runtime import Runtime

    runtime = await Runtime.open(state.settings)
    try:
        return await fn(runtime)
    finally:
        await runtime.close()


def _print_previews(previews: list[Any], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps([p.as_dict() for p in previews], ensure_ascii=False))
        return
    for p in previews:
        table = Table(title=f"{p.collection}: {p.sampled} documents sampled, {p.runs} would become runs")
        table.add_column("concept")
        table.add_column("field")
        table.add_column("confidence", justify="right")
        for concept, where in p.fields.items():
            if where:
                conf = p.confidence.get(concept)
                table.add_row(concept, where, f"{conf:.2f}" if conf is not None else "set")
        out.print(table)
        if p.statuses:
            out.print(
                "  statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(p.statuses.items())), highlight=False
            )
        for concept, candidates in p.ambiguous.items():
            out.print(
                f"  [yellow]{concept}: several candidates: {' | '.join(candidates)}[/]", highlight=False
            )
        if not p.runs:
            out.print(
                "  no runs: documents stay records (give --map COLLECTION.pipeline=FIELD if they are runs)"
            )


@inspect_app.command("mongo")
def inspect_mongo_cmd(
    uri: Annotated[str, typer.Option(help="MongoDB URI, e.g. mongodb://host:27017")],
    db: Annotated[str, typer.Option(help="Database name.")],
    include: Annotated[str, typer.Option(help="Comma-separated collections (default: all).")] = "",
    sample: Annotated[int, typer.Option(help="Documents sampled per collection.")] = 200,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="Overrides to preview: collection.concept=field.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the previews as JSON.")] = False,
) -> None:
    """Show, per collection, which field holds each concept (with its confidence) and how many
    documents would become runs. Reads a sample; writes nothing."""
    from flowrag.ingest.inspect import inspect_mongo
    from flowrag.ingest.monitoring import parse_overrides

    overrides = {k: dict(v) for k, v in state.settings.mongo.mappings.items()}
    for collection, override in parse_overrides(mapping or ()).items():
        overrides.setdefault(collection, {}).update(override)
    names = [n for n in include.split(",") if n]
    previews = run_async(lambda: inspect_mongo(uri, db, sample, names, overrides))
    _print_previews(previews, as_json)


@inspect_app.command("json")
def inspect_json_cmd(
    path: Annotated[Path, typer.Argument(help="A monitoring dump file or folder (as for `ingest json`).")],
    sample: Annotated[int, typer.Option(help="Documents sampled per collection.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the previews as JSON.")] = False,
) -> None:
    """The same preview for a dump (mongoexport JSON Lines, arrays, Extended JSON, folders)."""
    from flowrag.ingest.inspect import inspect_dump

    _print_previews(run_async(lambda: inspect_dump(path, sample)), as_json)


@ingest_app.command("mongo")
def ingest_mongo_cmd(
    uri: Annotated[str, typer.Option(help="MongoDB URI, e.g. mongodb://host:27017")],
    db: Annotated[str, typer.Option(help="Database name.")],
    include: Annotated[str, typer.Option(help="Comma-separated collections to read (default: all).")] = "",
    exclude: Annotated[str, typer.Option(help="Comma-separated collections to skip.")] = "",
    limit: Annotated[int | None, typer.Option(help="Read at most N documents per collection.")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read everything and remove deleted documents.")
    ] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Field mapping override, repeatable: collection.concept=field "
            "(e.g. jobs.pipeline=job.name; empty field = ignore). Adds to FLOWRAG_MONGO__MAPPINGS.",
        ),
    ] = None,
    query: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help='Query for one collection, repeatable: collection=JSON (e.g. runs={"env": "prod"}).',
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest every collection of a MongoDB database (incremental, resumable)."""
    from flowrag.ingest.monitoring import MongoOptions, ingest_mongo, parse_overrides

    config = state.settings.mongo
    mappings = {k: dict(v) for k, v in config.mappings.items()}
    for collection, override in parse_overrides(mapping or ()).items():
        mappings.setdefault(collection, {}).update(override)
    filters: dict[str, Any] = dict(config.filters)
    for item in query or ():
        collection, sep, text = item.partition("=")
        try:
            parsed = json.loads(text) if sep else None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--filter {item!r}: not JSON ({exc})") from exc
        if not collection or not isinstance(parsed, dict):
            raise ConfigError(
                f"bad --filter {item!r}", hint='write collection=JSON object, e.g. runs={"env": "prod"}'
            )
        filters[collection] = parsed
    options = MongoOptions(
        uri,
        db,
        tuple(c for c in include.split(",") if c),
        tuple(c for c in exclude.split(",") if c),
        limit,
        full,
        batch_size=config.batch_size,
        filters=filters,
        mappings=mappings,
        warning_codes=frozenset(config.warning_codes),
    )

    async def go(rt: Any) -> Any:
        with _progress() as bar:
            return await ingest_mongo(
                rt.store, rt.embedder, rt.vocabulary, options, _bar_callback(bar), nlp=rt.nlp
            )

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("json")
def ingest_json_cmd(
    path: Annotated[
        Path,
        typer.Argument(
            help="A monitoring dump: mongoexport JSON Lines or --jsonArray (Extended JSON), "
            'a {"collection": \\[documents…]} file, or a folder with one file per collection.'
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion reports as JSON.")] = False,
) -> None:
    """Ingest a monitoring dump read from files (no MongoDB needed)."""
    from flowrag.ingest.monitoring import ingest_json_dump

    async def go(rt: Any) -> Any:
        with _progress() as bar:
            return await ingest_json_dump(
                rt.store,
                rt.embedder,
                rt.vocabulary,
                path,
                _bar_callback(bar),
                nlp=rt.nlp,
                warning_codes=frozenset(rt.settings.mongo.warning_codes),
            )

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("openapi")
def ingest_openapi_cmd(
    location: Annotated[str, typer.Argument(help="OpenAPI/Swagger file or URL (JSON or YAML).")],
    name: Annotated[str | None, typer.Option(help="Spec name (graph scope), e.g. delphix-dct.")] = None,
    ca_bundle: Annotated[Path | None, typer.Option(help="CA bundle for servers with an internal CA.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds for URL fetches.")] = 30.0,
    allow_shrink: Annotated[
        bool,
        typer.Option("--allow-shrink", help="Accept a re-ingest that removes most of the spec's nodes."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion report as JSON.")] = False,
) -> None:
    """Ingest an OpenAPI 3.x / Swagger 2.0 spec (Delphix DCT first)."""
    from flowrag.ingest.openapi import ingest_openapi

    async def go(rt: Any) -> Any:
        with err.status(f"ingesting {location}"):
            report = await ingest_openapi(
                rt.store, rt.embedder, location, name, ca_bundle, timeout, allow_shrink=allow_shrink
            )
            rt.store_changed()
            return [report]

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("delphix")
def ingest_delphix_cmd(
    url: Annotated[
        str | None, typer.Option(help="DCT address, e.g. https://dct.example.com (FLOWRAG_DELPHIX__URL).")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            help="DCT API key; prefer FLOWRAG_DELPHIX__API_KEY (an option shows in the process list)."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Estate name (graph scope); default: the DCT host.")
    ] = None,
    ca_bundle: Annotated[
        Path | None, typer.Option(help="CA bundle for a DCT signed by an internal CA.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Window of jobs and snapshots: 7d, 24h, a date.")] = None,
    kinds: Annotated[
        str | None,
        typer.Option(help="Comma-separated listings to read (default all): " + ", ".join(_DCT_KINDS) + "."),
    ] = None,
    allow_shrink: Annotated[
        bool, typer.Option("--allow-shrink", help="Accept a sync that removes most of the estate's objects.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion report as JSON.")] = False,
) -> None:
    """Ingest the live Delphix estate through the DCT v3 API: engines, environments and hosts,
    dSources, VDBs, groups, snapshots, bookmarks, jobs of the window, masking jobs."""
    from flowrag.ingest.delphix import DctOptions, ingest_delphix

    async def go(rt: Any) -> Any:
        options = DctOptions.from_settings(
            rt.settings.delphix,
            url=url,
            api_key=api_key,
            name=name,
            ca_bundle=ca_bundle,
            since=since,
            kinds=tuple(k.strip() for k in (kinds or "").split(",") if k.strip()),
            allow_shrink=allow_shrink,
        )
        with _progress() as bar:
            report = await ingest_delphix(rt.store, rt.embedder, options, progress=_bar_callback(bar))
        rt.store_changed()
        return [report]

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("code")
def ingest_code_cmd(
    location: Annotated[str, typer.Argument(help="A repository directory or a git URL (cloned with git).")],
    name: Annotated[
        str | None, typer.Option(help="Repository name (graph scope); default: folder name.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest a source-code repository (Python, Java, Kotlin, Scala, C#, Go, JS/TS, shell, SQL,
    YAML/JSON/TOML, Markdown): symbols, routes, HTTP calls, imports; incremental per file."""
    from flowrag.ingest.code import ingest_code

    async def go(rt: Any) -> Any:
        with _progress() as bar:
            return [await ingest_code(rt.store, rt.embedder, location, name, _bar_callback(bar))]

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("html")
def ingest_html_cmd(
    location: Annotated[str, typer.Argument(help="An HTML page, a directory of pages, or a URL.")],
    site: Annotated[str | None, typer.Option(help="Site name (graph scope).")] = None,
    ca_bundle: Annotated[Path | None, typer.Option(help="CA bundle for servers with an internal CA.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest HTML documentation pages, chunked by heading."""
    from flowrag.ingest.html import ingest_html

    async def go(rt: Any) -> Any:
        with err.status(f"ingesting {location}"):
            return [await ingest_html(rt.store, rt.embedder, location, site, ca_bundle)]

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


# ---------------------------------------------------------------------------------- answers
def _print_answer(result: Any, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
        return
    out.print(f"\n[bold cyan]? {result.question}[/]", highlight=False)
    out.print(result.answer, highlight=False)
    if result.citations:
        out.print("[dim]sources :[/]" if result.language == "fr" else "[dim]sources:[/]")
        for c in result.citations[:8]:
            out.print(f"  [dim][{c.number}] {c.label} — {c.provenance} (uid {c.uid})[/]", highlight=False)
    plan = result.plan_info
    window = plan["window"]
    parts = [
        f"language {plan['language']}",
        f"route {plan['route']}",
        f"confidence {plan['confidence']}",
    ]
    if window:
        parts.append(
            f"window {window['start']} → {window['end']} ({window['timezone']}, « {window['phrase']} »)"
        )
    for key in ("statuses", "sources", "collections", "answer_types"):
        if plan[key]:
            parts.append(f"{key.replace('_', ' ')} {', '.join(plan[key])}")
    if agg := plan.get("aggregate"):
        filters = "; ".join(f"{d} = {', '.join(v)}" for d, v in agg["filters"].items())
        parts.append(
            f"aggregate {'groups without' if agg['negate'] else 'count'} "
            f"{'/'.join(agg['statuses']) or 'all'} by {agg['group_by']}, {agg['order']} first"
            + (f", where {filters}" if filters else "")
            + (", vs the previous period" if agg["compare_with"] else "")
        )
    out.print(f"[dim]plan: {' · '.join(parts)}[/]", highlight=False)
    for note in result.notes:
        out.print(f"[dim]note: {note}[/]", highlight=False)
    out.print(f"[dim]mode: {result.mode} · {result.timings.get('total_ms', 0):.0f} ms[/]")
    if result.nodes:
        out.print(f"[dim]Neo4j Browser: {result.cypher}[/]", highlight=False)


async def _answer(
    rt: Any,
    question: str,
    source: list[str] | None,
    collection: list[str] | None,
    session: str | None,
    top_k: int,
    no_llm: bool,
) -> Any:
    """One question through the answer path, with the CLI's options (ask and shell)."""
    return await rt.answerer.ask(
        question,
        sources=tuple(source or ()),
        collections=tuple(collection or ()),
        session_id=session,
        top_k=top_k,
        use_llm=not no_llm,
    )


async def _require_content(rt: Any) -> None:
    """A question to an empty store is a setup problem, said as one: what to run first."""
    from flowrag.errors import SourceError
    from flowrag.schema import ONTOLOGY

    stats = await rt.store.stats()
    system = {spec.label.value for spec in ONTOLOGY.labels if spec.system}
    if not any(count for label, count in stats.nodes.items() if label not in system):
        where = rt.settings.store_path if rt.store.kind == "embedded" else rt.settings.store.neo4j_uri
        raise SourceError(
            f"the store at {where} is empty: nothing to answer from",
            hint="ingest something first (flowrag ingest openapi|code|html|mongo|json …), "
            "or run `flowrag demo` for the bundled example",
        )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question in French or English.")],
    source: Annotated[
        list[str] | None, typer.Option(help="Restrict to mongo | code | openapi | html.")
    ] = None,
    collection: Annotated[list[str] | None, typer.Option(help="Restrict to Mongo collection(s).")] = None,
    session: Annotated[str | None, typer.Option(help="Session id to keep the conversation.")] = None,
    top_k: Annotated[int, typer.Option(help="Evidence items.")] = 8,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="Extractive answer even if an LLM is configured.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the whole result (answer, citations, plan, subgraph) as JSON."),
    ] = False,
) -> None:
    """Answer a question from the graph, with citations and the plan that was applied."""

    async def go(rt: Any) -> Any:
        await _require_content(rt)
        return await _answer(rt, question, source, collection, session, top_k, no_llm)

    _print_answer(run_async(lambda: _with_runtime(go)), as_json)


@app.command()
def shell(
    source: Annotated[
        list[str] | None, typer.Option(help="Restrict to mongo | code | openapi | html.")
    ] = None,
    collection: Annotated[list[str] | None, typer.Option(help="Restrict to Mongo collection(s).")] = None,
    top_k: Annotated[int, typer.Option(help="Evidence items.")] = 8,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="Extractive answers even if an LLM is configured.")
    ] = False,
) -> None:
    """Ask one question after another in one process: the models load once (the first answer
    takes the few seconds a cold `flowrag ask` takes, the next ones milliseconds) and follow-ups
    keep the conversation. One question per line; `exit`, `quit` or Ctrl-D ends."""
    import uuid

    from flowrag.errors import FlowragError

    async def go(rt: Any) -> int:
        await _require_content(rt)
        session = f"shell-{uuid.uuid4().hex[:12]}"
        asked = 0
        warming: set[asyncio.Task[None]] = set()
        if sys.stdin.isatty():
            err.print("[dim]flowrag shell — one question per line; exit or Ctrl-D to end[/]")
            # load the language pipelines and the model while the first question is typed
            warm = asyncio.create_task(asyncio.to_thread(rt.warm_up))
            warming.add(warm)
            warm.add_done_callback(warming.discard)
        while True:
            try:
                line = await asyncio.to_thread(input, "? " if sys.stdin.isatty() else "")
            except EOFError:
                break
            question = line.strip()
            if question.lower() in ("exit", "quit", ":q"):
                break
            if not question:
                continue
            try:
                result = await _answer(rt, question, source, collection, session, top_k, no_llm)
            except FlowragError as exc:  # one bad question does not end the session
                err.print(f"error: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), highlight=False)
                continue
            _print_answer(result, False)
            asked += 1
        return asked

    run_async(lambda: _with_runtime(go))


async def _ingest_corpus(rt: Any, gold: Any) -> list[Any]:
    """Load what the gold file's `corpus` names (idempotent: a second run writes nothing)."""
    from flowrag.errors import SourceError
    from flowrag.ingest.code import ingest_code
    from flowrag.ingest.monitoring import ingest_documents
    from flowrag.ingest.openapi import ingest_openapi
    from flowrag.ingest.writer import IngestReport

    base = gold.path.parent
    corpus = gold.corpus
    reports = []
    with _progress() as bar:
        for spec in corpus.get("openapi") or []:
            location = spec["location"] if "://" in spec["location"] else str(base / spec["location"])
            reports.append(await ingest_openapi(rt.store, rt.embedder, location, spec.get("name")))
        monitoring = corpus.get("monitoring")
        if monitoring == "example":
            from flowrag.examples.monitoring import example_database

            progress = _bar_callback(bar)
            for collection, docs in example_database(now=gold.now).items():
                report = IngestReport("mongo", collection)
                await ingest_documents(
                    rt.store,
                    rt.embedder,
                    rt.vocabulary,
                    collection,
                    docs,
                    report,
                    progress=progress,
                    total=len(docs),
                    nlp=rt.nlp,
                )
                reports.append(report.finish())
        elif monitoring:
            from flowrag.ingest.monitoring import ingest_json_dump

            path = base / str(monitoring)
            reports += await ingest_json_dump(
                rt.store, rt.embedder, rt.vocabulary, path, _bar_callback(bar), nlp=rt.nlp
            )
        for spec in corpus.get("code") or []:
            path = base / spec["path"]
            if not path.is_dir():
                raise SourceError(f"corpus code path {path} is not a directory")
            reports.append(
                await ingest_code(rt.store, rt.embedder, str(path), spec.get("name"), _bar_callback(bar))
            )
    return reports


@app.command("eval")
def eval_cmd(
    path: Annotated[Path, typer.Argument(help="Gold set (YAML): questions with expected evidence.")],
    k: Annotated[int, typer.Option(help="Evidence items scored (recall@k).")] = 5,
    ingest: Annotated[bool, typer.Option("--ingest", help="Ingest the gold file's corpus first.")] = False,
    split: Annotated[str, typer.Option(help="Questions to ask: dev, test or all.")] = "all",
    baseline: Annotated[
        bool, typer.Option(help="Also run the baselines (vector per document, BM25) in the same run.")
    ] = True,
    llm: Annotated[bool, typer.Option("--llm", help="Generate answers with the configured LLM.")] = False,
    details: Annotated[bool, typer.Option("--details", help="Per question: evidence vs expected.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON on stdout.")] = False,
) -> None:
    """Score the answer path on a gold set (recall@k, MRR, citation precision, no-answer,
    per language and category), side by side with a vector-RAG and a BM25 baseline."""
    from flowrag.answer.evaluation import (
        BM25Baseline,
        DocumentBaseline,
        evaluate,
        load_gold,
        score,
        select,
        source_documents,
    )

    gold = select(run_async(lambda: _load(load_gold, path)), split)

    async def go(rt: Any) -> Any:
        if ingest:  # with --json, stdout carries the JSON only
            _print_reports(await _ingest_corpus(rt, gold), False, err if as_json else out)
            rt.store_changed()
        others: list[Any] = []
        if baseline:
            docs = await source_documents(rt.store)
            others = [DocumentBaseline(rt.store, rt.embedder), BM25Baseline(rt.store)]
            with err.status("indexing the baselines' documents"):
                for other in others:
                    await other.build(docs)
        with err.status(f"asking {len(gold.items)} questions"):
            ours, theirs = await evaluate(rt.answerer, gold, k, use_llm=llm, baselines=others)
        return ours, list(zip([o.name for o in others], theirs, strict=True))

    ours, theirs = run_async(lambda: _with_runtime(go))
    if details:
        from flowrag.answer.evaluation import matches

        shown = err if as_json else out
        for o in ours:
            hits = [u for u in o.ranked[:k] if matches(u, (*o.item.expected, *o.item.relevant))]
            mark = (
                "ok " if all(any(matches(u, [e]) for u in o.ranked[:k]) for e in o.item.expected) else "MISS"
            )
            if o.item.no_answer:
                mark = "ok " if o.abstained else "MISS"
            shown.print(f"{mark} {o.item.id}: {o.item.question}", highlight=False)
            if mark == "MISS" or o.item.no_answer:
                shown.print(f"     expected: {', '.join(o.item.expected) or '(no answer)'}", highlight=False)
                for i, uid in enumerate(o.ranked[:k], 1):
                    shown.print(f"     {i}. {'+' if uid in hits else ' '} {uid}", highlight=False)
    _print_eval(score(ours, k), [(name, score(t, k)) for name, t in theirs], k, as_json, split)


async def _load(fn: Callable[[Path], T], path: Path) -> T:
    return fn(path)


def _print_eval(ours: Any, theirs: list[tuple[str, Any]], k: int, as_json: bool, split: str) -> None:
    if as_json:
        out.print_json(
            json.dumps(
                {"split": split, "flowrag": ours.__dict__, "baselines": {n: t.__dict__ for n, t in theirs}},
                default=str,
            )
        )
        return
    table = Table(title=f"evaluation: {ours.questions} questions (split: {split})")
    table.add_column("metric")
    table.add_column("flowrag", justify="right")
    for name, _ in theirs:
        table.add_column(name, justify="right")

    def row(name: str, get: Callable[[Any], float | int], fmt: str = "{:.3f}") -> None:
        table.add_row(name, fmt.format(get(ours)), *(fmt.format(get(t)) for _, t in theirs))

    row(f"recall@{k}", lambda s: s.recall_at_k)
    row("MRR", lambda s: s.mrr)
    row("citation precision", lambda s: s.citation_precision)
    row("no-answer accuracy", lambda s: s.no_answer_accuracy)
    row("wrongful abstention (answerable)", lambda s: s.wrongful_abstention)
    row("median ms / question", lambda s: s.median_ms, "{:.0f}")

    def part(attr: str, key: str) -> Callable[[Any], float]:
        return lambda s: float(getattr(s, attr).get(key, float("nan")))

    for language in ours.by_language:
        row(f"  {language}: recall@{k}", part("by_language", language))
    for category in ours.by_category:
        label = "answered 'no answer'" if category == "no-answer" else f"recall@{k}"
        row(f"  {category}: {label}", part("by_category", category))
    out.print(table)
    if ours.misses:
        out.print(f"flowrag misses (recall@{k} < 1): {', '.join(ours.misses)}", highlight=False)


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
    settings = state.settings

    async def go(store: Any) -> Any:
        service = ReportService(store, settings, LLMClient(settings.llm))
        the_day = service.day(day)
        if send:
            service.channels_for(channel)  # an unknown or unconfigured channel fails before any work
        with err.status(f"building the report of {the_day}"):
            built = await service.build(the_day, language)
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


@app.command("export")
def export_cmd(path: Annotated[Path, typer.Argument(help="Output file (.jsonl or .jsonl.gz).")]) -> None:
    """Export the whole graph (nodes with embeddings, relationships) of the configured store."""
    from flowrag.graph.transfer import export_graph

    async def go(store: Any) -> Any:
        with err.status("exporting"):
            return await export_graph(store, path)

    nodes, rels = run_async(lambda: _with_store(go, migrate=False))
    out.print(f"exported {nodes:,} nodes and {rels:,} relationships to {path}")


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="A file written by `flowrag export`.")],
    reembed: Annotated[
        bool,
        typer.Option(
            "--reembed",
            help="Embed every node again with the configured model instead of keeping the exported "
            "vectors (moving to another embedding model).",
        ),
    ] = False,
) -> None:
    """Import an export into the configured store (MERGE: existing nodes are updated)."""
    from flowrag.graph.transfer import import_graph

    if not reembed:

        async def go() -> Any:
            async def into(store: Any) -> Any:
                with err.status("importing"):
                    return await import_graph(store, path)

            return await _with_store(into)

    else:

        async def go() -> Any:
            from flowrag.ingest.writer import embed_rows
            from flowrag.runtime import Runtime

            rt = await Runtime.open(state.settings)

            async def embed(rows: list[Any]) -> list[Any]:
                return (await embed_rows(rt.embedder, rows))[0]

            try:
                with err.status("importing and embedding") as status:
                    return await import_graph(
                        rt.store,
                        path,
                        embed=embed,
                        progress=lambda n: status.update(f"importing and embedding: {n:,} nodes"),
                    )
            finally:
                await rt.close()

    nodes, rels = run_async(go)
    out.print(f"imported {nodes:,} nodes and {rels:,} new relationships from {path}")


@app.command("export-schema")
def export_schema(path: Annotated[Path, typer.Argument()] = Path("docs/schema.graphql")) -> None:
    """Write the GraphQL SDL (checked in; a test fails when it drifts)."""
    from flowrag.api.schema import build_schema

    path.write_text(build_schema(10).as_str() + "\n", encoding="utf-8")
    out.print(f"wrote {path}")


@app.command()
def docs(
    directory: Annotated[Path, typer.Option(help="Where to write the generated pages.")] = Path("docs"),
) -> None:
    """Regenerate docs/ontology.md, docs/configuration.md and the Neo4j Browser style and guide
    (docs/neo4j-browser.grass, docs/neo4j-browser.md) from the code."""
    from flowrag.schema.docs import browser_guide, browser_style, configuration_markdown, ontology_markdown

    directory.mkdir(parents=True, exist_ok=True)
    pages = {
        "ontology.md": ontology_markdown(),
        "configuration.md": configuration_markdown(),
        "neo4j-browser.grass": browser_style(),
        "neo4j-browser.md": browser_guide(),
    }
    for name, text in pages.items():
        (directory / name).write_text(text, encoding="utf-8")
    out.print("wrote " + ", ".join(str(directory / name) for name in pages))


def main() -> None:
    try:
        app()
    except FlowragError as exc:  # pragma: no cover - run_async handles these
        err.print(f"error: {exc}")
        sys.exit(1)

"""The `flowrag` Typer app, its global options and the helpers every command uses (errors, the
event loop, the store and runtime, progress bars, report tables)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flowrag.errors import FlowragError
from flowrag.logs import configure_logging
from flowrag.settings import Settings, StoreKind, load_settings

__all__ = ["app", "err", "ingest_app", "inspect_app", "out", "run_async", "state"]

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
        bar.update(tasks[collection], completed=done, total=total)

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
        for value, reading in p.status_values.items():
            out.print(f"  status {value} = {reading}", highlight=False, markup=False)
        if p.unclassified:
            out.print(
                f"  [yellow]status values read as no class: {escape(', '.join(p.unclassified))} "
                "(set them with FLOWRAG_MONGO__STATUS_VALUES)[/]",
                highlight=False,
            )
        if p.day_first is not None:
            out.print(f"  dates: {'day' if p.day_first else 'month'} first", highlight=False)
        for concept, candidates in p.ambiguous.items():
            out.print(
                f"  [yellow]{concept}: several candidates: {' | '.join(candidates)}[/]", highlight=False
            )
        if not p.runs:
            out.print(
                "  no runs: documents stay records (give --map COLLECTION.pipeline=FIELD if they are runs)"
            )

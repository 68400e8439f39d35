"""The ``flowrag`` command (composition root for the terminal)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from flowrag.errors import FlowragError
from flowrag.settings import Settings, StoreKind

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    name="flowrag",
    help="Knowledge-graph-first GraphRAG over monitoring data, code and API docs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Ingest a source into the graph.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

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
    settings = Settings()
    if store is not None:
        settings.store.kind = store
    if store_path is not None:
        settings.store.path = store_path
    if neo4j_uri is not None:
        settings.store.neo4j_uri = neo4j_uri
    state.settings = settings
    state.debug = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else getattr(logging, settings.log_level.upper(), logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; turn flowrag errors into one clear line and exit code 1."""
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except FlowragError as exc:
        if state.debug:
            raise
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
        raise typer.Exit(1) from None
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


def main() -> None:
    try:
        app()
    except FlowragError as exc:  # pragma: no cover - run_async handles these
        err.print(f"error: {exc}")
        sys.exit(1)

"""Commands on the store itself: migrate, doctor, repair, stats, cypher, export/import, the generated docs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flowrag.cli.base import (
    _with_store,
    app,
    err,
    out,
    run_async,
    state,
)


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

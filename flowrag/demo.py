"""`flowrag demo`: bundled example -> embedded store -> three cited answers in French."""

from __future__ import annotations

import shutil
import time
from importlib import resources
from typing import Any

from rich.console import Console

from flowrag.settings import Settings, StoreKind

__all__ = ["DEMO_QUESTIONS", "run_demo"]

DEMO_QUESTIONS = (
    "Quels flows ont échoué hier et pourquoi ?",
    "Quelle opération Delphix rafraîchit une VDB à partir d'un snapshot, et quel payload attend-elle ?",
    "Comment ajouter un endpoint qui rafraîchit une VDB depuis notre API ?",
)


def demo_settings(settings: Settings) -> Settings:
    demo = settings.model_copy(deep=True)
    demo.store.kind = StoreKind.EMBEDDED
    demo.store.path = settings.data_dir / "demo" / "graph"
    return demo


async def ingest_example(runtime: Any, out: Console, err: Console) -> list[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flowrag.examples.monitoring import example_database
    from flowrag.ingest.code import ingest_code
    from flowrag.ingest.monitoring import ingest_documents
    from flowrag.ingest.openapi import ingest_openapi
    from flowrag.ingest.writer import IngestReport

    reports = []
    examples = resources.files("flowrag.examples")
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as bar:
        task = bar.add_task("Delphix DCT spec (subset)", total=1)
        spec = str(examples.joinpath("data/dct-subset.yaml"))
        reports.append(await ingest_openapi(runtime.store, runtime.embedder, spec, "delphix-dct"))
        bar.update(task, completed=1)
        for collection, docs in example_database().items():
            task = bar.add_task(f"mongo: {collection}", total=len(docs))
            report = IngestReport("mongo", collection)

            def progress(_c: str, done: int, _t: int | None, task: Any = task) -> None:
                bar.update(task, completed=done)

            await ingest_documents(
                runtime.store,
                runtime.embedder,
                runtime.vocabulary,
                collection,
                docs,
                report,
                progress=progress,
                batch_size=200,
                nlp=runtime.nlp,
            )
            reports.append(report.finish())
        task = bar.add_task("code: example repository", total=None)
        repo = examples.joinpath("repo")

        def code_progress(_scope: str, done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        reports.append(
            await ingest_code(runtime.store, runtime.embedder, str(repo), "vdb-tools", code_progress)
        )
    return reports


async def run_demo(settings: Settings, out: Console, err: Console, *, fresh: bool = True) -> None:
    from flowrag.runtime import Runtime

    settings = demo_settings(settings)
    assert settings.store.path is not None
    if fresh and settings.store.path.exists():
        shutil.rmtree(settings.store.path)
    started = time.perf_counter()
    err.print(f"[bold]flowrag demo[/] — embedded store at {settings.store.path}")
    from flowrag.models.e5_onnx import ONNX_DIR

    if not (settings.models_dir / ONNX_DIR).is_dir():
        err.print("(first run: building the bundled embedding model once, ~10 s)")
    runtime = await Runtime.open(settings)
    try:
        reports = await ingest_example(runtime, out, err)
        for r in reports:
            err.print(
                f"  {r.source}:{r.scope}: {r.read} read, {r.created} created, {r.relationships} relationships, "
                f"{r.embedded} embedded ({r.seconds:.1f}s)",
                highlight=False,
            )
        answerer = runtime.answerer
        for question in DEMO_QUESTIONS:
            result = await answerer.ask(question)
            out.print(f"\n[bold cyan]? {question}[/]", highlight=False)
            out.print(result.answer, highlight=False)
            out.print("[dim]sources :[/]")
            for c in result.citations[:6]:
                out.print(f"  [dim][{c.number}] {c.label} — {c.provenance}[/]", highlight=False)
            out.print(f"[dim]mode : {result.mode} · {result.timings.get('total_ms', 0):.0f} ms[/]")
    finally:
        await runtime.close()
    out.print(f"\n[green]done in {time.perf_counter() - started:.0f} s.[/] Next:")
    out.print(
        f'  flowrag --store-path {settings.store.path} ask "Quels flows Spark ont échoué depuis lundi ?"'
    )
    out.print(
        f"  flowrag --store-path {settings.store.path} report   # yesterday's morning report (--send: Slack, Teams, e-mail)"
    )
    out.print(
        f"  flowrag --store-path {settings.store.path} serve   # GraphiQL at http://127.0.0.1:8000/graphql"
    )
    out.print(
        "  FLOWRAG_LLM__MODEL=ollama_chat/llama3.1 FLOWRAG_LLM__API_BASE=http://127.0.0.1:11434 … for LLM answers"
    )
    out.print("  FLOWRAG_STORE__KIND=neo4j + `flowrag export`/`import` to explore the graph in Neo4j Browser")

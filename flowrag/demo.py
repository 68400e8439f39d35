"""`flowrag demo`: bundled example -> embedded store -> three cited answers in French."""

from __future__ import annotations

import shutil
import time
from importlib import resources
from pathlib import Path
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


#: the demo's corpus, as a gold set names one (flowrag/examples/: a subset of the DCT spec, the
#: example monitoring database, the example repository)
DEMO_CORPUS = {
    "openapi": [{"location": "data/dct-subset.yaml", "name": "delphix-dct"}],
    "monitoring": "example",
    "code": [{"path": "repo", "name": "vdb-tools"}],
}


async def ingest_example(runtime: Any, out: Console, err: Console) -> list[Any]:
    from flowrag.cli.base import _bar_callback, _progress
    from flowrag.eval.corpus import ingest_corpus

    base = Path(str(resources.files("flowrag.examples")))
    with _progress() as bar:
        return await ingest_corpus(runtime, DEMO_CORPUS, base, progress=_bar_callback(bar), batch_size=200)


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

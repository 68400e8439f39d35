"""Questions: `ask`, `shell`, and `eval` (flowrag against the baselines on a gold set)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flowrag.cli.base import (
    T,
    _bar_callback,
    _print_reports,
    _progress,
    _with_runtime,
    app,
    err,
    out,
    run_async,
)
from flowrag.errors import FlowragError


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
    """Load what the gold file's `corpus` names, with progress bars (idempotent)."""
    from flowrag.eval.corpus import ingest_corpus

    with _progress() as bar:
        return await ingest_corpus(
            rt, gold.corpus, gold.path.parent, now=gold.now, progress=_bar_callback(bar)
        )


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
    from flowrag.eval.scoring import (
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
        from flowrag.eval.scoring import matches

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

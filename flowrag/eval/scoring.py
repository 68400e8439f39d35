"""``flowrag eval``: run a gold set through the answer path and through a document-level baseline,
and score both the same way.

Gold file (YAML)::

    now: "2026-11-22T09:30:00Z"        # reference time for "hier", "last 24h" (optional)
    corpus:                              # what --ingest loads first (paths relative to the file)
      openapi: [{location: ../../shared/data/delphix/dct-openapi.yaml, name: delphix-dct}]
      monitoring: example                # the bundled loghub-derived generator, dated from `now`
      code: [{path: ../flowrag/examples/repo, name: vdb-tools}]
    questions:
      - id: api-refresh-snapshot
        question: "Quel endpoint rafraîchit une VDB à partir d'un snapshot ?"
        category: api
        expected: ["Endpoint:delphix-dct:POST /vdbs/{vdbId}/refresh_by_snapshot"]   # uids or globs
        relevant: ["Schema:delphix-dct:RefreshVDBBySnapshotParameters"]  # also correct to cite
        facts: ["refresh_by_snapshot"]   # substrings the answer should contain
      - id: none-recipe
        question: "Quelle est la recette de la tarte tatin ?"
        no_answer: true

Metrics: recall@k (share of expected items found in the first k evidence items), MRR (first expected
item), citation precision (cited items that are expected or relevant), fact recall, no-answer accuracy.

Two baselines run on the same documents in the same run: a plain vector RAG (one vector per source
document — a Mongo record, a source file, an API operation or schema, a doc section — top-k by
cosine, no graph) and plain BM25 over the same documents (``bm25s``). Neither abstains: they always
answer, so "no answer" accuracy measures only flowrag's relevance judgement.

Questions may carry ``split: dev|test``: tune on dev, report test (``flowrag eval --split test``).
Language is the question's (``-fr``/``-en`` id suffix, else detected), reported per language."""

from __future__ import annotations

import asyncio
import fnmatch
import os
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from flowrag.answer.service import Answerer
from flowrag.errors import SourceError
from flowrag.graph.port import GraphStore, StoredNode, all_nodes
from flowrag.models.embeddings import Embedder
from flowrag.models.nlp import detect_language

__all__ = [
    "BM25Baseline",
    "DocumentBaseline",
    "GoldItem",
    "GoldSet",
    "Outcome",
    "Scores",
    "evaluate",
    "load_gold",
    "matches",
    "score",
    "select",
    "source_documents",
]


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    category: str = "other"
    expected: tuple[str, ...] = ()
    relevant: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    no_answer: bool = False
    sources: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    split: str = "dev"
    language: str = "fr"


@dataclass(frozen=True)
class GoldSet:
    path: Path
    items: tuple[GoldItem, ...]
    now: datetime | None = None
    corpus: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"  # whose days the set's "hier" means (the expected runs depend on it)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SourceError(f"{where}: expected a string or a list of strings, got {value!r}")


def load_gold(path: Path) -> GoldSet:
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(f"gold set {path} does not exist") from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"gold set {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list) or not raw["questions"]:
        raise SourceError(f"gold set {path}: expected a mapping with a non-empty 'questions' list")
    items: list[GoldItem] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw["questions"]):
        where = f"{path.name}: question #{i + 1}"
        if not isinstance(entry, dict) or not isinstance(entry.get("question"), str):
            raise SourceError(f"{where}: needs a 'question' string")
        qid = str(entry.get("id") or f"q{i + 1}")
        split = str(entry.get("split") or "dev")
        if split not in ("dev", "test"):
            raise SourceError(f"{where} ({qid}): split must be dev or test, not {split!r}")
        suffix = re.search(r"-(fr|en)$", qid)
        item = GoldItem(
            id=qid,
            split=split,
            language=suffix.group(1) if suffix else detect_language(entry["question"]),
            question=entry["question"],
            category=str(entry.get("category") or ("no-answer" if entry.get("no_answer") else "other")),
            expected=_strings(entry.get("expected"), where),
            relevant=_strings(entry.get("relevant"), where),
            facts=_strings(entry.get("facts"), where),
            no_answer=bool(entry.get("no_answer", False)),
            sources=_strings(entry.get("sources"), where),
            collections=_strings(entry.get("collections"), where),
        )
        if not item.no_answer and not item.expected:
            raise SourceError(f"{where} ({item.id}): give 'expected' evidence, or set no_answer: true")
        if item.id in seen:
            raise SourceError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    now = raw.get("now")
    if isinstance(now, str):
        now = datetime.fromisoformat(now.replace("Z", "+00:00"))
    if isinstance(now, datetime) and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return GoldSet(
        path,
        tuple(items),
        now if isinstance(now, datetime) else None,
        _expand_env(dict(raw.get("corpus") or {}), path),
        str(raw.get("timezone") or "UTC"),
    )


_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")


def _expand_env(value: Any, path: Path) -> Any:
    """``${FLOWRAG_EXTERNAL_DIR}/spec.yaml`` in corpus entries: material kept outside the repo."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise SourceError(
                    f"{path.name}: the corpus needs the environment variable {name}",
                    hint=f"set {name} (see {path.parent / 'README.md'} for what it should point to)",
                )
            return os.environ[name]

        return _ENV.sub(sub, value)
    if isinstance(value, list):
        return [_expand_env(v, path) for v in value]
    if isinstance(value, dict):
        return {k: _expand_env(v, path) for k, v in value.items()}
    return value


def select(gold: GoldSet, split: str) -> GoldSet:
    """The questions of one split (``all`` keeps every question)."""
    if split == "all":
        return gold
    if split not in ("dev", "test"):
        raise SourceError(f"unknown split {split!r}", hint="use dev, test or all")
    items = tuple(i for i in gold.items if i.split == split)
    if not items:
        raise SourceError(
            f"{gold.path.name} has no {split} questions", hint="give questions a 'split: dev|test'"
        )
    return GoldSet(gold.path, items, gold.now, gold.corpus, gold.timezone)


@dataclass(frozen=True)
class Outcome:
    """What a system returned for one question: ranked evidence uids, what it cited, its text."""

    item: GoldItem
    ranked: tuple[str, ...]
    cited: tuple[str, ...]
    answer: str
    abstained: bool
    ms: float


def matches(uid: str, patterns: Sequence[str]) -> bool:
    return any(uid == p or fnmatch.fnmatchcase(uid, p) for p in patterns)


@dataclass(frozen=True)
class Scores:
    questions: int
    recall_at_k: float
    mrr: float
    citation_precision: float
    fact_recall: float
    no_answer_accuracy: float
    false_no_answer: int
    by_category: dict[str, float]
    median_ms: float
    misses: tuple[str, ...]  # ids of answerable questions with recall@k < 1
    by_language: dict[str, float] = field(default_factory=dict)  # recall@k per question language
    wrongful_abstention: float = 0.0  # share of answerable questions answered "no answer"


def score(outcomes: Sequence[Outcome], k: int) -> Scores:
    recalls: list[float] = []
    ranks: list[float] = []
    precisions: list[float] = []
    facts: list[float] = []
    no_answer: list[bool] = []
    false_no_answer = 0
    by_category: dict[str, list[float]] = defaultdict(list)
    by_language: dict[str, list[float]] = defaultdict(list)
    misses: list[str] = []
    for o in outcomes:
        item = o.item
        if item.no_answer:
            no_answer.append(o.abstained)
            by_category[item.category].append(1.0 if o.abstained else 0.0)
            continue
        false_no_answer += int(o.abstained)
        top = o.ranked[:k]
        found = [p for p in item.expected if any(matches(u, [p]) for u in top)]
        recall = len(found) / len(item.expected)
        recalls.append(recall)
        by_category[item.category].append(recall)
        by_language[item.language].append(recall)
        if recall < 1:
            misses.append(item.id)
        rank = next((i + 1 for i, u in enumerate(o.ranked) if matches(u, item.expected)), None)
        ranks.append(1 / rank if rank else 0.0)
        if o.cited:
            good = sum(1 for u in o.cited if matches(u, (*item.expected, *item.relevant)))
            precisions.append(good / len(o.cited))
        if item.facts:
            text = o.answer.lower()
            facts.append(sum(1 for f in item.facts if f.lower() in text) / len(item.facts))

    def mean(values: list[float]) -> float:
        return statistics.fmean(values) if values else float("nan")

    return Scores(
        questions=len(outcomes),
        recall_at_k=mean(recalls),
        mrr=mean(ranks),
        citation_precision=mean(precisions),
        fact_recall=mean(facts),
        no_answer_accuracy=mean([1.0 if v else 0.0 for v in no_answer]),
        false_no_answer=false_no_answer,
        by_category={c: mean(v) for c, v in sorted(by_category.items())},
        median_ms=statistics.median([o.ms for o in outcomes]) if outcomes else float("nan"),
        misses=tuple(misses),
        by_language={c: mean(v) for c, v in sorted(by_language.items())},
        wrongful_abstention=false_no_answer / len(recalls) if recalls else 0.0,
    )


async def source_documents(store: GraphStore) -> list[tuple[str, tuple[str, ...]]]:
    """The corpus as a plain RAG would chunk it: one text per source document, with the node uids
    it covers (a record and its run; a file and its symbols; an operation; a schema; a section)."""
    docs: list[tuple[str, tuple[str, ...]]] = []
    records = await all_nodes(store, "Record")
    described = await store.neighbours([r.uid for r in records], ["DESCRIBES"], 1) if records else None
    runs_of: dict[str, list[str]] = defaultdict(list)
    for edge in described.edges if described else ():
        runs_of[edge.start].append(edge.end)
    docs += [(r.text or r.name, (r.uid, *runs_of[r.uid])) for r in records]
    files: dict[tuple[str, str], list[StoredNode]] = defaultdict(list)
    for label in ("File", "Class", "Function", "Route", "HttpCall", "DocChunk"):
        for node in await all_nodes(store, label):
            files[(node.scope, str(node.props.get("path", "")))].append(node)
    for group in files.values():
        group.sort(key=lambda n: (n.label != "File", int(n.props.get("line", 0) or 0)))
        # a plain RAG chunks the file's source: the symbols' code where it is kept, else their text
        docs.append(
            (
                "\n".join(str(n.props.get("code") or n.text or n.name) for n in group),
                tuple(n.uid for n in group),
            )
        )
    for label in ("Endpoint", "Schema", "DocSection"):
        docs += [(n.text or n.name, (n.uid,)) for n in await all_nodes(store, label)]
    return [(t[:4000], c) for t, c in docs]


def _outcome(item: GoldItem, order: Sequence[int], covers: Sequence[tuple[str, ...]], ms: float) -> Outcome:
    ranked: list[str] = []
    for index in order:
        ranked += [u for u in covers[index] if u not in ranked]
    return Outcome(item, tuple(ranked), tuple(covers[i][0] for i in order), "", False, ms)


class DocumentBaseline:
    """One vector per source document, top-k cosine, nothing else (see the module docstring)."""

    name = "vector (1 per document)"

    def __init__(self, store: GraphStore, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder
        self._covers: list[tuple[str, ...]] = []
        self._matrix: np.ndarray[Any, np.dtype[np.float32]] | None = None

    async def build(self, docs: list[tuple[str, tuple[str, ...]]] | None = None) -> int:
        docs = docs if docs is not None else await source_documents(self._store)
        texts = [t for t, _ in docs]
        vectors = await asyncio.to_thread(self._embedder.embed_passages, texts) if texts else None
        self._covers = [c for _, c in docs]
        self._matrix = None if vectors is None else np.asarray(vectors, dtype=np.float32)
        return len(docs)

    async def ask(self, item: GoldItem, k: int) -> Outcome:
        t0 = asyncio.get_running_loop().time()
        if self._matrix is None or not len(self._matrix):
            return Outcome(item, (), (), "", True, 0.0)
        query = (await asyncio.to_thread(self._embedder.embed_queries, [item.question]))[0]
        sims = self._matrix @ np.asarray(query, dtype=np.float32)
        order = [int(i) for i in np.argsort(-sims)[:k]]
        return _outcome(item, order, self._covers, (asyncio.get_running_loop().time() - t0) * 1000)


class BM25Baseline:
    """Plain BM25 (``bm25s``, English stop words) over the same documents as the vector baseline."""

    name = "BM25 (bm25s)"

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._covers: list[tuple[str, ...]] = []
        self._index: Any = None

    async def build(self, docs: list[tuple[str, tuple[str, ...]]] | None = None) -> int:
        try:
            import bm25s
        except ImportError as exc:
            raise SourceError(
                "the BM25 baseline needs the bm25s package", hint="pip install 'flowrag[eval]'"
            ) from exc
        docs = docs if docs is not None else await source_documents(self._store)
        self._covers = [c for _, c in docs]
        if docs:
            self._index = bm25s.BM25()
            self._index.index(
                bm25s.tokenize([t for t, _ in docs], stopwords="en", show_progress=False), show_progress=False
            )
        return len(docs)

    async def ask(self, item: GoldItem, k: int) -> Outcome:
        import bm25s

        t0 = asyncio.get_running_loop().time()
        if self._index is None:
            return Outcome(item, (), (), "", True, 0.0)
        tokens = bm25s.tokenize([item.question], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return _outcome(item, [], self._covers, 0.0)
        results, scores = self._index.retrieve(tokens, k=min(k, len(self._covers)), show_progress=False)
        order = [int(i) for i, sc in zip(results[0], scores[0], strict=True) if sc > 0]
        return _outcome(item, order, self._covers, (asyncio.get_running_loop().time() - t0) * 1000)


Baseline = DocumentBaseline | BM25Baseline


async def evaluate(
    answerer: Answerer,
    gold: GoldSet,
    k: int = 5,
    *,
    use_llm: bool = False,
    baselines: Sequence[Baseline] = (),
) -> tuple[list[Outcome], list[list[Outcome]]]:
    """Run every question through flowrag and through each baseline."""
    ours: list[Outcome] = []
    theirs: list[list[Outcome]] = [[] for _ in baselines]
    for item in gold.items:
        result = await answerer.ask(
            item.question,
            sources=item.sources,
            collections=item.collections,
            top_k=max(k, 8),
            now=gold.now,
            use_llm=use_llm,
            timezone=gold.timezone,
        )
        cited = tuple(c.uid for c in sorted(result.citations, key=lambda c: c.number))
        evidence = tuple(n.uid for n in result.nodes)
        ours.append(
            Outcome(
                item,
                evidence,
                cited[:k],
                result.answer,
                result.mode == "no-answer",
                result.timings.get("total_ms", 0.0),
            )
        )
        for outcomes, baseline in zip(theirs, baselines, strict=True):
            outcomes.append(await baseline.ask(item, k))
    return ours, theirs

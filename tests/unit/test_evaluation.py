"""Gold-set loading (bad files get clear errors) and the scoring arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowrag.errors import SourceError
from flowrag.eval.scoring import GoldItem, Outcome, load_gold, score


def test_load_gold(tmp_path: Path) -> None:
    path = tmp_path / "gold.yaml"
    path.write_text(
        'now: "2026-11-22T09:30:00Z"\ncorpus: {monitoring: example}\nquestions:\n'
        '  - {id: a, question: "Q1 ?", expected: "Endpoint:x", category: api}\n'
        "  - {question: Q2, no_answer: true}\n"
    )
    gold = load_gold(path)
    assert [i.id for i in gold.items] == ["a", "q2"]
    assert gold.items[0].expected == ("Endpoint:x",) and gold.items[1].category == "no-answer"
    assert gold.now is not None and gold.now.isoformat() == "2026-11-22T09:30:00+00:00"
    assert gold.corpus == {"monitoring": "example"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("questions: [", "not valid YAML"),
        ("questions: []", "non-empty 'questions' list"),
        ("questions:\n  - {expected: x}", "needs a 'question' string"),
        ("questions:\n  - {question: Q}", "give 'expected' evidence, or set no_answer"),
        ("questions:\n  - {question: Q, expected: [1, 2]}", "expected a string or a list of strings"),
        (
            "questions:\n  - {id: a, question: Q, no_answer: true}\n  - {id: a, question: R, no_answer: true}",
            "duplicate id",
        ),
    ],
)
def test_bad_gold_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "gold.yaml"
    path.write_text(text)
    with pytest.raises(SourceError, match=message):
        load_gold(path)
    with pytest.raises(SourceError, match="does not exist"):
        load_gold(tmp_path / "missing.yaml")


def test_score() -> None:
    a = GoldItem("a", "q", "api", expected=("E:1", "E:2"), relevant=("S:*",), facts=("refresh", "absent"))
    b = GoldItem("b", "q", "code", expected=("F:*",))
    c = GoldItem("c", "q", no_answer=True, category="no-answer")
    outcomes = [
        Outcome(a, ("X:0", "E:1", "S:9", "E:2"), ("X:0", "E:1", "S:9"), "see refresh_by_snapshot", False, 10),
        Outcome(b, ("X:0", "X:1", "X:2"), ("X:0",), "", False, 20),
        Outcome(c, (), (), "", True, 30),
    ]
    s = score(outcomes, k=3)
    assert s.recall_at_k == pytest.approx((0.5 + 0.0) / 2)  # E:2 is 4th: outside k=3
    assert s.mrr == pytest.approx((1 / 2 + 0) / 2)
    assert s.citation_precision == pytest.approx((2 / 3 + 0) / 2)  # S:9 is relevant
    assert s.fact_recall == pytest.approx(0.5)
    assert s.no_answer_accuracy == 1.0 and s.false_no_answer == 0
    assert s.by_category == {"api": 0.5, "code": 0.0, "no-answer": 1.0}
    assert s.misses == ("a", "b") and s.median_ms == 20

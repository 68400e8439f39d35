"""The relevance judgement: off-topic only when both signals sit at this store's background."""

from __future__ import annotations

from flowrag.answer.retrieval.relevance import PROBES, Background, content_words, judge


def test_verdicts_against_the_background() -> None:
    bg = Background(vector=(0.78, 0.80, 0.79), coverage=(0.0, 0.25, 0.5))
    assert judge(0.81, 0.6, bg).verdict == "strong"
    assert judge(0.81, 0.5, bg).verdict == "weak"  # words at background, vector above
    assert judge(0.80, 0.75, bg).verdict == "weak"  # vector at background, words above
    off = judge(0.80, 0.5, bg)
    assert off.verdict == "off-topic"
    assert "0.800" in off.reason and "background" in off.reason


def test_the_same_scores_mean_different_things_on_different_stores() -> None:
    dense = Background(vector=(0.86,) * 3, coverage=(0.6,) * 3)  # a large, wordy corpus
    sparse = Background(vector=(0.78,) * 3, coverage=(0.0,) * 3)
    assert judge(0.84, 0.5, dense).verdict == "off-topic"
    assert judge(0.84, 0.5, sparse).verdict == "strong"


def test_probes_are_bilingual_and_have_content_words() -> None:
    french = [
        p
        for p in PROBES
        if any(c in p for c in "éèàç")
        or p.startswith(("Quel", "Comment", "Combien", "Où", "Qui", "Pourquoi", "Peux"))
    ]
    assert len(french) >= len(PROBES) // 3 and len(PROBES) - len(french) >= len(PROBES) // 3
    assert all(content_words(p) for p in PROBES)
    assert content_words("Qu'est-ce que l'endpoint des VDB ?") == ["endpoint", "vdb"]

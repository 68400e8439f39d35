"""Is the graph about this question at all? Measured against this store's own background.

Cosine scores of a compressed model such as e5-small mean different things on different corpora
(the best hit of an unrelated question is 0.78 on one spec, 0.84 on another), and the share of a
question's words found in a corpus grows with the corpus. So no constant decides: at first use,
the retriever asks ``PROBES`` — everyday questions in French and English that no data-platform
corpus answers (cooking, sport, travel, health…) — and records, for this store, the best vector
score and the word coverage each one gets. That is the background.

A question is judged:

* **off-topic** (the answer says "not in the evidence") only when *both* its best vector score and
  its word coverage are at background level: no higher than the highest a probe reached;
* **weak** when one of the two is at background level: it is answered, flagged low-confidence;
* **strong** otherwise.

The background is recomputed when the store's content changes (``invalidate``) and costs one
vector search and a few one-row full-text probes per probe question (their embeddings are cached).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flowrag.answer.planner import STOPWORDS

__all__ = ["PROBES", "Background", "Judgement", "content_words", "judge"]

#: Everyday questions nobody asks a data-platform knowledge graph; French and English, varied in
#: length and form. They define "unrelated" for a given store; they are not tuned to any corpus.
PROBES: tuple[str, ...] = (
    "Combien de temps faut-il laisser reposer une pâte à crêpes ?",
    "Quelle est la meilleure saison pour visiter le Portugal ?",
    "Qui a écrit Les Misérables ?",
    "Comment soigner un rhume sans médicaments ?",
    "Quel est le score du dernier match de rugby France Irlande ?",
    "Où acheter des chaussures de randonnée pas chères ?",
    "Comment tailler un rosier en automne ?",
    "Quelle est la hauteur de la tour Eiffel ?",
    "Peux-tu me conseiller un bon roman policier ?",
    "Quels sont les horaires d'ouverture de la piscine municipale ?",
    "Comment apprendre à jouer de la guitare rapidement ?",
    "Quelle est la différence entre un crocodile et un alligator ?",
    "Combien de calories contient une banane ?",
    "Comment réserver un billet de train pour Marseille ?",
    "Pourquoi le ciel est-il bleu ?",
    "Quel vin servir avec un plateau de fromages ?",
    "How long does it take to run a marathon?",
    "What is the best way to learn Spanish at home?",
    "Who painted the Mona Lisa?",
    "How many legs does a spider have?",
    "Which actor played James Bond in Skyfall?",
    "How do I remove a red wine stain from a carpet?",
    "What should I pack for a beach holiday?",
    "When did the Roman Empire fall?",
    "How can I improve my sleep quality?",
    "What is a good recipe for banana bread?",
    "Where is the tallest mountain in Africa?",
    "How do you train a puppy to sit?",
    "What are the rules of chess castling?",
    "Which planets have rings?",
    "How often should I water a cactus?",
    "What time does the sun set in Paris in June?",
)

_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)


def content_words(question: str) -> list[str]:
    """Lower-cased words of three letters or more, without function words or elisions."""
    words = []
    for raw in _WORD.findall(question.lower()):
        word = raw.split("'", 1)[-1].strip("-'")
        if len(word) >= 3 and word not in STOPWORDS:
            words.append(word)
    return list(dict.fromkeys(words))


@dataclass(frozen=True)
class Background:
    """What unrelated questions get from this store."""

    vector: tuple[float, ...]  # best vector score of each probe
    coverage: tuple[float, ...]  # share of each probe's content words found by full-text

    @property
    def vector_ceiling(self) -> float:
        return max(self.vector, default=0.0)

    @property
    def coverage_ceiling(self) -> float:
        return max(self.coverage, default=0.0)


@dataclass(frozen=True)
class Judgement:
    verdict: str  # "strong" | "weak" | "off-topic"
    best_vector: float
    coverage: float
    vector_ceiling: float
    coverage_ceiling: float

    @property
    def reason(self) -> str:
        vec = "above" if self.best_vector > self.vector_ceiling else "at"
        cov = "above" if self.coverage > self.coverage_ceiling else "at"
        return (
            f"best vector score {self.best_vector:.3f} is {vec} this store's background "
            f"({self.vector_ceiling:.3f}); {self.coverage:.0%} of the question's words are in the corpus, "
            f"{cov} background ({self.coverage_ceiling:.0%})"
        )


def judge(best_vector: float, coverage: float, background: Background) -> Judgement:
    above_vector = best_vector > background.vector_ceiling
    above_words = coverage > background.coverage_ceiling
    verdict = (
        "strong" if above_vector and above_words else "weak" if above_vector or above_words else "off-topic"
    )
    return Judgement(verdict, best_vector, coverage, background.vector_ceiling, background.coverage_ceiling)

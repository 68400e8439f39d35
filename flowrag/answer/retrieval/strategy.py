"""Retrieval strategy as data: how many seeds, which edges to follow, how scores travel."""

from __future__ import annotations

from dataclasses import dataclass

from flowrag.schema import ONTOLOGY, SOURCE_LABELS

__all__ = ["EDGE_WEIGHTS", "EXPANSION", "LABELS_BY_SOURCE", "STRATEGIES", "RetrievalStrategy"]

LABELS_BY_SOURCE: dict[str, tuple[str, ...]] = {
    source: tuple(label.value for label in labels) for source, labels in SOURCE_LABELS.items()
}

# What to follow from a node of each label (per-type templates).
EXPANSION: dict[str, tuple[str, ...]] = {
    "Endpoint": (
        "ACTS_ON",
        "ACCEPTS",
        "RETURNS",
        "TARGETS",
        "IMPLEMENTS",
        "TAGGED",
        "CALLS_ENDPOINT",
        "NEEDS",
    ),
    "Schema": ("ACCEPTS", "RETURNS", "REPRESENTS", "EXTENDS"),
    "DelphixKind": ("ACTS_ON", "REPRESENTS"),
    "Run": ("OF", "FAILED_WITH", "RAN_ON", "IN_ENVIRONMENT", "DESCRIBES"),
    "Record": ("DESCRIBES", "MENTIONS", "HAS_RECORD"),
    "Pipeline": ("OF", "USES", "IMPLEMENTS"),
    "Error": ("FAILED_WITH",),
    "Function": ("MAKES", "SERVES", "CALLS", "IMPLEMENTS", "CONTAINS", "CALLS_ENDPOINT"),
    "Class": ("CONTAINS",),
    "File": ("CONTAINS", "IMPLEMENTS", "MAKES", "SERVES"),
    "HttpCall": ("TARGETS", "MAKES"),
    "Route": ("SERVES", "IMPLEMENTS"),
    "DocSection": ("SECTION_OF", "MENTIONS"),
    "DocChunk": ("MENTIONS", "CONTAINS"),
    "Technology": ("USES",),
    "Host": ("RAN_ON",),
}

# How much of a node's score flows along an edge, by (type, direction of travel); 1.0 otherwise.
# Fan-out from a kind to its many instances (a pipeline to its runs, a collection to its records,
# a Delphix kind to every endpoint acting on it) passes less than the way back. A prerequisite
# step (NEEDS, consumer -> producer) is brought in as supporting evidence, not as the answer.
EDGE_WEIGHTS: dict[tuple[str, str], float] = {
    ("OF", "in"): 0.6,
    ("HAS_RECORD", "out"): 0.3,
    ("RAN_ON", "in"): 0.6,
    ("FAILED_WITH", "in"): 0.7,
    ("IN_ENVIRONMENT", "in"): 0.5,
    ("ACTS_ON", "in"): 0.3,
    ("ACTS_ON", "out"): 0.5,
    ("REPRESENTS", "in"): 0.5,
    ("TAGGED", "out"): 0.3,
    ("TAGGED", "in"): 0.3,
    ("MENTIONS", "out"): 0.7,
    ("MENTIONS", "in"): 0.7,
    ("RAN_ON", "out"): 0.4,
    ("IN_ENVIRONMENT", "out"): 0.3,
    ("HAS_RECORD", "in"): 0.4,
    ("RETURNS", "out"): 0.5,
    ("NEEDS", "out"): 0.6,
    ("NEEDS", "in"): 0.2,
}

#: Labels that support an answer rather than being one (from the ontology).
SUPPORT_LABELS: frozenset[str] = frozenset(s.label.value for s in ONTOLOGY.labels if s.support)


@dataclass(frozen=True)
class RetrievalStrategy:
    name: str = "balanced"
    vector_k: int = 20
    fulltext_k: int = 20
    rrf_k: int = 60
    seeds: int = 8
    hops: int = 2
    cap_per_node: int = 10  # relationships per node, type and direction (hubs stay bounded)
    hop_decay: float = 0.5
    support_prior: float = 0.5  # rank factor of a supporting label the question does not ask for
    source_hint_boost: float = 1.25
    answer_type_boost: float = 1.5
    siblings_kept: int = 2  # instances of one parent keeping their rank (runs of one pipeline)
    bridge_words: int = 2  # corpus words a question word unknown to the corpus is bridged to


STRATEGIES: dict[str, RetrievalStrategy] = {"balanced": RetrievalStrategy()}

"""Retrieval: seeds, fusion, expansion, ranking and relevance, written once above the store port."""

from flowrag.answer.retrieval.core import Evidence, Retriever, domain_labels
from flowrag.answer.retrieval.relevance import PROBES, Background, Judgement, judge
from flowrag.answer.retrieval.strategy import (
    EDGE_WEIGHTS,
    EXPANSION,
    LABELS_BY_SOURCE,
    STRATEGIES,
    RetrievalStrategy,
)

__all__ = [
    "EDGE_WEIGHTS",
    "EXPANSION",
    "LABELS_BY_SOURCE",
    "PROBES",
    "STRATEGIES",
    "Background",
    "Evidence",
    "Judgement",
    "RetrievalStrategy",
    "Retriever",
    "domain_labels",
    "judge",
]

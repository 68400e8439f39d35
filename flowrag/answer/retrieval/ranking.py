"""Final ranking of the expanded evidence: one document counts once, the asked-for answer type
first, supporting labels (schemas, parameters, hosts…) after the nodes they support, and
instances of one parent (runs of a pipeline) capped so the parent and other facts show."""

from __future__ import annotations

from collections import defaultdict

from flowrag.answer.planner import Plan
from flowrag.answer.retrieval.strategy import LABELS_BY_SOURCE, SUPPORT_LABELS, RetrievalStrategy
from flowrag.graph.port import StoredEdge, StoredNode

__all__ = ["SIBLING_PARENTS", "rank"]

# Edges from an instance to its parent: runs of one pipeline, runs failing with one error template
SIBLING_PARENTS: frozenset[str] = frozenset({"OF", "FAILED_WITH"})


def rank(
    plan: Plan,
    scores: dict[str, float],
    nodes: dict[str, StoredNode],
    edges: dict[tuple[str, str, str], StoredEdge],
    strategy: RetrievalStrategy,
) -> dict[str, float]:
    final = dict(scores)
    for edge in edges.values():  # a Record and the Run it describes are one document: keep the Run
        if edge.type == "DESCRIBES" and edge.start in final and edge.end in final:
            final[edge.end] = max(final[edge.end], final.pop(edge.start))
    hinted = {label for hint in plan.hints for label in LABELS_BY_SOURCE.get(hint, ())}
    for uid in final:
        node = nodes.get(uid)
        if node is None:
            continue
        if node.label in plan.answer_types:
            final[uid] *= strategy.answer_type_boost
        elif node.label in SUPPORT_LABELS:
            final[uid] *= strategy.support_prior
        if node.label in hinted:
            final[uid] *= strategy.source_hint_boost
    parents: dict[str, list[str]] = defaultdict(list)
    for edge in edges.values():
        if edge.type in SIBLING_PARENTS and edge.start in final and edge.end in final:
            parents[edge.start].append(edge.end)
    seen: dict[str, int] = defaultdict(int)
    for uid in sorted(final, key=lambda u: -final[u]):
        groups = parents.get(uid, ())
        if any(seen[g] >= strategy.siblings_kept for g in groups):
            final[uid] *= 0.5
        for group in groups:
            seen[group] += 1
    return final

"""Context builder: numbered evidence with provenance under a token budget, marked as data."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from flowrag.graph.port import StoredNode

__all__ = ["EvidenceItem", "browser_cypher", "build_context", "provenance"]

_MARKERS = re.compile(r"</?\s*(evidence|item|system|instructions?)\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class EvidenceItem:
    number: int
    node: StoredNode
    score: float
    provenance: str
    snippet: str


def provenance(node: StoredNode) -> str:
    """Human provenance: collection/_id, path:line, METHOD /path @version, spec name."""
    props = node.props
    if node.label in ("Record", "Run"):
        return f"{node.scope}/{props.get('doc_id', node.key.split('/', 1)[-1])}"
    if node.label == "Endpoint":
        return f"{props.get('method', '')} {props.get('path', '')} ({props.get('spec', node.scope)} {props.get('version', '')})".strip()
    if node.label in ("Function", "Class", "Route", "HttpCall", "File", "DocChunk"):
        line = props.get("line")
        return f"{props.get('repo', node.scope)}:{props.get('path', '')}" + (f":{line}" if line else "")
    if node.label == "Schema":
        return f"{node.scope}#/schemas/{node.name}"
    if node.label in ("DocPage", "DocSection"):
        return str(props.get("url", node.source_id))
    return node.source_id or node.uid


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # ~4 characters per token for FR/EN; a budget, not a count


def build_context(
    nodes: Sequence[StoredNode], scores: dict[str, float], budget_tokens: int, snippet_chars: int = 600
) -> list[EvidenceItem]:
    items: list[EvidenceItem] = []
    used = 0
    for node in nodes:
        text = _MARKERS.sub(" ", node.text or node.name).strip()
        snippet = text[:snippet_chars] + ("…" if len(text) > snippet_chars else "")
        cost = _tokens(snippet) + 20
        if used + cost > budget_tokens and items:
            break
        used += cost
        items.append(EvidenceItem(len(items) + 1, node, scores.get(node.uid, 0.0), provenance(node), snippet))
    return items


def render_evidence(items: Sequence[EvidenceItem]) -> str:
    """The evidence block given to the LLM. Content is quoted data, never instructions."""
    lines = ["<evidence>"]
    for item in items:
        lines.append(f"[{item.number}] ({item.node.label} — {item.provenance})\n{item.snippet}")
    lines.append("</evidence>")
    return "\n\n".join(lines)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def browser_cypher(uids: Sequence[str]) -> str:
    """A query to paste in Neo4j Browser that shows the evidence subgraph."""
    listed = ", ".join(_quote(u) for u in uids)
    return (
        f"MATCH (n:FlowragNode) WHERE n.uid IN [{listed}]\n"
        f"OPTIONAL MATCH (n)-[r]-(m:FlowragNode) WHERE m.uid IN [{listed}]\n"
        "RETURN n, r, m"
    )

"""Context builder: numbered evidence with provenance under a token budget, marked as data."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from flowrag.graph.port import StoredNode

__all__ = [
    "EvidenceItem",
    "browser_cypher",
    "build_context",
    "cut_at_boundary",
    "neutralise",
    "provenance",
    "render_evidence",
]

_MARKERS = re.compile(r"</?\s*(evidence|item|system|instructions?|user|assistant)\b[^>]*>", re.IGNORECASE)
# chat-template tokens (<|im_start|>, <|eot_id|>, [INST], <<SYS>>) and fake citation heads "[2] ("
_TEMPLATE = re.compile(r"<\|[^|>]{0,40}\|>|\[/?INST\]|<</?SYS>>", re.IGNORECASE)
_FAKE_CITATION = re.compile(r"(^|\n)\s*\[(\d{1,3})\]\s*\(", re.MULTILINE)
# invisible characters that hide a marker from a plain-text filter
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")


def neutralise(text: str) -> str:
    """Text from a source, made safe to quote inside the evidence block: full-width and other
    compatibility forms folded (NFKC), invisible characters removed, HTML entities decoded, then
    evidence/role markers, chat-template tokens and citation-like line heads defused."""
    folded = unicodedata.normalize("NFKC", html.unescape(text))
    folded = _INVISIBLE.sub("", folded)
    folded = _MARKERS.sub(" ", folded)
    folded = _TEMPLATE.sub(" ", folded)
    return _FAKE_CITATION.sub(lambda m: f"{m.group(1)}({m.group(2)}) (", folded)


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
    if node.source == "delphix" and node.scope != "_shared":
        return f"{node.scope} {node.source_id}"  # the DCT instance and the object's API path
    return node.source_id or node.uid


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # ~4 characters per token for FR/EN; a budget, not a count


def cut_at_boundary(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters, ended at a line boundary (code keeps whole lines), else at
    a word boundary, never inside a token; "…" marks the cut."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for boundary in ("\n", " "):
        at = head.rfind(boundary)
        if at > limit // 2:
            return head[:at].rstrip() + "…"
    return head + "…"


def build_context(
    nodes: Sequence[StoredNode], scores: dict[str, float], budget_tokens: int, snippet_chars: int = 600
) -> list[EvidenceItem]:
    items: list[EvidenceItem] = []
    used = 0
    for node in nodes:
        text = node.text or node.name
        code = node.props.get("code")
        if isinstance(code, str) and code:  # a symbol's source: shown, not indexed
            text = f"{text}\n{code}"
        text = neutralise(text).strip()
        snippet = cut_at_boundary(text, snippet_chars)
        cost = _tokens(snippet) + 20
        if used + cost > budget_tokens and items:
            break
        used += cost
        where = neutralise(provenance(node))
        items.append(EvidenceItem(len(items) + 1, node, scores.get(node.uid, 0.0), where, snippet))
    return items


def render_evidence(items: Sequence[EvidenceItem]) -> str:
    """The evidence block given to the LLM. Content is quoted data, never instructions."""
    lines = ["<evidence>"]
    for item in items:
        # every field comes from a source (the provenance holds an _id, a path, a URL): all are
        # neutralised, and the snippet is indented so no line of it can start a new item
        snippet = "\n".join(f"  {line}" for line in item.snippet.splitlines())
        lines.append(f"[{item.number}] ({neutralise(item.node.label)} — {item.provenance})\n{snippet}")
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

"""HTML documentation pages -> DocPage + DocSection (chunked by heading), with the page URL and
the heading anchor as provenance. Parsed with selectolax (a real HTML5 parser, no regexes)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flowrag.extract.secrets import redact
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid

__all__ = ["HtmlExtract", "extract_html"]

SOURCE = "html"
_HEADINGS = {"h1", "h2", "h3", "h4"}
_SKIP = "script, style, nav, footer, header, noscript, svg, form, iframe"
_BLOCKS = {"p", "li", "pre", "code", "td", "th", "dd", "dt", "blockquote"}
_MIN_TEXT = 200  # characters of prose below which a page is not documentation
# Browsers stop nesting at this depth (Chromium's HTML parser, kMaximumHTMLParserDOMTreeDepth);
# the parser here is quadratic in depth, so a deeper page is refused before it is parsed
MAX_DEPTH = 512
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^>]*?(/?)>")
# void elements, and those whose end tag is optional (an unclosed <li> or <p> closes at the next
# one in HTML5, so it does not nest)
_FLAT = frozenset(
    "area base br col embed hr img input link meta param source track wbr"
    " p li dt dd tr td th option optgroup thead tbody tfoot colgroup caption rt rp html head body".split()
)
_OPAQUE_START = re.compile(r"(?i)<!--|<(script|style|textarea|template)\b")


def _markup(html: str) -> str:
    """``html`` without comments and the bodies of script, style, textarea and template elements,
    in one pass: each opening is matched with the first closing after it (``str.find``), and an
    opening never closed ends the markup there — so unclosed ``<script>`` tags cost linear time."""
    lower, parts, start = html.lower(), [], 0
    while (opening := _OPAQUE_START.search(html, start)) is not None:
        parts.append(html[start : opening.start()])
        end_marker = "-->" if opening.group(1) is None else f"</{opening.group(1).lower()}"
        end = lower.find(end_marker, opening.end())
        if end < 0:
            return " ".join(parts)
        start = end + len(end_marker)
    parts.append(html[start:])
    return " ".join(parts)


def nesting_depth(html: str, stop_at: int = MAX_DEPTH) -> int:
    """Deepest element nesting, by a linear scan of the tags (stops counting past ``stop_at``)."""
    depth = deepest = 0
    for closing, tag, self_closing in _TAG.findall(_markup(html)):
        if tag.lower() in _FLAT or self_closing:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        if depth > deepest:
            deepest = depth
            if deepest > stop_at:
                break
    return deepest


@dataclass
class HtmlExtract:
    nodes: list[NodeRow] = field(default_factory=list)
    rels: list[RelRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")[:80] or "section"


def extract_html(html: str, url: str, site: str) -> HtmlExtract:
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    out = HtmlExtract()
    if nesting_depth(html) > MAX_DEPTH:
        out.problems.append(
            f"{url}: elements nested deeper than {MAX_DEPTH} levels (browsers stop there): skipped"
        )
        return out
    tree = HTMLParser(html)
    for node in tree.css(_SKIP):
        node.decompose()
    body = tree.body
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node else url
    if body is None:
        out.problems.append(f"{url}: no <body>")
        return out
    sections: list[tuple[str, str, list[str]]] = []  # (heading, anchor, texts)
    current: tuple[str, str, list[str]] = (title, "", [])
    for element in body.traverse(include_text=False):
        tag = element.tag
        if tag in _HEADINGS:
            if current[2]:
                sections.append(current)
            heading = element.text(separator=" ", strip=True)
            anchor = element.attributes.get("id") or _slug(heading)
            current = (heading, anchor or "", [])
        elif tag in _BLOCKS:
            parent = element.parent
            if parent is not None and parent.tag in _BLOCKS:
                continue  # counted with its block parent
            text = element.text(separator=" ", strip=True)
            if text:
                current[2].append(text)
    if current[2]:
        sections.append(current)
    prose = sum(len(t) for _, _, texts in sections for t in texts)
    if prose < _MIN_TEXT:
        out.problems.append(f"{url}: does not look like documentation (only {prose} characters of text)")
        return out
    page_uid = make_uid(NodeLabel.DOC_PAGE, url)
    out.nodes.append(
        NodeRow(
            NodeLabel.DOC_PAGE,
            url,
            SOURCE,
            site,
            url,
            name=title,
            text=title,
            props={"url": url, "site": site, "sections": len(sections)},
        )
    )
    for i, (heading, anchor, texts) in enumerate(sections):
        body_text = redact(" ".join(texts))
        key = f"{url}#{anchor or i}"
        out.nodes.append(
            NodeRow(
                NodeLabel.DOC_SECTION,
                key,
                SOURCE,
                site,
                key,
                name=heading[:200],
                text=f"{heading}\n{body_text[:4000]}",
                embed_text=f"{title} — {heading}. {body_text[:600]}",
                props={"url": f"{url}#{anchor}" if anchor else url, "page": url, "position": i},
            )
        )
        out.rels.append(RelRow(RelType.SECTION_OF, make_uid(NodeLabel.DOC_SECTION, key), page_uid))
    return out

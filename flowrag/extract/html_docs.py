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

"""Markdown sections and the keys of YAML/JSON/TOML files -> ``DocChunk`` rows (tree-sitter).

Markdown is split into its heading sections (a ``#`` inside a code fence is not a heading). A config
file becomes one chunk per top-level key, listing the dotted key paths under it (``delphix.vdb``)
with a redacted excerpt, so "where is the VDB name configured?" finds the file and the line."""

from __future__ import annotations

from typing import Any

from flowrag.extract.code.langs import parser_for
from flowrag.extract.code.rows import SOURCE, CodeExtract, contains, file_uid
from flowrag.extract.secrets import redact
from flowrag.schema import NodeLabel, NodeRow

__all__ = ["extract_config", "extract_markdown"]

Node = Any
_MAX_CHUNKS = 60
_MAX_KEYS = 80


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def _chunk(repo: str, path: str, index: int, line: int, title: str, text: str, kind: str) -> NodeRow:
    return NodeRow(
        NodeLabel.DOC_CHUNK,
        f"{repo}/{path}#{index}",
        SOURCE,
        repo,
        f"{path}:{line}",
        name=title[:120] or path,
        text=redact(text[:3000]),
        embed_text=redact(f"{title[:120]} ({path}): {' '.join(text[:400].split())}"),
        props={"repo": repo, "path": path, "section": index, "line": line, "kind": kind},
    )


def extract_markdown(repo: str, path: str, text: str) -> CodeExtract:
    out = CodeExtract()
    source = text.encode("utf-8", "replace")
    root = parser_for("markdown").parse(source).root_node
    sections: list[tuple[int, int, int, str]] = []  # start byte, end byte, line, title
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "section":
            heading = node.named_children[0] if node.named_children else None
            title = ""
            if heading is not None and heading.type in ("atx_heading", "setext_heading"):
                title = _text(heading.child_by_field_name("heading_content") or heading).strip("# \n")
            nested = [c for c in node.named_children if c.type == "section"]
            end = nested[0].start_byte if nested else node.end_byte
            sections.append((node.start_byte, end, node.start_point[0] + 1, title))
            stack.extend(reversed(nested))
        else:
            stack.extend(reversed(node.named_children))
    sections.sort()
    owner = file_uid(repo, path)
    for index, (start, end, line, title) in enumerate(sections[:_MAX_CHUNKS]):
        body = source[start:end].decode("utf-8", "replace")
        if body.strip():
            row = _chunk(repo, path, index, line, title or path, body, "markdown")
            out.nodes.append(row)
            out.rels.append(contains(owner, row))
    return out


def _key_text(node: Node) -> str:
    return _text(node).strip().strip("\"'")


def _pairs(node: Node, language: str) -> list[tuple[str, Node, Node | None]]:
    """(key, node carrying the key, value node) of the mapping entries directly under ``node``."""
    found = []
    for child in node.named_children:
        keyed = (language == "yaml" and child.type in ("block_mapping_pair", "flow_pair")) or (
            language == "json" and child.type == "pair"
        )
        if keyed:
            found.append(
                (_key_text(child.child_by_field_name("key")), child, child.child_by_field_name("value"))
            )
        elif language == "toml" and child.type == "pair":
            found.append((_key_text(child.named_children[0]), child, child.named_children[-1]))
        elif language == "toml" and child.type in ("table", "table_array_element"):
            found.append((_key_text(child.named_children[0]), child, child))
    return found


def _mapping_children(node: Node | None, language: str) -> list[tuple[str, Node, Node | None]]:
    """Descend through wrappers (document, block_node, block_mapping, object) to the first pairs."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop(0)
        pairs = _pairs(current, language)
        if pairs:
            return pairs
        if current.type not in ("block_sequence", "array", "flow_sequence"):
            stack.extend(current.named_children)
    return []


def _key_paths(prefix: str, value: Node | None, language: str, depth: int, out: list[str]) -> None:
    if value is None or depth > 3 or len(out) >= _MAX_KEYS:
        return
    for key, _, inner in (
        _mapping_children(value, language) if value.type != "table" else _pairs(value, language)
    ):
        out.append(f"{prefix}.{key}")
        _key_paths(f"{prefix}.{key}", inner, language, depth + 1, out)


def extract_config(language: str, repo: str, path: str, text: str) -> CodeExtract:
    out = CodeExtract()
    source = text.encode("utf-8", "replace")
    root = parser_for(language).parse(source).root_node
    if root.has_error:
        out.problems.append(f"{path}: {language} syntax errors; keys outside them were kept")
    owner = file_uid(repo, path)
    top = _pairs(root, language) if language == "toml" else _mapping_children(root, language)
    for index, (key, holder, value) in enumerate(top[:_MAX_CHUNKS]):
        paths: list[str] = []
        _key_paths(key, value, language, 1, paths)
        excerpt = _text(holder)[:1500]
        body = f"{path} — {key}\nkeys: {', '.join(paths[:_MAX_KEYS]) or key}\n{excerpt}"
        row = _chunk(repo, path, index, holder.start_point[0] + 1, key, body, language)
        out.nodes.append(row)
        out.rels.append(contains(owner, row))
    return out

"""Rows every code extractor produces (Python ``ast`` and tree-sitter alike), built in one place so
symbols from every language look the same in the graph: same keys, provenance, texts to embed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from flowrag.extract.secrets import redact
from flowrag.models.vocabulary import identifier_words
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid

__all__ = [
    "SOURCE",
    "CodeExtract",
    "Symbol",
    "body_notes",
    "code_excerpt",
    "contains",
    "file_uid",
    "first_sentence",
    "http_call_row",
    "normalise_url_template",
    "route_row",
    "symbol_row",
    "symbol_uid",
]

SOURCE = "code"

# Interpolations inside URL string literals, whatever the language, become ``{name}``.
_INTERPOLATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"#\{\s*(?:[\w.@]*\.)?@?(\w+)[^}]*\}"), r"{\1}"),  # #{vdb.id} (Ruby, Groovy GString)
    (re.compile(r"\{\$(?:\w+->)*(\w+)\}"), r"{\1}"),  # {$id} / {$this->id} (PHP)
    (re.compile(r"\$\w+(?:->)?\{(\w+)\}"), r"{\1}"),  # $self->{base} / $h{base} (Perl)
    (re.compile(r"\$\{\s*(?:[\w.]*\.)?(\w+)[^}]*\}"), r"{\1}"),  # ${a.b} (JS, Kotlin, shell)
    (re.compile(r"\$(\w+)"), r"{\1}"),  # $name (Kotlin, shell)
    (re.compile(r"\{\s*(?:[\w.]*\.)?(\w+)\s*(?::[^}]*)?\}"), r"{\1}"),  # {a.b} / {id:int}
    (re.compile(r"%[-+0-9.]*[sdvqfx]"), "{}"),  # printf style (Go, Java String.format)
)


def normalise_url_template(raw: str) -> str:
    text = raw.strip()
    for pattern, replacement in _INTERPOLATIONS:
        text = pattern.sub(replacement, text)
    return text


def first_sentence(doc: str, limit: int = 200) -> str:
    text = " ".join(doc.split())
    cut = re.search(r"(?<=[.!?])\s", text)
    return (text[: cut.start()] if cut else text)[:limit]


@dataclass
class CodeExtract:
    nodes: list[NodeRow] = field(default_factory=list)
    rels: list[RelRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # raw import specifiers, resolved by the linker
    # what the file is for, when it is a script: module docstring, CLI commands and their help,
    # the HTTP calls its top-level code makes (so "which script provisions a VDB?" finds it)
    summary: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Symbol:
    """A class/type or function/method found by a parser."""

    kind: str  # "class" | "interface" | "function" | "method" | "table" | "view" | …
    qualname: str
    line: int
    end_line: int
    language: str
    signature: str = ""
    doc: str = ""
    body: str = ""
    calls: tuple[str, ...] = ()  # simple names this function calls (resolved by the linker)
    # the comments and string literals inside it, as the parser found them (not the raw body)
    comments: tuple[str, ...] = ()
    literals: tuple[str, ...] = ()

    @property
    def is_class(self) -> bool:
        return self.kind in (
            "class",
            "interface",
            "struct",
            "enum",
            "record",
            "object",
            "trait",
            "table",
            "view",
            "package",  # Perl
            "module",  # Ruby
            "namespace",  # C++
            # Terraform/HCL blocks: configuration objects, not functions
            "resource",
            "data",
            "module_block",
            "variable",
            "output",
            "provider",
            "locals",
            "terraform",
            "block",
        )


# comment markers of every language we parse, at either end of a comment's text
_COMMENT_MARKS = re.compile(r"^(?:#+|//+|/\*+!?|\*+|--+|;+|=\w+|<!--)\s*|\s*(?:\*+/|-->)$")
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_NOTES_LIMIT = 600  # characters of comments and literals kept per symbol
_CODE_LIMIT = 1500  # characters of source kept for display (not indexed)


def body_notes(comments: Sequence[str], literals: Sequence[str], doc: str = "") -> str:
    """What a symbol's comments and string literals say, without its code: the words that name
    its purpose ("# wait until the job ends"), the headers and config keys it uses
    (``"authorization"``, ``cfg.apikey``), the messages it prints. Short, deduplicated, in order."""
    seen: dict[str, None] = {}
    doc = " ".join(doc.split())
    for raw in comments:
        for line in raw.splitlines():
            text = " ".join(_COMMENT_MARKS.sub("", line.strip()).split())
            if _LETTERS.search(text) and text not in doc:
                seen.setdefault(text[:200], None)
    for raw in literals:
        text = " ".join(raw.split())
        if 2 < len(text) <= 120 and _LETTERS.search(text) and text not in doc:
            seen.setdefault(text, None)
    out = "; ".join(seen)
    return out if len(out) <= _NOTES_LIMIT else out[:_NOTES_LIMIT].rsplit(" ", 1)[0]


def code_excerpt(body: str, limit: int = _CODE_LIMIT) -> str:
    """The first ``limit`` characters of a body, ended at a line boundary."""
    if len(body) <= limit:
        return body
    cut = body.rfind("\n", 0, limit)
    return body[: cut if cut > 0 else limit]


def symbol_uid(repo: str, path: str, qualname: str, *, is_class: bool) -> str:
    return make_uid(NodeLabel.CLASS if is_class else NodeLabel.FUNCTION, f"{repo}/{path}::{qualname}")


def symbol_row(repo: str, path: str, symbol: Symbol) -> NodeRow:
    label = NodeLabel.CLASS if symbol.is_class else NodeLabel.FUNCTION
    key = f"{repo}/{path}::{symbol.qualname}"
    head = symbol.signature or f"{symbol.kind} {symbol.qualname}"
    doc = symbol.doc.strip()
    props: dict[str, object] = {
        "repo": repo,
        "path": path,
        "line": symbol.line,
        "end_line": symbol.end_line,
        "language": symbol.language,
        "kind": symbol.kind,
    }
    if not symbol.is_class:
        props |= {"signature": redact(head)[:500], "docstring": redact(doc[:1000])}
        if symbol.calls:
            props["calls"] = sorted(set(symbol.calls))[:60]
    safe = redact(symbol.body)
    if safe:
        props["code"] = code_excerpt(safe)  # shown as evidence, never indexed
    # A literal or comment is kept only if it survives redaction of the body around it: out of
    # context ("S3cr3tValue!" without its ``password =``) the redaction rules could not see it.
    comments = [c for c in symbol.comments if c in safe]
    literals = [t for t in symbol.literals if t in safe]
    words = identifier_words(symbol.qualname.rsplit(".", 1)[-1])
    notes = body_notes(comments, literals, doc)
    callees = " ".join(dict.fromkeys(identifier_words(c) for c in symbol.calls))[:300]
    # Indexed text: what names and explains the symbol, not its code (a body's keywords and
    # local names drown the few words that say what it does).
    text = f"{head} ({words}) in {path}:{symbol.line}. {doc[:600]}"
    if notes:
        text += f"\nNotes: {notes}"
    if callees:
        text += f"\nCalls: {callees}"
    # Embed a short text: e5-small on 2 cores does ~130 texts/s at 10 words and ~20/s at 80; the
    # vector carries name + purpose (the docstring, else the first comment or message).
    purpose = first_sentence(doc) if doc else first_sentence(body_notes(comments, ()), 120)
    # the name's words only when they say more than the name (camelCase, not snake_case)
    named = (
        symbol.qualname
        if words.lower() == symbol.qualname.rsplit(".", 1)[-1].replace("_", " ").lower()
        else f"{symbol.qualname} ({words})"
    )
    embed = f"{symbol.kind} {named} ({path}): {head[:160]}. {purpose}"
    return NodeRow(
        label,
        key,
        SOURCE,
        repo,
        f"{path}:{symbol.line}",
        name=symbol.qualname,
        text=redact(text),
        embed_text=redact(embed),
        props=props,
    )


def route_row(
    repo: str, path: str, method: str, template: str, handler: str, line: int, framework: str
) -> NodeRow:
    key = f"{repo}/{path}:{method} {template}"
    return NodeRow(
        NodeLabel.ROUTE,
        key,
        SOURCE,
        repo,
        f"{path}:{line}",
        name=f"{method} {template}",
        text=f"route {method} {template} served by {handler} ({path}:{line})",
        props={
            "repo": repo,
            "path_template": template,
            "method": method,
            "path": path,
            "line": line,
            "framework": framework,
        },
    )


def http_call_row(repo: str, path: str, method: str, url: str, caller: str, line: int) -> NodeRow:
    url = redact(url)
    key = f"{repo}/{path}:{line}:{method} {url}"
    return NodeRow(
        NodeLabel.HTTP_CALL,
        key,
        SOURCE,
        repo,
        f"{path}:{line}",
        name=f"{method} {url}",
        text=f"HTTP call {method} {url} from {caller} ({path}:{line})",
        props={"repo": repo, "method": method, "url": url, "path": path, "line": line},
        # Not embedded: a call's meaning is its maker's (whose text names the call) and its
        # endpoint's. Hundreds of near-identical "HTTP call POST {host}/…" vectors would fill the
        # vector seeds of every code question and push the functions out.
        embed=False,
    )


def contains(parent_uid: str, row: NodeRow) -> RelRow:
    return RelRow(RelType.CONTAINS, parent_uid, row.uid)


def file_uid(repo: str, path: str) -> str:
    return make_uid(NodeLabel.FILE, f"{repo}/{path}")

"""Code extraction: one source file -> its ``File`` row and everything parsed out of it (pure: no I/O).

The package: :mod:`.langs` (each tree-sitter language as data), :mod:`.syntax` (reading syntax
trees in any language), :mod:`.treesitter` (the one walker), :mod:`.recognisers` (what a call is:
a table of small readers per client library or framework), :mod:`.python` and
:mod:`.python_urls` (Python through ``ast``, URL templates and HTTP wrappers), :mod:`.docs`
(Markdown and config files), :mod:`.rows` (the rows every extractor produces, and the texts that
are indexed: what names a symbol, never its body).

Dispatch: Python through ``ast``; Java, Kotlin, Scala, C#, Go, JavaScript, TypeScript/TSX, Perl,
PHP, Ruby, Rust, C/C++, Terraform, Groovy, PowerShell, shell and SQL through the tree-sitter
walker; Markdown sections and YAML/JSON/TOML keys through tree-sitter too; ``.env`` files are indexed with every value redacted; anything else is a ``File``
node only. The file's content hash includes :data:`EXTRACTOR_VERSION`, so upgrading the extractor
re-extracts files on the next run while an unchanged file under the same version is skipped before
it is even parsed."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from flowrag.extract.code.docs import extract_config, extract_markdown
from flowrag.extract.code.langs import LANGUAGES, detect_language
from flowrag.extract.code.python import extract_python
from flowrag.extract.code.python_urls import Wrapper
from flowrag.extract.code.rows import SOURCE, CodeExtract
from flowrag.extract.code.treesitter import extract_treesitter
from flowrag.extract.secrets import redact, redact_env
from flowrag.models.vocabulary import identifier_words
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid

__all__ = ["EXTRACTOR_VERSION", "WRAPPER_FAMILIES", "extract_file", "file_digest", "wrapper_family"]

#: Bump when extraction output changes for the same input (forces re-extraction of every file).
EXTRACTOR_VERSION = "7"  # 7: symbol texts without bodies, calls through a helper linked to it
_CONFIG = {"yaml", "json", "toml"}
#: Languages whose files may call each other's HTTP wrappers by name.
WRAPPER_FAMILIES: dict[str, str] = {
    "python": "python",
    "javascript": "js",
    "typescript": "js",
    "tsx": "js",
    "java": "jvm",
    "kotlin": "jvm",
    "scala": "jvm",
    "csharp": "dotnet",
    "go": "go",
    "perl": "perl",
    "php": "php",
    "ruby": "ruby",
    "rust": "rust",
    "powershell": "powershell",
}


def wrapper_family(language: str) -> str | None:
    return WRAPPER_FAMILIES.get(language)


def file_digest(text: str, context: str = "") -> str:
    data = f"{EXTRACTOR_VERSION}\x1f{context}\x1f{text}".encode("utf-8", "replace")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def extract_file(
    repo: str,
    path: str,
    text: str,
    wrappers: Mapping[str, Mapping[str, Wrapper]] | None = None,
    context: str = "",
) -> CodeExtract:
    """``wrappers``: the repository's HTTP wrappers by language family (:data:`WRAPPER_FAMILIES`)
    then name; ``context``: a digest of them, part of the hash of every file of a family with
    wrappers so that a changed helper re-extracts its callers."""
    language = detect_language(path, text)
    family = wrapper_family(language)
    # of the file as read, so the ingester can compare before parsing
    digest = file_digest(text, context if family else "")
    known = dict((wrappers or {}).get(family or "", {}))
    if language == "dotenv":
        text = redact_env(text)
    parsed = CodeExtract()
    try:
        if language == "python":
            parsed = extract_python(repo, path, text, known)
        elif language == "markdown":
            parsed = extract_markdown(repo, path, text)
        elif language in _CONFIG:
            parsed = extract_config(language, repo, path, text)
        elif language in LANGUAGES:
            parsed = extract_treesitter(language, repo, path, text, known)
    except RecursionError:
        parsed.problems.append(f"{path}: nested too deeply to parse; indexed as a file only")
    lines = text.count("\n") + 1
    summary = " ".join(dict.fromkeys(part.strip() for part in parsed.summary if part.strip()))[:1500]
    file_row = NodeRow(
        NodeLabel.FILE,
        f"{repo}/{path}",
        SOURCE,
        repo,
        path,
        name=path,
        text=redact(f"{path} ({language}, {lines} lines)" + (f". {summary}" if summary else "")),
        # a script's purpose is searchable by meaning (its name's words, then the head of its
        # summary: docstring, commands, endpoints); a plain file is not
        embed_text=f"{language} {identifier_words(PurePosixPath(path).stem)} ({path}): {summary[:400]}"
        if summary
        else None,
        embed=bool(summary),
        props={
            "repo": repo,
            "path": path,
            "language": language,
            "lines": lines,
            "imports": sorted(set(parsed.imports))[:200],
        },
        hash=digest,
    )
    out = CodeExtract(problems=parsed.problems, imports=parsed.imports, summary=parsed.summary)
    out.nodes = [file_row, *_with_endpoints(parsed)]
    out.rels = [RelRow(RelType.CONTAINS, make_uid(NodeLabel.REPOSITORY, repo), file_row.uid), *parsed.rels]
    return out


_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_ORIGIN = re.compile(r"^(?:[a-z][\w+.-]*:)?//[^/]+|^\{[^}]*\}")  # scheme://host, {base}


def _call_words(name: str) -> str:
    """``POST https://dct/v3/vdbs/{id}/refresh_by_snapshot`` -> ``POST v 3 vdbs refresh by snapshot``."""
    method, _, url = name.partition(" ")
    return f"{method} {identifier_words(_PLACEHOLDER.sub(' ', _ORIGIN.sub('', url)))}"


def _with_endpoints(parsed: CodeExtract) -> list[NodeRow]:
    """Each function's text names the HTTP calls it makes (``POST /vdbs/{vdbId}/refresh``), and
    its vector the words of their paths: "which code refreshes a VDB?" then meets the function
    that does it, whatever it is called."""
    names = {n.uid: n.name for n in parsed.nodes if n.label == NodeLabel.HTTP_CALL}
    made: dict[str, list[str]] = {}
    for rel in parsed.rels:
        if rel.type == RelType.MAKES and rel.end_uid in names:
            made.setdefault(rel.start_uid, []).append(names[rel.end_uid])
    if not made:
        return parsed.nodes
    rows = []
    for row in parsed.nodes:
        calls = list(dict.fromkeys(made.get(row.uid, ())))
        if row.label not in (NodeLabel.FUNCTION, NodeLabel.CLASS) or not calls:
            rows.append(row)
            continue
        words = list(dict.fromkeys(_call_words(c) for c in calls))
        rows.append(
            dataclasses.replace(
                row,
                text=f"{row.text}\nHTTP: {', '.join(calls[:12])}",
                embed_text=f"{row.embed_text or row.text} Calls {'; '.join(words[:4])}."[:600],
            )
        )
    return rows

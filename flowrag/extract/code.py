"""One source file -> its ``File`` row and everything parsed out of it (pure: no I/O).

Dispatch: Python through ``ast``; Java, Kotlin, Scala, C#, Go, JavaScript, TypeScript/TSX, shell and
SQL through tree-sitter symbol extraction; Markdown sections and YAML/JSON/TOML keys through
tree-sitter too; ``.env`` files are indexed with every value redacted; anything else is a ``File``
node only. The file's content hash includes :data:`EXTRACTOR_VERSION`, so upgrading the extractor
re-extracts files on the next run while an unchanged file under the same version is skipped before
it is even parsed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from flowrag.extract.code_docs import extract_config, extract_markdown
from flowrag.extract.code_langs import LANGUAGES, detect_language
from flowrag.extract.code_python import extract_python
from flowrag.extract.code_python_urls import Wrapper
from flowrag.extract.code_rows import SOURCE, CodeExtract
from flowrag.extract.code_treesitter import extract_treesitter
from flowrag.extract.secrets import redact, redact_env
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid

__all__ = ["EXTRACTOR_VERSION", "WRAPPER_FAMILIES", "extract_file", "file_digest", "wrapper_family"]

#: Bump when extraction output changes for the same input (forces re-extraction of every file).
EXTRACTOR_VERSION = "6"  # 6: HTTP wrappers in the tree-sitter languages; eight more languages
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
        embed=bool(summary),  # a script's purpose is searchable by meaning; a plain file is not
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
    out.nodes = [file_row, *parsed.nodes]
    out.rels = [RelRow(RelType.CONTAINS, make_uid(NodeLabel.REPOSITORY, repo), file_row.uid), *parsed.rels]
    return out

"""Import specifiers -> files of the same repository (pure). Unresolvable imports (third-party
packages, C# namespaces) resolve to nothing: they are kept on the ``File`` node as text."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable

__all__ = ["SuffixIndex", "resolve_import"]

_JS_EXTENSIONS = ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", "/index.ts", "/index.tsx", "/index.js")
_JVM_EXTENSIONS = (".java", ".kt", ".scala")


class SuffixIndex:
    """Repository paths looked up by any trailing run of segments (``b/c.py`` finds ``src/a/b/c.py``)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = set(paths)
        self._by_suffix: dict[str, list[str]] = defaultdict(list)
        self._by_dir: dict[str, list[str]] = defaultdict(list)
        for path in sorted(self.paths):
            parts = path.split("/")
            for i in range(len(parts)):
                self._by_suffix["/".join(parts[i:])].append(path)
            directory = parts[:-1]
            for i in range(len(directory)):
                self._by_dir["/".join(directory[i:])].append(path)

    def suffix(self, tail: str) -> list[str]:
        return self._by_suffix.get(tail, [])

    def directory(self, tail: str) -> list[str]:
        return self._by_dir.get(tail, [])


def _python(from_path: str, spec: str, index: SuffixIndex) -> list[str]:
    level = len(spec) - len(spec.lstrip("."))
    module = spec.lstrip(".").replace(".", "/")
    if level:
        base = posixpath.dirname(from_path)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        stem = posixpath.join(base, module) if module else base
        candidates = [f"{stem}.py", f"{stem}/__init__.py"]
        return [c for c in candidates if c in index.paths][:1]
    for candidate in (f"{module}.py", f"{module}/__init__.py"):
        found = index.suffix(candidate)
        if found:
            return (
                found[:1]
                if len(found) == 1
                else [f for f in found if f.count("/") == candidate.count("/")][:1]
            )
    return []


def _javascript(from_path: str, spec: str, index: SuffixIndex) -> list[str]:
    if not spec.startswith("."):
        return []  # a package from node_modules
    stem = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), spec))
    for extension in _JS_EXTENSIONS:
        if stem + extension in index.paths:
            return [stem + extension]
    return []


def _jvm(spec: str, index: SuffixIndex) -> list[str]:
    tail = spec.removeprefix("static ").replace(".", "/")
    for extension in _JVM_EXTENSIONS:
        found = index.suffix(tail + extension)
        if found:
            return found[:1]
    return []


def _go(spec: str, index: SuffixIndex) -> list[str]:
    parts = spec.split("/")
    if "." not in parts[0]:
        return []  # the standard library (fmt, net/http), never a directory of this repository
    for i in range(len(parts)):  # longest directory suffix of the import path present in the repo
        found = [p for p in index.directory("/".join(parts[i:])) if p.endswith(".go")]
        if found:
            return found[:20]
    return []


def resolve_import(language: str, from_path: str, spec: str, index: SuffixIndex) -> list[str]:
    if language == "python":
        return _python(from_path, spec, index)
    if language in ("javascript", "typescript", "tsx"):
        return _javascript(from_path, spec, index)
    if language in ("java", "kotlin", "scala"):
        return _jvm(spec, index)
    if language == "go":
        return _go(spec, index)
    return []

"""Monitoring dumps as people make them: ``mongoexport`` JSON Lines (its default) or
``--jsonArray``, Compass exports, ``{"collection": [documents…]}``, and folders of such files
(one collection per file). Extended JSON v2, canonical or relaxed (``$oid``, ``$date``,
``$numberLong``, ``$numberDecimal``, ``$binary``, ``$uuid``…) is read with ``bson.json_util``, so a
dumped document reaches the extractor with the same BSON types as one read from the server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bson import json_util

from flowrag.errors import SourceError

__all__ = ["DUMP_SUFFIXES", "read_dump"]

DUMP_SUFFIXES = (".json", ".jsonl", ".ndjson")
_HOW = (
    "export with `mongoexport --db DB --collection C --out C.json` (JSON Lines) or add --jsonArray; "
    'or give {"collection": [documents…]}, or a folder of such files'
)


def _collection_name(path: Path) -> str:
    return path.stem.rsplit(".", 1)[-1] or path.stem  # monitoring.runs.json -> runs


def _lines(text: str, path: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json_util.loads(line)
        except (ValueError, TypeError) as exc:
            raise SourceError(f"{path}: line {number} is not a JSON document: {exc}", hint=_HOW) from exc
        if not isinstance(doc, dict):
            raise SourceError(f"{path}: line {number} is not a JSON object", hint=_HOW)
        docs.append(doc)
    return docs


def _read_file(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read monitoring dump {path}: {exc}") from exc
    stripped = text.lstrip()
    if not stripped:
        raise SourceError(f"{path} is empty", hint=_HOW)
    try:
        data = json_util.loads(text)
    except json.JSONDecodeError as exc:
        if stripped.startswith("{") and exc.msg == "Extra data":  # the stdlib's message for a second value
            return {_collection_name(path): _lines(text, path)}  # JSON Lines
        raise SourceError(
            f"{path} is not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}", hint=_HOW
        ) from exc
    except (ValueError, TypeError) as exc:  # a malformed Extended JSON value
        raise SourceError(f"{path}: {exc}", hint=_HOW) from exc
    if isinstance(data, list):
        if not all(isinstance(d, dict) for d in data):
            raise SourceError(f"{path}: a JSON array of documents must hold objects only", hint=_HOW)
        return {_collection_name(path): data}
    if isinstance(data, dict):
        if data and all(isinstance(v, list) for v in data.values()) and "_id" not in data:
            for name, docs in data.items():
                if not all(isinstance(d, dict) for d in docs):
                    raise SourceError(f"{path}: collection {name!r} must be a list of objects", hint=_HOW)
            return dict(data)
        return {_collection_name(path): [data]}  # one document (a JSON Lines file of one line)
    raise SourceError(f"{path} holds a JSON {type(data).__name__}, not documents", hint=_HOW)


def read_dump(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Collections and their documents from a dump file or a folder of dump files."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in DUMP_SUFFIXES and p.is_file())
        if not files:
            raise SourceError(f"no {', '.join(DUMP_SUFFIXES)} files in {path}", hint=_HOW)
        out: dict[str, list[dict[str, Any]]] = {}
        for file in files:
            for name, docs in _read_file(file).items():
                out.setdefault(name, []).extend(docs)
        return out
    if not path.is_file():
        raise SourceError(f"monitoring dump not found: {path}")
    return _read_file(path)

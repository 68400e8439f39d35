"""OpenAPI/Swagger ingestion from a file or URL (TLS verified; custom CA bundle supported)."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import yaml

from flowrag.errors import SourceError
from flowrag.extract.embeddings import Embedder
from flowrag.extract.openapi import SOURCE, extract_spec
from flowrag.graph.port import GraphStore
from flowrag.ingest.lexicon import refresh_lexicon
from flowrag.ingest.links import link_all
from flowrag.ingest.writer import IngestReport, Writer

__all__ = ["MAX_SPEC_BYTES", "ingest_openapi", "load_document", "read_source"]

log = logging.getLogger(__name__)

MAX_SPEC_BYTES = 64 * 1024 * 1024
_CA_HINT = "pass --ca-bundle /path/to/internal-ca.pem for servers signed by an internal CA"


def _fetch(location: str, ca_bundle: Path | None, timeout_s: float) -> bytes:
    import httpx

    verify: Any = ssl.create_default_context(cafile=str(ca_bundle)) if ca_bundle else True
    try:
        with httpx.Client(verify=verify, timeout=timeout_s, follow_redirects=True) as client:
            response = client.get(location)
            response.raise_for_status()
            if len(response.content) > MAX_SPEC_BYTES:
                raise SourceError(f"{location} is larger than {MAX_SPEC_BYTES // 2**20} MB")
            return response.content
    except httpx.ConnectError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in str(exc):
            raise SourceError(f"TLS verification failed for {location}: {exc}", hint=_CA_HINT) from exc
        raise SourceError(f"cannot reach {location}: {exc}", hint="check the URL and the network") from exc
    except httpx.TimeoutException as exc:
        raise SourceError(f"timed out after {timeout_s:.0f}s fetching {location}") from exc
    except httpx.HTTPStatusError as exc:
        raise SourceError(f"{location} answered HTTP {exc.response.status_code}") from exc
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {location}: {exc}") from exc


def read_source(location: str, ca_bundle: Path | None, timeout_s: float) -> bytes:
    if urlparse(location).scheme in ("http", "https"):
        return _fetch(location, ca_bundle, timeout_s)
    path = Path(location)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SourceError(
                f"{path} is {size / 2**20:.0f} MB, larger than the {MAX_SPEC_BYTES // 2**20} MB limit"
            )
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise SourceError(f"spec file not found: {path}") from exc
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc


def _parse(raw: bytes, location: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"{location} is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from exc
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise SourceError(
            f"{location} is not valid YAML or JSON{where}: {getattr(exc, 'problem', exc)}"
        ) from exc


def _inline_external(
    node: Any,
    base: str,
    ca_bundle: Path | None,
    timeout_s: float,
    cache: dict[str, Any],
    problems: list[str],
    depth: int = 0,
) -> Any:
    """Replace ``$ref: other.yaml#/x`` by the referenced content (relative files and URLs)."""
    if depth > 20:
        return node
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            target, _, fragment = ref.partition("#")
            location = urljoin(base, target) if "://" in base else str(Path(base).parent / target)
            try:
                if location not in cache:
                    cache[location] = _parse(read_source(location, ca_bundle, timeout_s), location)
                part: Any = cache[location]
                for key in [p for p in fragment.split("/") if p]:
                    part = part[key.replace("~1", "/").replace("~0", "~")]
            except (SourceError, KeyError, TypeError) as exc:
                problems.append(f"broken external $ref {ref}: {exc}")
                return {}
            return _inline_external(part, location, ca_bundle, timeout_s, cache, problems, depth + 1)
        return {
            k: _inline_external(v, base, ca_bundle, timeout_s, cache, problems, depth)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_inline_external(v, base, ca_bundle, timeout_s, cache, problems, depth) for v in node]
    return node


def load_document(
    location: str, ca_bundle: Path | None = None, timeout_s: float = 30.0
) -> tuple[Any, list[str]]:
    doc = _parse(read_source(location, ca_bundle, timeout_s), location)
    if not isinstance(doc, dict):
        raise SourceError(f"{location} does not contain a JSON/YAML object")
    if "openapi" not in doc and "swagger" not in doc:
        raise SourceError(f"{location} is not an OpenAPI/Swagger document (no 'openapi' or 'swagger' field)")
    problems: list[str] = []
    return _inline_external(doc, location, ca_bundle, timeout_s, {}, problems), problems


async def ingest_openapi(
    store: GraphStore,
    embedder: Embedder,
    location: str,
    name: str | None = None,
    ca_bundle: Path | None = None,
    timeout_s: float = 30.0,
) -> IngestReport:
    doc, problems = await asyncio.to_thread(load_document, location, ca_bundle, timeout_s)
    spec_name = name or str((doc.get("info") or {}).get("title") or Path(location).stem).lower().replace(
        " ", "-"
    )
    report = IngestReport(SOURCE, spec_name)
    extracted = extract_spec(doc, spec_name)
    report.read = extracted.operations
    report.errors.extend(problems + extracted.problems)
    if extracted.problems:
        report.skipped["spec problems"] += len(extracted.problems)
    await Writer(store, embedder).write(extracted.nodes, extracted.rels, report)
    seen = {n.uid for n in extracted.nodes if n.scope == spec_name}
    stale = sorted(await store.scope_uids(SOURCE, spec_name) - seen)
    if stale:
        report.deleted += await store.delete_nodes(stale)
    report.relationships += await link_all(store)
    await refresh_lexicon(store, embedder)
    return report.finish()

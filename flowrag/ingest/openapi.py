"""OpenAPI/Swagger ingestion from a file or URL (TLS verified; custom CA bundle supported)."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import yaml

from flowrag.cancel import checkpoint
from flowrag.errors import SourceError
from flowrag.extract.openapi import SOURCE, extract_spec
from flowrag.graph.port import GraphStore
from flowrag.ingest.access import SourcePolicy, inside, pinned_transport, same_origin
from flowrag.ingest.lexicon import refresh_lexicon
from flowrag.ingest.links import link_all, link_delphix
from flowrag.ingest.writer import IngestReport, Writer, delete_stale, stale_uids
from flowrag.models.embeddings import Embedder

__all__ = ["MAX_SPEC_BYTES", "check_shape", "ingest_openapi", "load_document", "read_source", "tls_error"]

log = logging.getLogger(__name__)

MAX_SPEC_BYTES = 64 * 1024 * 1024
MAX_NODES = 5_000_000  # values in a parsed spec (the DCT spec, 1.6 MB of YAML, has ~120k)
MAX_NESTING = 200
MAX_EXTERNAL_REFS = 10_000
_MAX_REDIRECTS = 5
MAX_SHRINK = 0.5  # share of a spec's nodes a re-ingest may remove without --allow-shrink
_CA_HINT = "pass --ca-bundle /path/to/internal-ca.pem for servers signed by an internal CA"


def _fetch(location: str, ca_bundle: Path | None, timeout_s: float, policy: SourcePolicy) -> bytes:
    import httpx

    verify: Any = ssl.create_default_context(cafile=str(ca_bundle)) if ca_bundle else True
    # a server-side fetch connects to the address its policy checked (no DNS rebinding), unless
    # an HTTP proxy from the environment does the connecting
    proxied = bool(urllib.request.getproxies()) and not urllib.request.proxy_bypass(
        urlparse(location).hostname or ""
    )
    transport = None if policy.unrestricted or proxied else pinned_transport(policy, verify)
    try:
        with httpx.Client(
            verify=verify, timeout=timeout_s, follow_redirects=False, transport=transport
        ) as client:
            url = location
            for _ in range(_MAX_REDIRECTS + 1):
                policy.check(url, urls_only=True)  # every hop: a public URL may redirect inward
                with client.stream("GET", url) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    response.raise_for_status()
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        checkpoint()
                        body += chunk
                        if len(body) > MAX_SPEC_BYTES:
                            raise SourceError(f"{location} is larger than {MAX_SPEC_BYTES // 2**20} MB")
                    return bytes(body)
            raise SourceError(f"{location} redirects more than {_MAX_REDIRECTS} times")
    except httpx.ConnectError as exc:
        if tls_error(exc) is not None:
            raise SourceError(f"TLS verification failed for {location}: {exc}", hint=_CA_HINT) from exc
        raise SourceError(f"cannot reach {location}: {exc}", hint="check the URL and the network") from exc
    except httpx.TimeoutException as exc:
        raise SourceError(f"timed out after {timeout_s:.0f}s fetching {location}") from exc
    except httpx.HTTPStatusError as exc:
        raise SourceError(f"{location} answered HTTP {exc.response.status_code}") from exc
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {location}: {exc}") from exc


def read_source(
    location: str, ca_bundle: Path | None, timeout_s: float, policy: SourcePolicy | None = None
) -> bytes:
    policy = policy or SourcePolicy.local_user()
    if urlparse(location).scheme in ("http", "https"):
        return _fetch(location, ca_bundle, timeout_s, policy)
    policy.check(location)
    path = Path(location)
    try:
        if not path.is_file():  # a FIFO or a device would block or never end
            raise SourceError(f"spec file not found: {path}")
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
    try:
        return _parse_text(raw, location)
    except RecursionError:
        raise SourceError(
            f"{location} is nested too deeply to parse (more than ~{MAX_NESTING} levels?)",
            hint="a real spec nests a few dozen levels; check how the file was generated",
        ) from None


def _parse_text(raw: bytes, location: str) -> Any:
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
            f"{location} is not valid YAML or JSON{where}: "
            + " ".join(str(getattr(exc, "problem", exc)).split())
        ) from exc


@dataclass
class _Inliner:
    """Inlines external ``$ref``s, staying inside the spec's own directory (local specs) or on the
    spec's own origin (remote specs), with a budget on how many are expanded."""

    root: str
    ca_bundle: Path | None
    timeout_s: float
    policy: SourcePolicy
    problems: list[str]
    cache: dict[str, Any] = field(default_factory=dict)
    expanded: int = 0

    def _contained(self, location: str) -> bool:
        if "://" in self.root:
            return same_origin(location, self.root)
        return inside(Path(location), Path(self.root).parent)

    def run(self, node: Any, base: str, chain: frozenset[str] = frozenset(), depth: int = 0) -> Any:
        if depth > MAX_NESTING:
            raise SourceError(f"{self.root}: nested deeper than {MAX_NESTING} levels")
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                return self._inline(ref, base, chain, depth)
            return {k: self.run(v, base, chain, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [self.run(v, base, chain, depth + 1) for v in node]
        return node

    def _inline(self, ref: str, base: str, chain: frozenset[str], depth: int) -> Any:
        checkpoint()
        target, _, fragment = ref.partition("#")
        location = urljoin(base, target) if "://" in base else str(Path(base).parent / target)
        key = f"{location}#{fragment}"
        if not self._contained(location):
            self.problems.append(
                f"external $ref {ref} leaves the spec's own directory or origin: not followed"
            )
            return {}
        if key in chain:
            self.problems.append(f"external $ref {ref} refers back to itself: not followed")
            return {}
        self.expanded += 1
        if self.expanded > MAX_EXTERNAL_REFS:
            raise SourceError(f"{self.root}: more than {MAX_EXTERNAL_REFS} external $ref expansions")
        try:
            if location not in self.cache:
                raw = read_source(location, self.ca_bundle, self.timeout_s, self.policy)
                self.cache[location] = _parse(raw, location)
            part: Any = self.cache[location]
            for piece in [p for p in fragment.split("/") if p]:
                part = part[piece.replace("~1", "/").replace("~0", "~")]
        except (SourceError, KeyError, TypeError, IndexError) as exc:
            self.problems.append(f"broken external $ref {ref}: {getattr(exc, 'message', exc)}")
            return {}
        return self.run(part, location, chain | {key}, depth + 1)


def check_shape(doc: Any, location: str, budget: int = MAX_NODES) -> None:
    """Refuse documents that expand past ``budget`` nodes (YAML alias bombs share objects that a
    walk would expand), nest deeper than ``MAX_NESTING``, or have wrongly typed top-level parts;
    each error names the JSON pointer."""
    seen = 0
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        node, pointer, depth = stack.pop()
        seen += 1
        if seen > budget:
            raise SourceError(
                f"{location} expands to more than {budget:,} values (YAML aliases?)",
                hint="give the spec without YAML anchors/aliases, or as JSON",
            )
        if depth > MAX_NESTING:
            raise SourceError(f"{location}: nested deeper than {MAX_NESTING} levels at {pointer or '/'}")
        if isinstance(node, dict):
            stack += [(v, f"{pointer}/{k}", depth + 1) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, f"{pointer}/{i}", depth + 1) for i, v in enumerate(node)]
    for pointer, path in (
        ("/info", ("info",)),
        ("/paths", ("paths",)),
        ("/components", ("components",)),
        ("/components/schemas", ("components", "schemas")),
        ("/definitions", ("definitions",)),
    ):
        part: Any = doc
        for key in path:
            part = part.get(key) if isinstance(part, dict) else None
        if part is not None and not isinstance(part, dict):
            raise SourceError(
                f"{location}: {pointer} must be an object, not {type(part).__name__}",
                hint="check the spec against the OpenAPI schema",
            )


def load_document(
    location: str,
    ca_bundle: Path | None = None,
    timeout_s: float = 30.0,
    policy: SourcePolicy | None = None,
) -> tuple[Any, list[str]]:
    policy = policy or SourcePolicy.local_user()
    doc = _parse(read_source(location, ca_bundle, timeout_s, policy), location)
    if not isinstance(doc, dict):
        raise SourceError(f"{location} does not contain a JSON/YAML object")
    if "openapi" not in doc and "swagger" not in doc:
        raise SourceError(f"{location} is not an OpenAPI/Swagger document (no 'openapi' or 'swagger' field)")
    check_shape(doc, location)
    problems: list[str] = []
    inliner = _Inliner(location, ca_bundle, timeout_s, policy, problems)
    inlined = inliner.run(doc, location)
    if inliner.expanded:
        check_shape(inlined, location)
    return inlined, problems


async def ingest_openapi(
    store: GraphStore,
    embedder: Embedder,
    location: str,
    name: str | None = None,
    ca_bundle: Path | None = None,
    timeout_s: float = 30.0,
    *,
    policy: SourcePolicy | None = None,
    allow_shrink: bool = False,
    max_shrink: float = MAX_SHRINK,
) -> IngestReport:
    """Ingest one spec. A re-ingest that would remove more than ``max_shrink`` of the spec's
    nodes (a truncated download with the same title) stops before writing anything, unless
    ``allow_shrink``."""
    doc, problems = await asyncio.to_thread(load_document, location, ca_bundle, timeout_s, policy)
    info = doc.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    spec_name = name or str(title or Path(location).stem).lower().replace(" ", "-")
    report = IngestReport(SOURCE, spec_name)
    extracted = extract_spec(doc, spec_name)
    report.read = extracted.operations
    report.errors.extend(problems + extracted.problems)
    if extracted.problems:
        report.skipped["spec problems"] += len(extracted.problems)
    seen = {n.uid for n in extracted.nodes if n.scope == spec_name}
    existing = await store.scope_uids(SOURCE, spec_name)
    stale = stale_uids(
        existing,
        seen,
        shrink_limit=max_shrink,
        allow_shrink=allow_shrink,
        subject=f"spec {spec_name!r} ({location})",
        hint="if the spec really shrank, run again with --allow-shrink",
    )
    await Writer(store, embedder).write(extracted.nodes, extracted.rels, report)
    await delete_stale(store, stale, report)
    report.relationships += await link_all(store)
    report.relationships += await link_delphix(store)  # a live estate ingested before its docs
    await refresh_lexicon(store, embedder)
    return report.finish()


def tls_error(exc: BaseException) -> ssl.SSLError | None:
    """The ``ssl.SSLError`` somewhere in a connection error's causes, if TLS is why it failed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None

"""``flowrag ingest delphix``: the live estate through the DCT v3 API, into the graph.

Reading comes first and completely: every listing is paged through DCT's cursors (``limit`` /
``cursor`` / ``response_metadata.next_cursor``), with retries on 429 (``Retry-After`` honoured)
and 5xx, before anything is written, so a DCT that fails mid-pagination leaves the graph as it
was. A sync is full for objects (what DCT no longer lists is removed, behind a shrink guard) and
windowed for jobs (``--since``; jobs already stored are history and stay).

The API key travels in ``Authorization: apk …`` and nowhere else: it is not logged, not in an
error, not in the graph, not in a job's parameters.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flowrag.cancel import checkpoint
from flowrag.errors import SourceError
from flowrag.extract.delphix import LISTINGS, SOURCE, Listing, extract_estate, name_key
from flowrag.graph.port import GraphStore
from flowrag.ingest.access import SourcePolicy, pinned_transport
from flowrag.ingest.links import DELPHIX_NAMED, distinctive, link_all, link_delphix
from flowrag.ingest.monitoring import scan_free_text
from flowrag.ingest.openapi import _CA_HINT, tls_error
from flowrag.ingest.writer import IngestReport, Progress, Writer, delete_stale, stale_uids
from flowrag.models.embeddings import Embedder
from flowrag.schema import NodeLabel, NodeRow
from flowrag.settings import DelphixSettings
from flowrag.timeutil import parse_instant, to_iso

__all__ = ["DctOptions", "ingest_delphix", "parse_since", "read_estate"]

log = logging.getLogger(__name__)

MAX_SHRINK = 0.5
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class DctOptions:
    url: str
    api_key: str
    name: str | None = None  # the estate's scope; default: the DCT host name
    ca_bundle: Path | None = None
    since: str = "7d"
    kinds: tuple[str, ...] = ()  # LISTINGS names; empty = all
    page_size: int = 1000
    per_dataset: int = 3  # latest snapshots kept per dataset (plus those in the window)
    timeout_s: float = 30.0
    retries: int = 4
    max_pages: int = 10_000  # per listing: 10M objects at 1,000 a page
    backoff_s: float = 0.5
    allow_shrink: bool = False

    @property
    def base(self) -> str:
        """The API root: the URL as given when it names a path, else ``<url>/v3``."""
        url = self.url.rstrip("/")
        return url if urlparse(url).path not in ("", "/") else f"{url}/v3"

    @property
    def scope(self) -> str:
        return self.name or (urlparse(self.url).hostname or "dct")

    @classmethod
    def from_settings(cls, settings: DelphixSettings, **overrides: Any) -> DctOptions:
        """Options from FLOWRAG_DELPHIX__*, with the given (non-empty) values winning."""
        values: dict[str, Any] = {
            "url": settings.url,
            "api_key": settings.api_key.get_secret_value(),
            "name": settings.name or None,
            "ca_bundle": settings.ca_bundle,
            "since": settings.since,
            "page_size": settings.page_size,
            "per_dataset": settings.snapshots_per_dataset,
            "max_pages": settings.max_pages,
            "timeout_s": settings.timeout_s,
            "retries": settings.retries,
        }
        values.update({k: v for k, v in overrides.items() if v not in (None, "", ())})
        if not values["url"]:
            raise SourceError("no DCT address", hint="pass --url or set FLOWRAG_DELPHIX__URL")
        return cls(**values)

    def listings(self) -> tuple[Listing, ...]:
        known = {listing.name for listing in LISTINGS}
        unknown = [k for k in self.kinds if k not in known]
        if unknown:
            raise SourceError(
                f"unknown Delphix object kind {unknown[0]!r}", hint=f"kinds are {', '.join(sorted(known))}"
            )
        return tuple(x for x in LISTINGS if not self.kinds or x.name in self.kinds)


def parse_since(text: str, now: datetime | None = None) -> str:
    """``7d`` / ``24h`` / ``90m`` / an ISO date or instant -> the window start, UTC ISO."""
    now = now or datetime.now(UTC)
    match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text or "")
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"d": timedelta(days=amount), "h": timedelta(hours=amount), "m": timedelta(minutes=amount)}
        return to_iso(now - delta[unit])
    instant = parse_instant(text)
    if instant is None:
        raise SourceError(
            f"--since {text!r} is not a duration or a date", hint="use e.g. 7d, 24h or 2026-11-25"
        )
    return instant


def _authorization(api_key: str) -> str:
    key = api_key.strip()
    if not key:
        raise SourceError("no DCT API key", hint="pass --api-key or set FLOWRAG_DELPHIX__API_KEY")
    return key if key.lower().startswith("apk ") else f"apk {key}"


class _Dct:
    """A synchronous DCT reader (run in a worker thread)."""

    def __init__(self, options: DctOptions, policy: SourcePolicy) -> None:
        import httpx

        self._options = options
        self._httpx = httpx
        verify: Any = ssl.create_default_context(cafile=str(options.ca_bundle)) if options.ca_bundle else True
        policy.check(options.base, urls_only=True)
        transport = None if policy.unrestricted else pinned_transport(policy, verify)
        self._client = httpx.Client(
            base_url=options.base,
            verify=verify,
            timeout=options.timeout_s,
            follow_redirects=False,
            transport=transport,
            headers={"Authorization": _authorization(options.api_key), "Accept": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def _send(self, method: str, path: str, params: dict[str, Any], body: Any, page: int) -> Any:
        options = self._options
        where = f"{method} {path} (page {page})"
        for attempt in range(1, options.retries + 2):
            checkpoint()
            wait = options.backoff_s * 2 ** (attempt - 1)
            try:
                response = self._client.request(method, path, params=params, json=body)
            except self._httpx.ConnectError as exc:
                cause = tls_error(exc)
                if cause is not None:
                    expired = getattr(cause, "verify_code", None) == _CERT_HAS_EXPIRED
                    raise SourceError(
                        f"TLS verification failed for {options.base}: {exc}",
                        hint=(
                            "DCT's certificate has expired: renew it on the DCT server "
                            "(--ca-bundle only sets which authorities are trusted)"
                            if expired
                            else _CA_HINT
                        ),
                    ) from exc
                problem = f"cannot reach {options.base}: {exc}"
            except self._httpx.TimeoutException:
                problem = f"timed out after {options.timeout_s:.0f}s on {where}"
            else:
                status = response.status_code
                if status in (401, 403):
                    raise SourceError(
                        f"DCT refused the API key (HTTP {status}) on {method} {path}",
                        hint="check --api-key / FLOWRAG_DELPHIX__API_KEY and the key's permissions",
                    )
                if status not in _RETRY_STATUS:
                    if status == 404:
                        return None
                    if status >= 400:
                        raise SourceError(f"DCT answered HTTP {status} on {where}: {_brief(response.text)}")
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise SourceError(f"DCT answered {where} with a body that is not JSON") from exc
                problem = f"DCT answered HTTP {status} on {where}"
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    wait = min(float(retry_after), 60.0)
            if attempt <= options.retries:
                log.info("%s; retry %d/%d in %.1fs", problem, attempt, options.retries, wait)
                time.sleep(wait)
        raise SourceError(
            f"{problem} after {options.retries + 1} attempts; nothing was written",
            hint="run the ingestion again when DCT answers (nothing was half-written)",
        )

    def listing(self, listing: Listing, since: str, progress: Progress | None) -> list[dict[str, Any]] | None:
        """Every item of one listing, page by page; None when this DCT does not serve it."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        body = {"filter_expression": f"start_time GE '{since}'"} if listing.search else None
        method = "POST" if listing.search else "GET"
        page = 0
        while True:
            page += 1
            params: dict[str, Any] = {"limit": self._options.page_size, "sort": listing.sort}
            if cursor:
                params["cursor"] = cursor
            data = self._send(method, listing.path, params, body, page)
            if data is None:
                if page == 1:  # this DCT does not serve the listing (masking, an older version)
                    return None
                raise SourceError(f"DCT answered HTTP 404 on {method} {listing.path} (page {page})")
            if not isinstance(data, Mapping) or not isinstance(data.get("items", []), list):
                raise SourceError(f"DCT answered {method} {listing.path} with no 'items' list")
            items += [i for i in data.get("items") or [] if isinstance(i, dict)]
            meta = data.get("response_metadata") or {}
            total = meta.get("total") if isinstance(meta, Mapping) else None
            if progress:
                progress(listing.name, len(items), total if isinstance(total, int) else None)
            cursor = meta.get("next_cursor") if isinstance(meta, Mapping) else None
            # the last page: no cursor, or fewer items than asked for
            if (
                not isinstance(cursor, str)
                or not cursor
                or len(data.get("items") or []) < self._options.page_size
            ):
                return items
            if cursor in seen:
                raise SourceError(f"DCT returned the same cursor twice on {listing.path}: pagination loops")
            if page >= self._options.max_pages:
                raise SourceError(
                    f"{listing.path} did not end after {page} pages of {self._options.page_size}; nothing was written",
                    hint="raise FLOWRAG_DELPHIX__MAX_PAGES if the estate really is that large",
                )
            seen.add(cursor)


def read_estate(
    options: DctOptions, since: str, policy: SourcePolicy | None = None, progress: Progress | None = None
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Every listing's items, and the listings this DCT does not serve."""
    client = _Dct(options, policy or SourcePolicy.local_user())
    objects: dict[str, list[dict[str, Any]]] = {}
    absent: list[str] = []
    try:
        for listing in options.listings():
            found = client.listing(listing, since, progress)
            if found is None:
                absent.append(listing.name)
            else:
                objects[listing.name] = found
    finally:
        client.close()
    if not objects:
        raise SourceError(
            f"{options.base} answered 404 to every DCT listing: it is not a DCT v3 API",
            hint="give the DCT address (https://dct.example.com) or its API root (…/v3)",
        )
    return objects, absent


async def ingest_delphix(
    store: GraphStore,
    embedder: Embedder,
    options: DctOptions,
    *,
    policy: SourcePolicy | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> IngestReport:
    since = parse_since(options.since, now)
    listings = options.listings()
    report = IngestReport(SOURCE, options.scope)
    loop = asyncio.get_running_loop()

    def relay(name: str, done: int, total: int | None) -> None:
        """The reader runs in a worker thread; progress is heard on the loop (jobs, bars)."""
        if progress is not None:
            loop.call_soon_threadsafe(progress, name, done, total)

    objects, absent = await asyncio.to_thread(read_estate, options, since, policy, relay)
    for name in absent:
        report.skipped[f"{name}: not served by this DCT (HTTP 404)"] += 1
    extracted = extract_estate(objects, options.scope, since=since, per_dataset=options.per_dataset)
    report.read = extracted.read
    for reason, count in extracted.skipped.items():
        report.skipped[reason] += count
    # a full sync of the listings read; jobs are history (a window, never removed)
    synced = {
        x.label.value for x in listings if x.label is not NodeLabel.DELPHIX_JOB and x.name not in absent
    }
    existing: set[str] = set()
    for label in synced:
        existing |= await store.scope_uids(SOURCE, options.scope, label)
    seen = {n.uid for n in extracted.nodes}
    stale = stale_uids(
        existing,
        seen,
        shrink_limit=MAX_SHRINK,
        allow_shrink=options.allow_shrink,
        subject=f"the Delphix estate {options.scope!r}",
        hint="if the estate really shrank (or --kinds changed), run again with --allow-shrink",
    )
    changed = await Writer(store, embedder).write(extracted.nodes, extracted.rels, report)
    await delete_stale(store, stale, report)
    report.relationships += await link_delphix(store, changed)
    report.relationships += await link_all(store)
    created = changed - existing
    await _mentioned_by_text(store, embedder, [n for n in extracted.nodes if n.uid in created], report)
    return report.finish()


async def _mentioned_by_text(
    store: GraphStore, embedder: Embedder, created: list[NodeRow], report: IngestReport
) -> None:
    """Free text ingested before these objects (an incident naming ``orders_qa``) now mentions
    them: the same whole-word match as monitoring makes against the objects it already knows."""
    named = set(DELPHIX_NAMED)
    by_key: dict[str, set[str]] = {}
    for node in created:
        key = str(node.props.get("name_key", ""))
        if node.label in named and distinctive(key):
            by_key.setdefault(key, set()).add(node.uid)
    if not by_key:
        return
    rels = await scan_free_text(store, lambda words: {u for w in words for u in by_key.get(name_key(w), ())})
    if rels:  # the records are unchanged: their new edges are written as a repair of them
        await Writer(store, embedder).write([], rels, report, repair={r.start_uid for r in rels})


_CERT_HAS_EXPIRED = 10  # OpenSSL's X509_V_ERR_CERT_HAS_EXPIRED


def _brief(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]

"""A small stateful fake of Delphix DCT v3 for the connector's tests and benchmark.

It serves a generated estate (engines, environments with hosts, dSources, VDBs with refresh
history, VDB groups, snapshots, bookmarks, jobs with failures) the way DCT does: ``/v3`` root,
``Authorization: apk <key>``, cursor pagination (``limit``, ``cursor``,
``response_metadata.next_cursor``), ``sort``, ``POST /jobs/search`` with a ``start_time GE '…'``
filter expression. Its responses are shaped by the real spec's schemas: the tests put it behind
``prism proxy``, which checks every request and response against ../shared/data/delphix.

Faults are injected per request path: ``fail(path, status, times, page)`` answers ``status`` to
the next ``times`` requests of that page.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

API_KEY = "1.fake-dct-test-key-0123456789abcdef"


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Estate:
    engines: list[dict[str, Any]] = field(default_factory=list)
    environments: list[dict[str, Any]] = field(default_factory=list)
    dsources: list[dict[str, Any]] = field(default_factory=list)
    vdbs: list[dict[str, Any]] = field(default_factory=list)
    vdb_groups: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    bookmarks: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    masking_jobs: list[dict[str, Any]] | None = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: len(v or []) for k, v in self.__dict__.items()}


_SOURCES = ("orders", "customers", "trades", "payments", "ledger")
_STAGES = ("qa", "dev", "uat")


def make_estate(now: datetime, vdbs: int = 0, snapshots_per_dataset: int = 5, jobs: int = 0) -> Estate:
    """A bank-like estate. With the defaults: 5 dSources (``orders_prod``…), 15 VDBs
    (``orders_qa``…) on 3 environments, refreshed 1 to 15 days ago; ``orders_qa``'s refresh
    failed yesterday (ORA-01017), ``customers_dev`` was not refreshed for 12 days. ``vdbs`` and
    ``jobs`` scale it (10,000 VDBs, 100,000 jobs for the benchmark)."""
    est = Estate()
    est.engines = [
        {
            "id": f"{i}",
            "name": f"engine-paris-{i}",
            "hostname": f"delphix-paris-{i}.bank.example",
            "type": "VIRTUALIZATION",
            "version": "2025.3.0.0",
            "status": "CREATED",
            "connection_status": "ONLINE",
            "username": "admin",
            "password": "engine-secret-password",
        }
        for i in (1, 2)
    ]
    hosts = ("linux-db-07", "linux-db-08", "linux-db-09")
    est.environments = [
        {
            "id": f"{1 + i % 2}-UNIX_HOST_ENVIRONMENT-{i + 1}",
            "name": f"{host}-env",
            "engine_id": f"{1 + i % 2}",
            "enabled": True,
            "is_cluster": False,
            "is_windows_target": False,
            "hosts": [{"id": f"{1 + i % 2}-UNIX_HOST-{i + 1}", "hostname": host, "os_name": "Linux"}],
        }
        for i, host in enumerate(hosts)
    ]
    est.dsources = [
        {
            "id": f"1-ORACLE_DB_CONTAINER-{i + 1}",
            "name": f"{src}_prod",
            "database_type": "Oracle",
            "database_version": "19.0.0.0",
            "engine_id": "1",
            "status": "ACTIVE",
            "enabled": True,
            "creation_date": _ts(now - timedelta(days=400)),
        }
        for i, src in enumerate(_SOURCES)
    ]
    total_vdbs = vdbs or len(_SOURCES) * len(_STAGES)
    for i in range(total_vdbs):
        src, stage = _SOURCES[i % len(_SOURCES)], _STAGES[(i // len(_SOURCES)) % len(_STAGES)]
        round_ = i // (len(_SOURCES) * len(_STAGES))
        name = f"{src}_{stage}" + (f"_{round_}" if round_ else "")
        days = 1 + (i * 7) % 15
        if name == "customers_dev":
            days = 12
        if name == "orders_qa":
            days = 2
        env = est.environments[i % len(est.environments)]
        est.vdbs.append(
            {
                "id": f"{env['engine_id']}-ORACLE_DB_CONTAINER-{100 + i}",
                "name": name,
                "database_type": "Oracle",
                "database_version": "19.0.0.0",
                "engine_id": env["engine_id"],
                "engine_name": f"engine-paris-{env['engine_id']}",
                "environment_id": env["id"],
                "parent_id": est.dsources[i % len(_SOURCES)]["id"],
                "parent_dsource_id": est.dsources[i % len(_SOURCES)]["id"],
                "status": "RUNNING",
                "masked": stage != "dev",
                "creation_date": _ts(now - timedelta(days=200)),
                "last_refreshed_date": _ts(now - timedelta(days=days, hours=3)),
                "tags": [{"key": "team", "value": "data-platform"}],
            }
        )
    est.vdb_groups = [
        {
            "id": f"group-{stage}",
            "name": f"{stage.upper()} databases",
            "vdb_ids": [v["id"] for v in est.vdbs if v["name"].split("_")[1] == stage],
        }
        for stage in _STAGES
    ]
    for dataset in est.dsources + est.vdbs:
        for k in range(snapshots_per_dataset):
            taken = now - timedelta(days=k * 2, hours=1)
            est.snapshots.append(
                {
                    "id": f"{dataset['engine_id']}-SNAPSHOT-{dataset['id'].rsplit('-', 1)[1]}-{k}",
                    "name": f"@{taken:%Y-%m-%dT%H:%M:%S}",
                    "engine_id": dataset["engine_id"],
                    "dataset_id": dataset["id"],
                    "consistency": "CONSISTENT",
                    "creation_time": _ts(taken),
                    "timestamp": _ts(taken),
                    "retention": 30,
                    "timezone": "Europe/Paris,CET+0100",
                }
            )
    orders_qa = next(v for v in est.vdbs if v["name"] == "orders_qa")
    est.bookmarks = [
        {
            "id": "bookmark-1",
            "name": "before-release-42",
            "creation_date": _ts(now - timedelta(days=3)),
            "vdb_ids": [orders_qa["id"]],
            "retention": 30,
            "bookmark_source": "DCT",
            "bookmark_status": "ACTIVE",
        }
    ]
    yesterday = (now - timedelta(days=1)).replace(hour=2, minute=15, second=0, microsecond=0)
    est.jobs.append(
        {
            "id": "job-refresh-orders-qa-1",
            "status": "FAILED",
            "type": "DB_REFRESH",
            "localized_type": "DB Refresh",
            "target_id": orders_qa["id"],
            "target_name": "orders_qa",
            "error_details": "ORA-01017: invalid username/password; logon denied on linux-db-07",
            "start_time": _ts(yesterday),
            "update_time": _ts(yesterday + timedelta(minutes=4)),
            "engine_ids": [orders_qa["engine_id"]],
            "percent_complete": 40,
        }
    )
    for i in range(max(jobs - 1, len(est.vdbs) - 1)):
        vdb = est.vdbs[(i + 1) % len(est.vdbs)]
        start = now - timedelta(hours=6 + (i * 37) % (24 * 6))
        kind = ("DB_REFRESH", "DB_SNAPSHOT", "DB_START")[i % 3]
        est.jobs.append(
            {
                "id": f"job-{i + 2}",
                "status": "COMPLETED" if i % 11 else "CANCELED",
                "type": kind,
                "localized_type": kind.replace("DB_", "DB ").title(),
                "target_id": vdb["id"],
                "target_name": vdb["name"],
                "start_time": _ts(start),
                "update_time": _ts(start + timedelta(minutes=3)),
                "engine_ids": [vdb["engine_id"]],
                "percent_complete": 100,
            }
        )
    est.masking_jobs = [
        {
            "id": "1-MASKING_JOB-1",
            "name": "mask_customers_qa",
            "engine_ids": ["2"],
            "job_type": "STANDARD",
            "last_execution_status": "SUCCEEDED",
            "last_completed_execution_date": _ts(now - timedelta(days=1, hours=5)),
        }
    ]
    return est


_ROUTES = {
    "/management/engines": "engines",
    "/environments": "environments",
    "/dsources": "dsources",
    "/vdbs": "vdbs",
    "/vdb-groups": "vdb_groups",
    "/snapshots": "snapshots",
    "/bookmarks": "bookmarks",
    "/jobs": "jobs",
    "/jobs/search": "jobs",
    "/masking-jobs": "masking_jobs",
}


class FakeDct:
    def __init__(self, estate: Estate, api_key: str = API_KEY) -> None:
        self.estate = estate
        self.api_key = api_key
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.auth_headers: list[str] = []
        self._faults: dict[tuple[str, int], list[tuple[int, dict[str, str]]]] = {}
        self._sorted: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def fail(
        self, path: str, status: int, times: int = 1, page: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """Answer ``status`` to the next ``times`` requests of ``path``'s page ``page``."""
        self._faults.setdefault((path, page), []).extend([(status, headers or {})] * times)

    def changed(self) -> None:
        """The estate was edited: drop the sorted views."""
        self._sorted.clear()

    def _items(self, kind: str, sort: str) -> list[dict[str, Any]]:
        key = (kind, sort)
        if key not in self._sorted:
            items = list(getattr(self.estate, kind) or [])
            prop = sort.lstrip("-") or "id"
            items.sort(key=lambda o: str(o.get(prop, "")), reverse=sort.startswith("-"))
            self._sorted[key] = items
        return self._sorted[key]

    def _filtered(
        self, kind: str, sort: str, expression: str, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """``prop GE 'value'`` (what the connector sends), once per distinct expression."""
        key = (kind, f"{sort} {expression}")
        if key not in self._sorted:
            prop, op, value = expression.split(" ", 2)
            assert op == "GE", expression
            bound = value.strip("'")
            self._sorted[key] = [o for o in items if str(o.get(prop, "")) >= bound]
        return self._sorted[key]

    def handle(self, method: str, raw_path: str, body: bytes, auth: str) -> tuple[int, dict[str, str], Any]:
        url = urlparse(raw_path)
        query = parse_qs(url.query)
        data = json.loads(body) if body else None
        with self._lock:
            self.requests.append((method, url.path, query, data))
            self.auth_headers.append(auth)
        if not url.path.startswith("/v3/"):
            return 404, {}, {"errors": [{"message": "not found"}]}
        path = url.path[3:]
        if auth != f"apk {self.api_key}":
            return 401, {}, {"errors": [{"message": "Unauthorized"}]}
        kind = _ROUTES.get(path)
        if kind is None or (kind == "masking_jobs" and self.estate.masking_jobs is None):
            return 404, {}, {"errors": [{"message": f"{path} not found"}]}
        limit = int(query.get("limit", ["100"])[0])
        cursor = query.get("cursor", [""])[0]
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
        page = offset // max(limit, 1) + 1
        with self._lock:
            queue = self._faults.get((path, page))
            if queue:
                status, headers = queue.pop(0)
                return status, headers, {"errors": [{"message": "injected fault"}]}
        items = self._items(kind, query.get("sort", ["id"])[0])
        if path == "/jobs/search" and data and data.get("filter_expression"):
            items = self._filtered(kind, query.get("sort", ["id"])[0], data["filter_expression"], items)
        chunk = items[offset : offset + limit]
        meta: dict[str, Any] = {"total": len(items)}
        if offset + limit < len(items):
            meta["next_cursor"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        if offset:
            meta["prev_cursor"] = base64.urlsafe_b64encode(str(max(0, offset - limit)).encode()).decode()
        return 200, {}, {"items": chunk, "response_metadata": meta}


@contextmanager
def serve(fake: FakeDct, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``fake`` on a free loopback port; yields its DCT URL (``http://127.0.0.1:N``, or
    https with a server-side ``tls`` context)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = fake.handle(
                self.command, self.path, body, self.headers.get("authorization", "")
            )
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _reply

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

"""The morning report on both stores: its facts against figures computed here from the runs, its
renderings against the formats' documented shapes, and its delivery to a real SMTP server
(aiosmtpd, STARTTLS + AUTH) and to a loopback HTTP server standing in for Slack and Teams."""

from __future__ import annotations

import asyncio
import email
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from flowrag.graph.port import GraphStore
from flowrag.report.channels import FilesChannel, SlackChannel, TeamsChannel
from flowrag.report.facts import build_facts, delphix_names
from flowrag.report.render import chart_svg, slack_blocks, teams_card, to_html, to_markdown
from flowrag.report.service import ReportService
from flowrag.settings import Settings
from tests.support import report_data as data

NOW = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)  # the morning after DAY


async def test_facts_match_the_runs(store: GraphStore) -> None:
    await data.load(store)
    want = data.expected()
    report = await build_facts(store, data.DAY, data.TZ, "fr", now=NOW)
    assert report.totals == want["totals"]
    assert {f.pipeline: f.count for f in report.failures} == want["flows"]
    assert report.failing_flows == len(want["flows"])
    assert [f.count for f in report.failures] == sorted(want["flows"].values(), reverse=True)
    for flow in report.failures:
        assert (flow.first, flow.last) == want["first_last"][flow.pipeline]
        assert {c.template_id: c.count for c in flow.causes} == want["causes"][flow.pipeline]
        assert flow.technology == data.TECH[flow.pipeline]  # the Technology node's name, not its key
        assert flow.hosts == (data.HOST[flow.pipeline],)
        assert flow.citations and all(c.startswith("runs/r") for c in flow.citations)
        for cause in flow.causes:
            assert data.TEMPLATES[cause.template_id][1].startswith(cause.message.rstrip("…"))
    assert {e.template_id for e in report.new_errors} == want["new"] == {"t_vdb"}
    new = report.new_errors[0]
    assert new.pipelines == ("load_c",) and new.count == 2 and new.citation.startswith("runs/")
    assert {s.pipeline: s.days for s in report.streaks} == want["streaks"]
    assert want["streaks"]["stream_a"] == 5 and want["streaks"]["long_f"] == 12
    flows = {t.key: t.direction for t in report.trends if t.dimension == "pipeline"}
    assert {k for k, v in flows.items() if v == "recovered"} == want["recovered"] and "batch_b" in want[
        "recovered"
    ]
    assert {k for k, v in flows.items() if v == "new"} == want["newly"] and "load_c" in want["newly"]
    assert dict(report.technologies) == want["technologies"]
    assert {d.day: d.counts for d in report.chart} == want["chart"]
    assert len(report.chart) == 14 and report.chart[-1].day == data.DAY.isoformat()
    assert {(o.kind, o.name) for o in report.delphix} == {("DSource", "orders_prod"), ("Engine", "de-01")}
    assert all(o.pipelines == ("load_c",) for o in report.delphix)
    assert [(c.pipeline, c.label) for c in report.code] == [("load_c", "File")]
    assert report.code[0].provenance == "etl:jobs/load_c.py"


async def _load_exports(store: GraphStore) -> list[dict[str, Any]]:
    """The story's runs, and a second collection: an export flow failing two days before DAY and
    on DAY, with a template the story already has."""
    from flowrag.schema import NodeLabel, NodeRow

    await data.load(store)
    extra = []
    for i, (back, hour, status) in enumerate(
        [(2, 3, "FAILED"), (2, 9, "SUCCESS"), (0, 4, "FAILED"), (0, 7, "SUCCESS")]
    ):
        at = datetime.combine(data.DAY - timedelta(days=back), datetime.min.time(), ZoneInfo(data.TZ))
        when = (at + timedelta(hours=hour)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        run: dict[str, Any] = {
            "ref": f"exports/x{i}",
            "doc_id": f"x{i}",
            "pipeline": "export_g",
            "status": status,
        }
        run |= {"started_at": when, "technology": "spark", "host": "spark-node-9", "collection": "exports"}
        if status == "FAILED":
            run |= {"error_template": "t_ora", "error_message": data.TEMPLATES["t_ora"][1]}
        extra.append(run)
    rows = [
        NodeRow(
            NodeLabel.RUN,
            r["ref"],
            "mongo",
            "exports",
            r["ref"],
            name=r["ref"],
            props={k: v for k, v in r.items() if k != "ref"},
        )
        for r in extra
    ]
    await store.upsert_nodes(
        [*rows, NodeRow(NodeLabel.PIPELINE, "export_g", "mongo", "_shared", "export_g", name="export_g")]
    )
    await store.flush()
    return [*data.RUNS, *extra]


async def test_a_period_and_some_collections_scope_every_fact(store: GraphStore) -> None:
    """A week's report counts the seven local days ending on its day, over the collections asked;
    its trends compare with the weeks before. Expected figures are counted here from the runs."""
    runs = await _load_exports(store)
    first = data.DAY - timedelta(days=6)

    def failed_by_flow(lo: Any, hi: Any, collections: tuple[str, ...] = ()) -> dict[str, int]:
        return dict(
            Counter(
                r["pipeline"]
                for r in runs
                if r["status"] == "FAILED"
                and lo <= data.local_day(r) <= hi
                and (not collections or r["collection"] in collections)
            )
        )

    week = await build_facts(store, data.DAY, data.TZ, "en", now=NOW, days=7)
    in_week = [r for r in runs if first <= data.local_day(r) <= data.DAY]
    assert week.first_day == first.isoformat() and week.days == 7 and week.collections == []
    assert week.totals == dict(Counter(r["status"] for r in in_week))
    assert {f.pipeline: f.count for f in week.failures} == failed_by_flow(first, data.DAY)
    assert "export_g" in {f.pipeline for f in week.failures}
    before = {r["error_template"] for r in runs if r["status"] == "FAILED" and data.local_day(r) < first}
    assert {e.template_id for e in week.new_errors} == {
        r["error_template"] for r in in_week if r["status"] == "FAILED"
    } - before
    for trend in week.trends:  # the mean is over the seven weeks before, counted here
        weeks = [
            failed_by_flow(first - timedelta(days=7 * b), data.DAY - timedelta(days=7 * b))
            for b in range(1, 8)
        ]
        if trend.dimension == "pipeline":
            assert trend.mean == pytest.approx(sum(w.get(trend.key, 0) for w in weeks) / 7), trend
    assert ("export_g", "new") in {(t.key, t.direction) for t in week.trends if t.dimension == "pipeline"}
    assert week.streaks == []  # a streak is counted in days, by a one-day report
    assert "2026-11-18 to 2026-11-24" in to_markdown(week) and "periods of 7 days" in to_markdown(week)

    runs_only = await build_facts(store, data.DAY, data.TZ, "fr", now=NOW, collections=["runs"])
    want = data.expected()
    assert (
        runs_only.totals == want["totals"]
        and {f.pipeline: f.count for f in runs_only.failures} == want["flows"]
    )
    assert {s.pipeline: s.days for s in runs_only.streaks} == want["streaks"]
    everything = await build_facts(store, data.DAY, data.TZ, "fr", now=NOW)
    assert {f.pipeline: f.count for f in everything.failures} == want["flows"] | {"export_g": 1}

    exports = await build_facts(store, data.DAY, data.TZ, "fr", now=NOW, days=3, collections=["exports"])
    assert {f.pipeline: f.count for f in exports.failures} == {"export_g": 2}
    assert exports.totals == {"FAILED": 2, "SUCCESS": 2}
    assert sum(sum(d.counts.values()) for d in exports.chart) == 4  # the chart counts the same collections
    # t_ora failed in "runs" long before, but is new to the collection asked
    assert [(e.template_id, e.count, e.pipelines) for e in exports.new_errors] == [
        ("t_ora", 2, ("export_g",))
    ]
    md = to_markdown(exports)
    assert "22/11/2026 au 24/11/2026 (exports)" in md


async def test_a_day_without_runs_and_an_empty_store(store: GraphStore) -> None:
    report = await build_facts(store, data.DAY, data.TZ, "en", now=NOW)
    assert report.totals == {} and report.failures == [] and report.trends == [] and report.streaks == []
    assert [d.counts for d in report.chart] == [{}] * 14
    assert "No failure." in to_markdown(report)


def test_delphix_names_need_a_kind_word_and_an_identifier() -> None:
    kinds = {"vdb": "VDB", "dsource": "DSource", "environment": "Environment"}
    from flowrag.report.facts import _kind_pattern

    pattern = _kind_pattern(list(kinds))
    text = "VDB refresh failed on vdb orders_qa: dSource 'orders_prod' down; environment linux-db-07; VDB 42"
    assert delphix_names(text, pattern, kinds) == [
        ("VDB", "orders_qa"),
        ("DSource", "orders_prod"),
        ("Environment", "linux-db-07"),
    ]
    assert delphix_names("the vdb is down", pattern, kinds) == []
    assert delphix_names("VDB orders_qa", None, {}) == []


# -- renderings --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report() -> Any:
    from flowrag.graph.embedded import EmbeddedStore

    async def build(path: Path) -> Any:
        store = EmbeddedStore.open(path)
        await store.migrate(8)
        try:
            await data.load(store)
            return await build_facts(store, data.DAY, data.TZ, "fr", now=NOW)
        finally:
            await store.close()

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(build(Path(tmp) / "g"))


def test_markdown_and_html_escape_the_sources(report: Any) -> None:
    md = to_markdown(report)
    assert "stream_a" in md and "runs/r" in md and "orders_prod" in md and "etl:jobs/load_c.py" in md
    assert "<script>" not in md and "\\<script\\>" in md and "\\[click\\](http://evil)" in md
    page = to_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("<svg") == 1 and "</svg>" in page
    svg = chart_svg(report)
    bars = re.findall(r"<title>(\d{4}-\d\d-\d\d) (\w+): (\d+)</title>", svg)
    expected = {(d, s, str(n)) for d, counts in data.expected()["chart"].items() for s, n in counts.items()}
    assert set(bars) == expected


def test_slack_blocks_follow_block_kit_limits(report: Any) -> None:
    blocks = slack_blocks(report)
    assert 3 <= len(blocks) <= 50
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["type"] == "plain_text"
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        assert block["type"] in {"header", "section", "divider", "context"}
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and 0 < len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
    text = json.dumps(blocks)
    assert "<script>" not in text and "&lt;script&gt;" in text  # mrkdwn escapes &, <, >
    assert "stream_a" in text and "load_c" in text


def test_teams_card_is_an_adaptive_card(report: Any) -> None:
    card = teams_card(report)
    assert card["type"] == "message" and len(card["attachments"]) == 1
    attachment = card["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert content["type"] == "AdaptiveCard" and content["version"] == "1.4"
    assert content["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"

    def walk(elements: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for element in elements:
            yield element
            yield from walk(element.get("items", []))

    for element in walk(content["body"]):
        assert element["type"] in {"TextBlock", "FactSet", "Container"}
        if element["type"] == "TextBlock":
            assert isinstance(element["text"], str) and element["text"]
        if element["type"] == "FactSet":
            assert all(set(f) == {"title", "value"} for f in element["facts"])
    assert "](http://evil)" not in json.dumps(card)  # a source's Markdown link is not rendered


# -- delivery ------------------------------------------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server: Any = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server.received.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        status, delay = server.answers.pop(0) if server.answers else (200, 0.0)
        if delay:
            import time

            time.sleep(delay)
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"server error")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _settings(tmp_path: Path, **report: Any) -> Settings:
    s = Settings(data_dir=tmp_path, timezone=data.TZ)
    s.report.retry_backoff_s = 0.0
    for k, v in report.items():
        setattr(s.report, k, v)
    return s


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def loaded(tmp_path: Path) -> Any:
    from flowrag.graph.embedded import EmbeddedStore

    store = EmbeddedStore.open(tmp_path / "graph")
    await store.migrate(8)
    await data.load(store)
    yield store
    await store.close()


async def test_slack_and_teams_receive_their_payloads_once(
    loaded: GraphStore, webhook: Any, tmp_path: Path
) -> None:
    secret = "T000/B000/XXXXsecretXXXX"
    channels = {
        "slack": SlackChannel(f"{webhook.url}/services/{secret}", 5),
        "teams": TeamsChannel(f"{webhook.url}/workflows/{secret}", 5),
        "files": FilesChannel(tmp_path / "out", ("md", "html", "json")),
    }
    service = ReportService(loaded, _settings(tmp_path), channels=channels, sleep=_no_sleep, now=lambda: NOW)
    _, deliveries = await service.send(data.DAY)
    assert [(d.channel, d.status, d.attempts) for d in deliveries] == [
        ("slack", "sent", 1),
        ("teams", "sent", 1),
        ("files", "sent", 1),
    ]
    assert all(secret not in d.detail for d in deliveries)
    (slack_path, slack_type, slack), (teams_path, _, teams) = webhook.received
    assert slack_path == f"/services/{secret}" and slack_type.startswith("application/json")
    assert set(slack) == {"text", "blocks"} and slack["blocks"][0]["type"] == "header"
    assert "24/11/2026" in slack["text"]
    assert teams["attachments"][0]["content"]["type"] == "AdaptiveCard" and teams_path.startswith(
        "/workflows/"
    )
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [f"flowrag-report-{data.DAY}.{x}" for x in ("html", "json", "md")]
    facts = json.loads((tmp_path / "out" / f"flowrag-report-{data.DAY}.json").read_text())
    assert facts["totals"] == data.expected()["totals"]
    # sent once: a second call, and a restarted service on the same store, skip every channel
    _, again = await service.send(data.DAY)
    assert [d.status for d in again] == ["skipped"] * 3
    restarted = ReportService(
        loaded, _settings(tmp_path), channels=channels, sleep=_no_sleep, now=lambda: NOW
    )
    _, after_restart = await restarted.send(data.DAY)
    assert [d.status for d in after_restart] == ["skipped"] * 3 and len(webhook.received) == 2
    _, resent = await restarted.send(data.DAY, ["slack"], resend=True)
    assert [(d.channel, d.status) for d in resent] == [("slack", "sent")] and len(webhook.received) == 3
    stored = await restarted.deliveries(data.DAY)
    assert {k: v.status for k, v in stored.items()} == {"slack": "sent", "teams": "sent", "files": "sent"}


async def test_failed_deliveries_are_retried_recorded_and_retried_later(
    loaded: GraphStore, webhook: Any, tmp_path: Path
) -> None:
    webhook.answers = [(500, 0.0)] * 3  # more failures than one call's attempts (retries=1)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    settings = _settings(tmp_path, retries=1, retry_backoff_s=0.5, timeout_s=1.0)
    channels = {"slack": SlackChannel(f"{webhook.url}/hook", 1), "teams": TeamsChannel(f"{webhook.url}/t", 1)}
    service = ReportService(loaded, settings, channels=channels, sleep=sleep, now=lambda: NOW)
    _, deliveries = await service.send(data.DAY, ["slack"])
    assert [(d.status, d.attempts) for d in deliveries] == [("failed", 2)]
    assert "HTTP 500" in deliveries[0].detail and slept == [0.5]
    assert (await service.deliveries(data.DAY))["slack"].status == "failed"
    # a refused request (4xx) is not retried; a timeout is reported as such
    webhook.answers = [(400, 0.0), (200, 3.0)]
    _, refused = await service.send(data.DAY, ["slack"])
    assert [(d.status, d.attempts) for d in refused] == [("failed", 1)] and "HTTP 400" in refused[0].detail
    webhook.answers = [(200, 3.0), (200, 3.0)]
    _, slow = await service.send(data.DAY, ["teams"])
    assert slow[0].status == "failed" and "did not answer within 1 s" in slow[0].detail
    # a later call sends what failed, once the receiver is back
    webhook.answers = []
    _, later = await service.send(data.DAY)
    assert [(d.channel, d.status) for d in later] == [("slack", "sent"), ("teams", "sent")]


async def test_nowhere_to_send_and_bad_days_are_one_line_errors(loaded: GraphStore, tmp_path: Path) -> None:
    from flowrag.errors import ReportError

    service = ReportService(loaded, _settings(tmp_path), channels={}, now=lambda: NOW)
    with pytest.raises(ReportError, match="no report channel is configured"):
        await service.send(data.DAY)
    files = {"files": FilesChannel(tmp_path / "out")}
    service = ReportService(loaded, _settings(tmp_path), channels=files, now=lambda: NOW)
    with pytest.raises(ReportError, match="unknown channel"):
        await service.send(data.DAY, ["pager"])
    with pytest.raises(ReportError, match="slack not configured"):
        await service.send(data.DAY, ["slack"])
    with pytest.raises(ReportError, match="has not started yet"):
        service.day("2026-11-26")
    with pytest.raises(ReportError, match="is not a day"):
        service.day("24/11/2026")
    assert service.day(None) == data.DAY and service.day("today") == data.DAY + timedelta(days=1)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    service = ReportService(
        loaded,
        _settings(tmp_path),
        channels={"files": FilesChannel(blocked / "x")},
        sleep=_no_sleep,
        now=lambda: NOW,
    )
    _, out = await service.send(data.DAY)
    assert out[0].status == "failed" and out[0].attempts == 1 and "cannot write" in out[0].detail


# -- e-mail through a real SMTP server -------------------------------------------------------------


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Any]:
    import ssl

    import trustme
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    class Handler:
        def __init__(self) -> None:
            self.messages: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = auth_data.login == b"flowrag" and auth_data.password == b"s3cret-pw"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    import socket

    handler = Handler()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_ctx,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    handler.port = port  # type: ignore[attr-defined]
    handler.ca = ca_file  # type: ignore[attr-defined]
    yield handler
    controller.stop()


def _mail_settings(tmp_path: Path, smtp: Any, password: str = "s3cret-pw", **kw: Any) -> Settings:  # noqa: S107
    base: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_user": "flowrag",
        "smtp_password": SecretStr(password),
        "smtp_ca_bundle": smtp.ca,
        "mail_from": "flowrag@bank.example",
        "mail_to": ["team@bank.example", "ops@bank.example"],
    }
    return _settings(tmp_path, **(base | kw))


async def test_email_over_starttls_with_html_and_the_chart(
    loaded: GraphStore, smtp: Any, tmp_path: Path
) -> None:
    settings = _mail_settings(tmp_path, smtp)
    service = ReportService(loaded, settings, sleep=_no_sleep, now=lambda: NOW)
    assert service.channels == ("email",)
    _, deliveries = await service.send(data.DAY)
    assert [(d.channel, d.status) for d in deliveries] == [("email", "sent")]
    ((sender, recipients, raw),) = smtp.messages
    assert sender == "flowrag@bank.example" and recipients == ["team@bank.example", "ops@bank.example"]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert "24/11/2026" in msg["Subject"] and msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    assert text is not None and html_part is not None
    assert "stream_a" in text.get_content()
    page = html_part.get_content()
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    png = images[0].get_content()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in page and "&lt;script&gt;" in page and "<script>" not in page


async def test_email_failures_are_clear_and_recorded(loaded: GraphStore, smtp: Any, tmp_path: Path) -> None:
    wrong = _mail_settings(tmp_path, smtp, password="wrong-password")
    service = ReportService(loaded, wrong, sleep=_no_sleep, now=lambda: NOW)
    _, out = await service.send(data.DAY)
    assert out[0].status == "failed" and out[0].attempts == 1  # bad credentials are not retried
    assert "refused the login of 'flowrag'" in out[0].detail and "wrong-password" not in out[0].detail
    assert smtp.messages == []
    plain = _mail_settings(tmp_path, smtp, smtp_ca_bundle=None)  # the test CA is not trusted
    _, tls = await ReportService(loaded, plain, sleep=_no_sleep, now=lambda: NOW).send(data.DAY)
    assert tls[0].status == "failed" and "TLS failed" in tls[0].detail
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    down = _mail_settings(tmp_path, smtp, smtp_port=closed, retries=2)
    _, refused = await ReportService(loaded, down, sleep=_no_sleep, now=lambda: NOW).send(data.DAY)
    assert refused[0].status == "failed" and refused[0].attempts == 3 and "unreachable" in refused[0].detail
    stored = await service.deliveries(data.DAY)
    assert stored["email"].status == "failed"
    _, ok = await ReportService(
        loaded, _mail_settings(tmp_path, smtp), sleep=_no_sleep, now=lambda: NOW
    ).send(data.DAY)
    assert ok[0].status == "sent" and len(smtp.messages) == 1


# -- schedule ------------------------------------------------------------------------------------------


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start
        self.stop = asyncio.Event()
        self.until: datetime | None = None

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        if self.until is not None and self.now >= self.until:
            self.stop.set()
        await asyncio.sleep(0)


async def test_the_schedule_fires_on_weekdays_and_a_restart_does_not_resend(
    loaded: GraphStore, tmp_path: Path
) -> None:
    from flowrag.report.schedule import ReportScheduler

    paris = ZoneInfo(data.TZ)
    clock = Clock(datetime(2026, 11, 26, 6, 59, tzinfo=paris).astimezone(UTC))  # Thursday 06:59
    clock.until = datetime(2026, 12, 1, 7, 30, tzinfo=paris).astimezone(UTC)  # next Tuesday
    files = {"files": FilesChannel(tmp_path / "out", ("md",))}
    settings = _settings(tmp_path)
    ingested: list[datetime] = []

    async def before() -> None:
        ingested.append(clock.now)

    service = ReportService(loaded, settings, channels=files, sleep=_no_sleep, now=clock)
    scheduler = ReportScheduler(service, "0 7 * * 1-5", data.TZ, before=before, now=clock, sleep=clock.sleep)
    await asyncio.wait_for(scheduler.run(clock.stop), 30)
    fired = [at.astimezone(paris).strftime("%a %d %H:%M") for at, _ in scheduler.fired]
    assert fired == ["Thu 26 07:00", "Fri 27 07:00", "Mon 30 07:00", "Tue 01 07:00"]
    assert len(ingested) == 4
    sent = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert sent == [
        f"flowrag-report-2026-11-{d}.md" for d in ("25", "26", "29", "30")
    ]  # the day before each fire
    # restart just before Tuesday's fire: it fires again, and skips what was sent
    clock.now = datetime(2026, 12, 1, 6, 0, tzinfo=paris).astimezone(UTC)
    clock.stop.clear()
    clock.until = datetime(2026, 12, 1, 7, 10, tzinfo=paris).astimezone(UTC)
    restarted = ReportScheduler(
        ReportService(loaded, settings, channels=files, sleep=_no_sleep, now=clock),
        "0 7 * * 1-5",
        data.TZ,
        now=clock,
        sleep=clock.sleep,
    )
    await asyncio.wait_for(restarted.run(clock.stop), 30)
    assert [[d.status for d in deliveries] for _, deliveries in restarted.fired] == [["skipped"]]


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("5-7", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("sat,sun", "sun,sat"),
        ("*", "*"),
    ],
)
def test_cron_weekdays_are_standard_cron(field: str, days: str) -> None:
    from flowrag.report.schedule import _weekdays

    assert _weekdays(field, f"0 7 * * {field}") == days


@pytest.mark.parametrize("expression", ["0 7 * *", "0 25 * * *", "0 7 * * funday", "every morning"])
def test_bad_cron_expressions_are_config_errors(expression: str) -> None:
    from flowrag.errors import ConfigError
    from flowrag.report.schedule import cron_trigger

    with pytest.raises(ConfigError, match="FLOWRAG_REPORT__SCHEDULE"):
        cron_trigger(expression, data.TZ)


async def test_synthesis_by_a_real_llm_is_kept_with_its_facts(
    loaded: GraphStore, tmp_path: Path, llama_server: Any
) -> None:
    from flowrag.answer.llm import LLMClient

    settings = _settings(tmp_path)
    settings.llm.model = "openai/smollm2"
    settings.llm.api_base = llama_server.api_base
    settings.llm.api_key = SecretStr("none")
    settings.llm.max_tokens = 64
    settings.llm.timeout_s = 120
    settings.llm.retries = 0
    service = ReportService(loaded, settings, LLMClient(settings.llm), channels={}, now=lambda: NOW)
    report = await service.build(data.DAY)
    assert report.synthesis_by == "llm" and report.synthesis.strip()
    assert {f.pipeline: f.count for f in report.failures} == data.expected()["flows"]  # facts unchanged
    settings.llm.api_base = "http://127.0.0.1:9"  # nothing listens: the rule sentence, and a note
    fallback = await ReportService(
        loaded, settings, LLMClient(settings.llm), channels={}, now=lambda: NOW
    ).build(data.DAY)
    assert fallback.synthesis_by == "rule" and fallback.synthesis.startswith("Le 24/11/2026")
    assert any("LLM synthesis failed" in n for n in fallback.notes)


def test_serve_runs_the_schedule_and_stops_cleanly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from starlette.testclient import TestClient

    from flowrag.api.app import create_app

    settings = _settings(tmp_path, schedule="30 6 * * 1-5", folder=tmp_path / "out")
    settings.store.path = tmp_path / "graph"
    with (
        caplog.at_level(logging.INFO, logger="flowrag.report.schedule"),
        TestClient(create_app(settings)) as client,
    ):
        assert client.get("/health").json()["status"] == "ok"
    scheduled = [r.getMessage() for r in caplog.records if "morning report scheduled" in r.getMessage()]
    assert len(scheduled) == 1 and re.search(r"next at \d{4}-\d\d-\d\dT\d\d:30:00\+00:00", scheduled[0])


async def test_a_scheduled_fire_ingests_the_mongo_source_first(
    tmp_path: Path, mongo_server: Any, cached_embedder: Any, nlp: Any
) -> None:
    from collections import Counter

    from pymongo import MongoClient

    from flowrag.api.app import report_scheduler
    from flowrag.examples.monitoring import generate_runs
    from flowrag.graph.embedded import EmbeddedStore
    from flowrag.models.vocabulary import load_vocabulary
    from flowrag.runtime import Runtime

    docs = list(generate_runs(60, now=NOW, days=3))
    client: Any = MongoClient(mongo_server.uri, serverSelectionTimeoutMS=5000)
    client.drop_database("report_before")
    client["report_before"].runs.insert_many(docs)
    store = EmbeddedStore.open(tmp_path / "graph")
    await store.migrate(cached_embedder.dimension)
    settings = _settings(
        tmp_path,
        schedule="0 7 * * *",
        ingest_before=True,
        mongo_uri=SecretStr(mongo_server.uri),
        mongo_db="report_before",
        folder=tmp_path / "out",
        file_formats=["json"],
    )
    rt = Runtime(settings, store, cached_embedder, nlp, load_vocabulary(None))
    try:
        scheduler = report_scheduler(rt, settings)
        deliveries = await scheduler.fire(NOW)  # the fire of 25/11: the report of 24/11
        assert [(d.channel, d.status) for d in deliveries] == [("files", "sent")]
        assert await store.count_nodes("Run") == len(docs)  # ingested before the report was built
        paris = ZoneInfo(data.TZ)
        day = [d for d in docs if d["start_time"].astimezone(paris).date() == data.DAY]
        facts = json.loads((tmp_path / "out" / f"flowrag-report-{data.DAY}.json").read_text())
        assert facts["totals"] == dict(Counter(d["status"] for d in day))
    finally:
        await store.close()
        client.drop_database("report_before")
        client.close()


async def test_an_unexpected_channel_error_is_recorded_not_raised(loaded: GraphStore, tmp_path: Path) -> None:
    class Broken:
        name = "slack"
        calls = 0

        async def send(self, report: Any) -> str:
            Broken.calls += 1
            raise RuntimeError("boom at https://hooks.slack.com/services/T000/B000/secretpart")

    settings = _settings(tmp_path, retries=2)
    service = ReportService(loaded, settings, channels={"slack": Broken()}, sleep=_no_sleep, now=lambda: NOW)
    _, out = await service.send(data.DAY)
    assert [(d.status, d.attempts) for d in out] == [("failed", 3)] and Broken.calls == 3
    assert "unexpected RuntimeError" in out[0].detail and "secretpart" not in out[0].detail
    assert (await service.deliveries(data.DAY))["slack"].status == "failed"

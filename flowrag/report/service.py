"""Build a day's report, write its synthesis, deliver it once per channel, and remember it.

The report of a day is a ``Report`` node (key: the day) holding its facts, its Markdown and, per
channel, the delivery status. A channel that has the day's report is skipped unless ``resend``;
the node is written after every channel, so a crash or a restart never sends twice what went out.
A failed delivery is retried with exponential backoff, and recorded with its reason."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flowrag import tracing
from flowrag.answer.context import neutralise
from flowrag.answer.llm import SYSTEM_PROMPTS, LLMClient
from flowrag.errors import LLMError, ReportError
from flowrag.extract.secrets import redact
from flowrag.graph.port import GraphStore
from flowrag.report.channels import CHANNEL_NAMES, Channel, DeliveryError, configured_channels
from flowrag.report.facts import Report, build_facts, yesterday
from flowrag.report.render import period_text, to_markdown
from flowrag.schema import NodeLabel, NodeRow, make_uid
from flowrag.settings import Settings
from flowrag.timeutil import to_iso

__all__ = ["MAX_PERIOD_DAYS", "Delivery", "ReportService", "parse_day", "rule_synthesis"]

MAX_PERIOD_DAYS = 90  # the longest period a report counts (each trend reads as many periods before it)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    channel: str
    status: str  # sent | failed | skipped
    attempts: int
    detail: str  # where it went, or why not
    at: str


def parse_day(value: str | None, tz: str, now: datetime | None = None) -> date:
    """``YYYY-MM-DD``, ``today``, ``yesterday`` (the default), in the zone ``tz``; never a future day."""
    current = (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()
    if value in (None, "", "yesterday", "hier"):
        return yesterday(tz, now)
    if value in ("today", "aujourd'hui"):
        return current
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise ReportError(f"{value!r} is not a day", hint="use YYYY-MM-DD, 'today' or 'yesterday'") from None
    if day > current:
        raise ReportError(f"{day} has not started yet in {tz}", hint=f"the latest day is {current}")
    return day


def _list(names: Sequence[str], lang: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    last = " et " if lang == "fr" else " and "
    return ", ".join(names[:-1]) + last + names[-1]


def rule_synthesis(report: Report) -> str:
    """The summary without an LLM: one deterministic sentence per fact that is there."""
    fr = report.language == "fr"
    day = period_text(report)
    on = (f"le {day}" if fr else f"on {day}") if report.days == 1 else (f"du {day}" if fr else f"from {day}")
    total = sum(report.totals.values())
    if not report.failed:
        return f"Aucun échec {on} ({total} exécution(s))." if fr else f"No failure {on} ({total} run(s))."
    flows = _list([f"{f.name} (×{f.count})" for f in report.failures[:5]], report.language)
    if report.failing_flows > 5:
        flows += f" +{report.failing_flows - 5}"
    techs = _list([name for name, _ in report.technologies], report.language)
    parts = [
        f"{on[0].upper()}{on[1:]}, {report.failed} exécution(s) sur {total} en échec, sur {report.failing_flows} flux : {flows}."
        if fr
        else f"{on[0].upper()}{on[1:]}, {report.failed} of {total} run(s) failed, across {report.failing_flows} flow(s): {flows}."
    ]
    if techs:
        parts.append(f"Technologies impactées : {techs}." if fr else f"Technologies impacted: {techs}.")
    if report.new_errors:
        n = len(report.new_errors)
        parts.append(f"{n} nouvelle(s) erreur(s)." if fr else f"{n} new error(s).")
    for way, fr_word, en_word in (
        ("up", "En hausse", "Up"),
        ("new", "Nouveaux en échec", "Newly failing"),
        ("recovered", "Rétablis", "Recovered"),
    ):
        names = [t.name for t in report.trends if t.direction == way and t.dimension == "pipeline"]
        if names:
            parts.append(f"{fr_word} : {_list(names, 'fr')}." if fr else f"{en_word}: {_list(names, 'en')}.")
    streaks = [f"{s.pipeline} ({s.days} {'jours' if fr else 'days'})" for s in report.streaks[:5]]
    if streaks:
        parts.append(
            f"En échec plusieurs jours de suite : {_list(streaks, report.language)}."
            if fr
            else f"Failing several days in a row: {_list(streaks, report.language)}."
        )
    return " ".join(parts)


def evidence_lines(report: Report) -> list[tuple[str, str]]:
    """The facts an LLM may cite, numbered in order: (text, provenance)."""
    lines: list[tuple[str, str]] = []
    for flow in report.failures:
        for cause in flow.causes:
            lines.append(
                (
                    f"flow {flow.name} ({flow.technology}): {cause.count} failure(s), message: {neutralise(cause.message)}",
                    ", ".join(cause.citations),
                )
            )
    for err in report.new_errors:
        lines.append(
            (f"new error (first seen that day): {neutralise(err.message or err.template)}", err.citation)
        )
    for trend in report.trends:
        lines.append(
            (
                f"{trend.dimension} {trend.name}: {trend.direction}, {trend.today} failure(s) vs mean {trend.mean:.1f}/day",
                "",
            )
        )
    for streak in report.streaks:
        lines.append((f"flow {streak.pipeline} failing {streak.days} days in a row", ""))
    return lines


class ReportService:
    def __init__(
        self,
        store: GraphStore,
        settings: Settings,
        llm: LLMClient | None = None,
        *,
        channels: dict[str, Channel] | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._settings = settings
        self._llm = llm if llm is not None and llm.configured else None
        self._channels = channels if channels is not None else configured_channels(settings.report)
        self._sleep = sleep
        self._now = now

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self._channels)

    def day(self, value: str | None = None) -> date:
        return parse_day(value, self._settings.timezone, self._now())

    async def build(
        self,
        day: date | None = None,
        language: str | None = None,
        chart_days: int | None = None,
        *,
        days: int = 1,
        collections: Sequence[str] = (),
    ) -> Report:
        """The report of ``day``, or of the ``days`` days ending on it, over ``collections`` (all
        when empty); ``chart_days`` widens or narrows its chart of runs per day (the dashboard's
        period), FLOWRAG_REPORT__CHART_DAYS otherwise."""
        if not 1 <= days <= MAX_PERIOD_DAYS:
            raise ReportError(f"a report covers 1 to {MAX_PERIOD_DAYS} days, not {days}")
        with tracing.span("flowrag.report", days=days, collections=len(collections)) as traced:
            report = await self._build(day, language, chart_days, days, collections)
            tracing.annotate(
                traced, failed=report.failed, flows=report.failing_flows, synthesis=report.synthesis_by
            )
        return report

    async def _build(
        self,
        day: date | None,
        language: str | None,
        chart_days: int | None,
        days: int,
        collections: Sequence[str],
    ) -> Report:
        s = self._settings.report
        report = await build_facts(
            self._store,
            day or self.day(),
            self._settings.timezone,
            language or s.language,
            max_flows=s.max_flows,
            trend_days=s.trend_days,
            chart_days=chart_days or s.chart_days,
            now=self._now(),
            days=days,
            collections=collections,
        )
        report.synthesis = rule_synthesis(report)
        if self._llm is not None and report.failed:
            try:
                report.synthesis = await self._llm_synthesis(report)
                report.synthesis_by = "llm"
            except LLMError as exc:
                report.notes.append(f"LLM synthesis failed, rule sentence used: {exc.message}")
        return report

    async def _llm_synthesis(self, report: Report) -> str:
        assert self._llm is not None
        lines = evidence_lines(report)[:40]
        evidence = "\n".join(
            f"[{i}] {text}" + (f" ({where})" if where else "") for i, (text, where) in enumerate(lines, 1)
        )
        ask = (
            f"Rédige en 2 à 4 phrases la synthèse du rapport du {period_text(report)} : état des erreurs, tendances, "
            "technologies impactées. Cite chaque fait avec son numéro."
            if report.language == "fr"
            else f"Write the 2-4 sentence summary of the report for {period_text(report)}: state of errors, trends, "
            "technologies impacted. Cite each fact with its number."
        )
        messages = [
            {"role": "system", "content": SYSTEM_PROMPTS.get(report.language, SYSTEM_PROMPTS["en"])},
            {"role": "user", "content": f"<evidence>\n{evidence}\n</evidence>\n\n{ask}"},
        ]
        text = (await self._llm.complete(messages)).strip()
        if not text:
            raise LLMError("the LLM returned an empty synthesis")
        return text

    # -- stored reports --------------------------------------------------------------------------

    async def deliveries(self, day: date) -> dict[str, Delivery]:
        found = await self._store.get_nodes([make_uid(NodeLabel.REPORT, day.isoformat())])
        if not found:
            return {}
        raw = json.loads(str(found[0].props.get("deliveries", "{}")) or "{}")
        return {name: Delivery(**value) for name, value in raw.items()}

    async def stored_markdown(self, day: date) -> str | None:
        found = await self._store.get_nodes([make_uid(NodeLabel.REPORT, day.isoformat())])
        return found[0].text if found else None

    async def _save(self, report: Report, deliveries: dict[str, Delivery]) -> None:
        markdown = to_markdown(report)
        await self._store.upsert_nodes(
            [
                NodeRow(
                    NodeLabel.REPORT,
                    report.day,
                    "system",
                    "reports",
                    report.day,
                    name=f"report {report.day}",
                    text=markdown,
                    props={
                        "day": report.day,
                        "language": report.language,
                        "built_at": report.generated_at,
                        "failed": report.failed,
                        "facts": json.dumps(report.to_dict(), ensure_ascii=False),
                        "deliveries": json.dumps(
                            {k: asdict(v) for k, v in deliveries.items()}, ensure_ascii=False
                        ),
                    },
                )
            ]
        )
        await self._store.flush()

    async def save(self, report: Report) -> None:
        """Keep a built daily report (its deliveries so far are kept too); a report over several
        days or some collections only is not the day's report and is not kept."""
        if report.days != 1 or report.collections:
            return
        await self._save(report, await self.deliveries(date.fromisoformat(report.day)))

    # -- delivery --------------------------------------------------------------------------------

    def channels_for(self, names: Sequence[str] | None) -> list[str]:
        unknown = [n for n in names or () if n not in CHANNEL_NAMES]
        if unknown:
            raise ReportError(
                f"unknown channel(s) {', '.join(unknown)}", hint=f"channels are {', '.join(CHANNEL_NAMES)}"
            )
        if not self._channels:
            raise ReportError(
                "no report channel is configured",
                hint="set FLOWRAG_REPORT__FOLDER, __SLACK_WEBHOOK, __TEAMS_WEBHOOK or __SMTP_HOST (docs/configuration.md)",
            )
        missing = [n for n in names or () if n not in self._channels]
        if missing:
            raise ReportError(
                f"channel(s) {', '.join(missing)} not configured",
                hint=f"configured: {', '.join(self._channels)}",
            )
        return list(names) if names else list(self._channels)

    async def send(
        self,
        day: date | None = None,
        channels: Sequence[str] | None = None,
        *,
        resend: bool = False,
        report: Report | None = None,
    ) -> tuple[Report, list[Delivery]]:
        """Build (unless given) and deliver the report of ``day`` to each channel that does not
        have it yet; the outcome of each channel is stored as soon as it is known."""
        names = self.channels_for(channels)
        day = day or self.day()
        report = report or await self.build(day)
        state = await self.deliveries(day)
        out = []
        for name in names:
            previous = state.get(name)
            if previous is not None and previous.status == "sent" and not resend:
                out.append(
                    Delivery(name, "skipped", 0, f"already sent at {previous.at}", to_iso(self._now()))
                )
                continue
            delivery = await self._deliver(name, self._channels[name], report)
            state[name] = delivery
            await self._save(report, state)
            out.append(delivery)
        return report, out

    async def _deliver(self, name: str, channel: Channel, report: Report) -> Delivery:
        s = self._settings.report
        delay = s.retry_backoff_s
        reason = ""
        attempt = 0
        for attempt in range(1, s.retries + 2):
            try:
                where = await asyncio.wait_for(channel.send(report), timeout=s.timeout_s * 2 + 5)
                log.info("report %s sent to %s (attempt %d)", report.day, name, attempt)
                return Delivery(name, "sent", attempt, where, to_iso(self._now()))
            except DeliveryError as exc:
                reason = str(exc)
                if exc.permanent:
                    break
            except TimeoutError:
                reason = f"{name}: no answer within {s.timeout_s * 2 + 5:.0f} s"
            except Exception as exc:  # a client library's own error: recorded, never raised
                reason = f"{name}: unexpected {type(exc).__name__}: {redact(str(exc))[:200]}"
                log.exception("report %s to %s: unexpected error", report.day, name)
            log.warning(
                "report %s to %s failed (attempt %d/%d): %s", report.day, name, attempt, s.retries + 1, reason
            )
            if attempt <= s.retries:
                await self._sleep(delay)
                delay *= 2
        return Delivery(name, "failed", attempt, reason, to_iso(self._now()))

"""The report on a cron schedule, inside `flowrag serve`.

The expression is standard cron (minute hour day-of-month month day-of-week, 0 or 7 = Sunday), read
in ``FLOWRAG_TIMEZONE``; APScheduler's cron trigger computes the fire times (its own day-of-week
numbers start on Monday, so the weekday field is translated to names first). Each fire sends the
report of the day before the fire's local date to every configured channel that does not have it:
a restart never resends, and a fire missed while the server was down is not replayed (run
``flowrag report --send`` for that day). The clock and the sleep are injectable, for tests."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flowrag.errors import ConfigError
from flowrag.report.service import Delivery, ReportService

__all__ = ["ReportScheduler", "cron_trigger"]

log = logging.getLogger(__name__)

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_ITEM = re.compile(r"^(\*|[0-7a-z]{1,3})(?:-([0-7a-z]{1,3}))?(?:/(\d+))?$")


def _dow_number(token: str, expression: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    if token[:3] in _DAYS:
        return _DAYS.index(token[:3])
    raise ConfigError(
        f"FLOWRAG_REPORT__SCHEDULE {expression!r}: {token!r} is not a weekday",
        hint="weekdays are 0-7 (0 and 7 = Sunday) or sun..sat",
    )


def _weekdays(field: str, expression: str) -> str:
    """Standard cron's weekday field as APScheduler weekday names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        match = _DOW_ITEM.match(item)
        if not match:
            raise ConfigError(f"FLOWRAG_REPORT__SCHEDULE {expression!r}: bad weekday field {field!r}")
        first, last, step = match.groups()
        if first == "*":
            lo, hi = 0, 6
        else:
            lo = _dow_number(first, expression)
            hi = _dow_number(last, expression) if last else (6 if step else lo)  # "5-7": wraps below
        days.update(d % 7 for d in range(lo, (hi if hi >= lo else hi + 7) + 1, int(step or 1)))
    return ",".join(_DAYS[d] for d in sorted(days))


def cron_trigger(expression: str, tz: str) -> Any:
    """An APScheduler CronTrigger for a standard 5-field cron expression in the zone ``tz``."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ConfigError(
            f"FLOWRAG_REPORT__SCHEDULE {expression!r} is not a cron expression",
            hint="five fields: minute hour day-of-month month day-of-week, e.g. '0 7 * * 1-5'",
        )
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekdays(weekday, expression),
            timezone=ZoneInfo(tz),
        )
    except ValueError as exc:
        raise ConfigError(f"FLOWRAG_REPORT__SCHEDULE {expression!r}: {exc}") from None


class ReportScheduler:
    def __init__(
        self,
        service: ReportService,
        expression: str,
        tz: str,
        *,
        before: Callable[[], Awaitable[Any]] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_sleep_s: float = 60.0,
    ) -> None:
        self._service = service
        self._trigger = cron_trigger(expression, tz)
        self._tz = ZoneInfo(tz)
        self._before = before
        self._now = now
        self._sleep = sleep
        self._max_sleep = max_sleep_s
        self.fired: list[tuple[datetime, list[Delivery]]] = []

    def next_fire(self, after: datetime) -> datetime:
        """The first fire time strictly after ``after``."""
        fire = self._trigger.get_next_fire_time(None, after.astimezone(self._tz) + timedelta(microseconds=1))
        if fire is None:  # an expression that never fires again (e.g. a past year)
            raise ConfigError("FLOWRAG_REPORT__SCHEDULE never fires")
        return cast(datetime, fire.astimezone(UTC))

    async def fire(self, at: datetime) -> list[Delivery]:
        """Send the report of the day before ``at`` (local date); ingest first if configured."""
        day = at.astimezone(self._tz).date() - timedelta(days=1)
        if self._before is not None:
            try:
                await self._before()
            except Exception as exc:  # a report on yesterday's data beats no report
                log.warning("ingestion before the report failed: %s", exc)
        _, deliveries = await self._service.send(day)
        self.fired.append((at, deliveries))
        for d in deliveries:
            log.info("scheduled report %s -> %s: %s (%s)", day, d.channel, d.status, d.detail)
        return deliveries

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Fire on schedule until ``stop`` is set (or the task is cancelled); never raises."""
        stop = stop or asyncio.Event()
        fire = self.next_fire(self._now())
        log.info("morning report scheduled; next at %s", fire.isoformat())
        while not stop.is_set():
            remaining = (fire - self._now()).total_seconds()
            if remaining > 0:
                await self._sleep(min(remaining, self._max_sleep))
                continue
            try:
                await self.fire(fire)
            except Exception:
                log.exception("the scheduled report of %s failed", fire.isoformat())
            fire = self.next_fire(max(fire, self._now()))

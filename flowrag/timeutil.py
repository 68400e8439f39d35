"""UTC timestamps as ISO-8601 strings (``2026-11-21T10:00:00Z``): comparable as text in every store."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

__all__ = ["now_iso", "parse_instant", "to_iso"]


def to_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return to_iso(datetime.now(UTC))


_COMPACT = re.compile(r"((?:19|20)\d\d)(0[1-9]|1[0-2])([0-3]\d)([0-2]\d)([0-5]\d)([0-5]\d)")
_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_instant(value: Any, assume: Any = UTC) -> str | None:
    """A timestamp as a UTC ISO string, from a datetime, ISO-8601 text (any offset), epoch seconds
    or milliseconds (as numbers or digit strings), ``yyyymmddHHMMSS`` or ``dd/mm/yyyy[ hh:mm[:ss]]``; None when it is
    none of these. Naive values are taken in ``assume`` (UTC unless given a zone)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime):
        return to_iso(value if value.tzinfo else value.replace(tzinfo=assume))
    if isinstance(value, date):
        return to_iso(datetime(value.year, value.month, value.day, tzinfo=assume))
    if isinstance(value, str) and (m := _COMPACT.fullmatch(value.strip())):
        # yyyymmddHHMMSS, as Control-M and mainframe schedulers write it
        try:
            y, mo, d, h, mi, se = (int(g) for g in m.groups())
            return to_iso(datetime(y, mo, d, h, mi, se, tzinfo=assume))
        except ValueError:
            return None
    if isinstance(value, str) and re.fullmatch(r"\d{10}(?:\d{3})?(?:\.\d+)?", value.strip()):
        value = float(value)
    if isinstance(value, int | float):
        seconds = value / 1000 if value >= 1e12 else value
        if not 1e8 <= seconds <= 4.2e9:
            return None
        return to_iso(datetime.fromtimestamp(seconds, UTC))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if m := _DAY_FIRST.match(text):
        day, month, year, hour, minute, second = m.groups()
        try:
            parsed = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            return None
        return to_iso(parsed.replace(tzinfo=assume))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return to_iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=assume))

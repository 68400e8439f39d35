"""UTC timestamps as ISO-8601 strings (``2026-11-21T10:00:00Z``): comparable as text in every store."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

__all__ = ["day_first", "looks_like_time", "now_iso", "parse_instant", "to_iso"]


def to_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return to_iso(datetime.now(UTC))


_COMPACT = re.compile(r"((?:19|20)\d\d)(0[1-9]|1[0-2])([0-3]\d)([0-2]\d)([0-5]\d)([0-5]\d)")
_EPOCH_TEXT = re.compile(r"\d{10}(?:\d{3})?(?:\.\d+)?")
# the pieces of a written timestamp in any common layout: an offset or zone at the end, a clock
# (with AM/PM), and a date that is numeric (2026-11-24, 24/11/2026, 11/24/26, 24.11.2026) or
# has a month name in English or French (Tue, 24 Nov 2026; Nov 24, 2026; 24-NOV-26; 24 nov. 2026)
_TZ_TAIL = re.compile(r"\s*(?:\b(Z|UTC|GMT)|([+-])(\d{2}):?(\d{2}))$", re.IGNORECASE)
_CLOCK = re.compile(
    r"(?:^|[\sT,])(\d{1,2})[:h](\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(?:([AaPp])\.?[Mm]\.?)?(?=$|[\s,])"
)
_NUMERIC_DATE = re.compile(r"(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan janv january janvier",
            "feb fev fevr february fevrier",
            "mar mars march",
            "apr avr april avril",
            "may mai",
            "jun juin june",
            "jul juil july juillet",
            "aug aou aout august",
            "sep sept september septembre",
            "oct october octobre",
            "nov november novembre",
            "dec december decembre",
        ),
        start=1,
    )
    for name in names.split()
}
_WEEKDAYS = frozenset(
    "mon monday tue tues tuesday wed wednesday thu thur thurs thursday fri friday sat saturday sun sunday "
    "lun lundi mar mardi mer mercredi jeu jeudi ven vendredi sam samedi dim dimanche".split()
)
_FILLER = frozenset({"de", "of", "the", "le", "at", "a"})


def _fold(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _year(text: str) -> int:
    value = int(text)
    return value if len(text) == 4 else 2000 + value if value < 70 else 1900 + value


def _written(text: str, assume: Any, day_first: bool) -> datetime | None:
    """A timestamp written in one of the layouts people and tools use, None when it is not one."""
    rest = text.strip()
    zone = None
    if tail := _TZ_TAIL.search(rest):
        if tail.group(1):
            zone = UTC
        else:
            sign = -1 if tail.group(2) == "-" else 1
            zone = timezone(sign * timedelta(hours=int(tail.group(3)), minutes=int(tail.group(4))))
        rest = rest[: tail.start()]
    hour = minute = second = micro = 0
    if clock := _CLOCK.search(rest):
        hour, minute = int(clock.group(1)), int(clock.group(2))
        second = int(clock.group(3) or 0)
        micro = int((clock.group(4) or "0")[:6].ljust(6, "0"))
        if clock.group(5):
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if clock.group(5) in "Pp" else 0)
        rest = rest[: clock.start()] + " " + rest[clock.end() :]
    rest = rest.strip(" ,")
    if numeric := _NUMERIC_DATE.fullmatch(rest):
        a, _, b, c = numeric.groups()
        if len(a) == 4:
            year, month, day = int(a), int(b), int(c)
        elif len(c) in (2, 4):
            year = _year(c)
            day, month = (int(a), int(b)) if day_first else (int(b), int(a))
        else:
            return None
    else:
        year = day = 0
        months: list[str] = []
        for token in re.findall(r"[^\W\d_]+|\d+", _fold(rest)):
            if token.isdigit():
                if len(token) == 4 and not year:
                    year = int(token)
                elif len(token) <= 2 and not day:
                    day = int(token)
                elif len(token) == 2 and not year:
                    year = _year(token)
                else:
                    return None
            elif token in _MONTHS:
                months.append(token)
            elif token not in _WEEKDAYS and token not in _FILLER:
                return None
        if len(months) > 1:  # "mar. 24 nov.": mardi, not March
            months = [m for m in months if m not in _WEEKDAYS]
        if not (year and day and len(months) == 1):
            return None
        month = _MONTHS[months[0]]
    try:
        parsed = datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None
    return parsed.replace(tzinfo=zone or assume)


def day_first(values: Iterable[Any]) -> bool | None:
    """Whether the numeric dates of one field are written day first (24/11/2026) or month first
    (11/24/2026), from the values themselves: a first number above 12 can only be a day, a second
    one only a day too. None when no value tells (then day first is assumed)."""
    first = second = False
    for value in values:
        if isinstance(value, str) and (m := _NUMERIC_DATE.search(value)) and len(m.group(1)) <= 2:
            first |= int(m.group(1)) > 12
            second |= int(m.group(3)) > 12
    if first != second:
        return first
    return None


def looks_like_time(value: str) -> bool:
    """A written timestamp (not a bare number, which may as well be an id)."""
    text = value.strip()
    if not text or len(text) > 48 or text.isdigit() or not any(c.isdigit() for c in text):
        return False
    return parse_instant(text) is not None or parse_instant(text, day_first=False) is not None


def parse_instant(value: Any, assume: Any = UTC, day_first: bool = True) -> str | None:
    """A timestamp as a UTC ISO string, from a datetime, ISO-8601 text (any offset), epoch seconds
    or milliseconds (as numbers or digit strings), ``yyyymmddHHMMSS``, or text in the layouts
    tools write (RFC 1123 ``Tue, 24 Nov 2026 10:00:00 GMT``, ``24/11/2026 10:00``,
    ``11/24/2026 10:00:00 PM``, ``24-NOV-26``, month names in English or French); None when it is
    none of these. Naive text is taken in ``assume`` (UTC unless given a zone); a naive datetime
    object is UTC, as BSON dates are. ``day_first`` reads ``01/02/2026`` as 1 February."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime):
        return to_iso(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return to_iso(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, str) and (m := _COMPACT.fullmatch(value.strip())):
        # yyyymmddHHMMSS, as Control-M and mainframe schedulers write it
        try:
            y, mo, d, h, mi, se = (int(g) for g in m.groups())
            return to_iso(datetime(y, mo, d, h, mi, se, tzinfo=assume))
        except ValueError:
            return None
    if isinstance(value, str) and _EPOCH_TEXT.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, int | float):
        seconds = value / 1000 if value >= 1e12 else value
        if not 1e8 <= seconds <= 4.2e9:
            return None
        return to_iso(datetime.fromtimestamp(seconds, UTC))
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        written = _written(text, assume, day_first) if len(text) <= 64 else None
        return to_iso(written) if written else None
    return to_iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=assume))

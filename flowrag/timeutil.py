"""UTC timestamps as ISO-8601 strings (``2026-11-21T10:00:00Z``): comparable as text in every store."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["now_iso", "to_iso"]


def to_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return to_iso(datetime.now(UTC))

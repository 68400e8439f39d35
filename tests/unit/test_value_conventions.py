"""How a collection writes its values: timestamps in the layouts tools write, day/month order read
from the values, and status values that no word classifies, read from their runs' evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from flowrag.extract.mapping import value_conventions
from flowrag.extract.monitoring import FieldMapping
from flowrag.ingest.monitoring import _stored_mapping
from flowrag.settings import MongoSettings
from flowrag.timeutil import day_first, looks_like_time, parse_instant

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")


def _utc(*parts: int, tz: object = PARIS) -> str:
    return datetime(*parts, tzinfo=tz).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "first", "expected"),
    [
        ("Tue, 24 Nov 2026 10:00:00 GMT", True, _utc(2026, 11, 24, 10, tz=UTC)),  # RFC 1123 (Oozie)
        ("Tue, 24 Nov 2026 10:00:00 +0100", True, _utc(2026, 11, 24, 9, tz=UTC)),
        ("11/24/2026 15:04:05", False, _utc(2026, 11, 24, 15, 4, 5)),  # US local (AutoSys)
        ("11/24/2026 03:04:05 PM", False, _utc(2026, 11, 24, 15, 4, 5)),
        ("12/01/2026 12:30 AM", False, _utc(2026, 12, 1, 0, 30)),
        ("24/11/2026 10:00", True, _utc(2026, 11, 24, 10)),
        ("24.11.2026 10:00:00", True, _utc(2026, 11, 24, 10)),
        ("24-NOV-26 10:00:00", True, _utc(2026, 11, 24, 10)),  # Oracle
        ("Nov 24, 2026 10:00:00 AM", True, _utc(2026, 11, 24, 10)),
        ("mar. 24 nov. 2026 10h30", True, _utc(2026, 11, 24, 10, 30)),  # mardi, not March
        ("24 mars 2026", True, _utc(2026, 3, 24)),
        ("2026-11-24 10:00:00.1234560 +01:00", True, _utc(2026, 11, 24, 9, tz=UTC)),  # SSIS
        ("2026/11/24 10:00:00", True, _utc(2026, 11, 24, 10)),
        ("2026-11-24T10:00:00", True, _utc(2026, 11, 24, 10)),  # naive ISO: the given zone
        ("2026-11-24T10:00:00Z", True, _utc(2026, 11, 24, 10, tz=UTC)),
    ],
)
def test_timestamps_in_the_layouts_tools_write(text: str, first: bool, expected: str) -> None:
    assert parse_instant(text, PARIS, first) == expected
    assert looks_like_time(text)


@pytest.mark.parametrize(
    "text", ["3", "ok", "run 3 of 2026", "v1.2.3", "10.0.0.1", "1-2-3", "12:30", "2026-13-01", "31/02/2026"]
)
def test_what_is_not_a_timestamp(text: str) -> None:
    assert parse_instant(text) is None
    assert not looks_like_time(text)


def test_bson_dates_are_utc_whatever_the_zone() -> None:
    naive = datetime(2026, 11, 24, 10, 0)  # pymongo's naive datetimes are UTC
    assert parse_instant(naive, PARIS) == "2026-11-24T10:00:00Z"


def test_day_or_month_first_is_read_from_the_values() -> None:
    assert day_first(["11/05/2026 10:00", "11/24/2026 10:00"]) is False
    assert day_first(["05/11/2026", "24/11/2026"]) is True
    assert day_first(["01/02/2026", "03/04/2026"]) is None  # nothing tells: day first is assumed
    assert day_first(["2026-11-24", None, 7]) is None


def _runs(values: list[tuple[object, str]]) -> list[dict[str, object]]:
    return [{"job": "j", "code": v, **({"msg": m} if m else {})} for v, m in values]


def test_numeric_enumeration_is_classified_by_its_error_messages() -> None:
    # PowerCenter: 1 succeeded, 3 failed (with a message), 5 something else, never with one
    sample = _runs([(1, "")] * 30 + [(3, "ORA-01555 snapshot too old")] * 6 + [(5, "")] * 2)
    found = value_conventions(sample, "code", "msg", ())
    assert found.status_values == {"1": "SUCCESS", "3": "FAILED"}
    assert found.unclassified == ("5",)
    assert "100%" in found.evidence["3"]


def test_two_valued_enumeration_without_messages_reads_the_rarer_as_failure() -> None:
    sample = _runs([(7, "")] * 20 + [(4, "")] * 5)  # SSIS: 7 succeeded, 4 failed
    assert value_conventions(sample, "code", None, ()).status_values == {"7": "SUCCESS", "4": "FAILED"}


def test_return_codes_keep_their_meaning() -> None:
    sample = _runs([(0, "")] * 20 + [(12, "boom")] * 5)
    assert value_conventions(sample, "code", "msg", ()).status_values == {}


def test_words_that_read_as_no_class_get_the_evidence_too() -> None:
    sample = _runs([("S", "")] * 20 + [("E", "java.io.IOException: disk full")] * 4 + [("FAILED", "x")])
    assert value_conventions(sample, "code", "msg", ()).status_values == {"S": "SUCCESS", "E": "FAILED"}


def test_without_evidence_values_stay_unclassified() -> None:
    sample = _runs([(2, "")] * 10 + [(6, "")] * 5 + [(9, "")] * 3)
    found = value_conventions(sample, "code", None, ())
    assert found.status_values == {}
    assert found.unclassified == ("2", "6", "9")


def test_conventions_survive_the_checkpoint() -> None:
    mapping = FieldMapping(pipeline="job", status="code").with_values({"4": "FAILED", "7": "SUCCESS"}, False)
    restored = _stored_mapping({"mapping": json.dumps(mapping.__dict__)})
    assert restored == mapping
    assert (
        restored is not None and restored.status_of(4) == "FAILED" and restored.status_of(" 7") == "SUCCESS"
    )
    assert restored.status_of(0) == "SUCCESS"  # values not read from the sample: return codes


def test_configured_status_values_must_name_a_class() -> None:
    assert MongoSettings(status_values={"e": {"4": "failed"}}).status_values == {"e": {"4": "FAILED"}}
    with pytest.raises(ValidationError, match="'4' of e: 'broken' is not one of FAILED"):
        MongoSettings(status_values={"e": {"4": "broken"}})

"""Error templates: variants of one error group together (ground truth: loghub templates)."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from flowrag.extract.templates import extract_template
from tests.conftest import SHARED_DATA


def test_masks_variables_and_keeps_error_codes() -> None:
    a = extract_template("Container killed on host linux-db-07 after 3600s")
    b = extract_template("Container killed on host linux-db-12 after 120s")
    assert a.template == "Container killed on host <HOST> after <NUM>"
    assert a.template_id == b.template_id
    assert a.variables == ("linux-db-07", "3600s")
    ora = extract_template("ORA-01555: snapshot too old: rollback segment number 12")
    assert ora.template.startswith("ORA-01555: snapshot too old")
    oom = extract_template("java.lang.OutOfMemoryError: Java heap space at 2026-11-21T10:00:01Z")
    assert oom.template == "java.lang.OutOfMemoryError: Java heap space at <TS>"
    assert (
        extract_template("POST /v3/vdbs/vdb-12/refresh returned 500").template == "POST <PATH> returned <NUM>"
    )


def test_bad_input() -> None:
    assert extract_template("").template == ""
    assert extract_template("\x00\xff 😀").template_id
    assert len(extract_template("error " * 1_000_000).template) <= 4000


@pytest.mark.parametrize("name", ["Spark", "Hadoop"])
def test_loghub_events_group_into_templates(name: str) -> None:
    rows = list(csv.DictReader((SHARED_DATA / "loghub" / f"{name}_2k.log_structured.csv").open()))
    events_of: dict[str, set[str]] = defaultdict(set)
    templates_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        tid = extract_template(row["Content"]).template_id
        events_of[tid].add(row["EventId"])
        templates_of[row["EventId"]].add(tid)
    # never two different loghub events in one template
    assert all(len(events) == 1 for events in events_of.values())
    # and (almost) every event is one template: at most 10% of events split
    split = sum(1 for tids in templates_of.values() if len(tids) > 1)
    assert split <= 0.1 * len(templates_of), split
    # 2,000 lines collapse to about as many templates as loghub found
    assert len(events_of) <= 1.15 * len(templates_of)

"""Planner rules (answer types, status words, when a question is a structured query, translated
terms) and the retriever's ranking step (collapse, priors, boosts, sibling cap) on hand-built graphs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flowrag.answer.planner import Plan, answer_types, plan_question
from flowrag.answer.retrieval.ranking import rank
from flowrag.answer.retrieval.strategy import RetrievalStrategy
from flowrag.graph.port import StoredEdge, StoredNode

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which Delphix endpoint does the code of the flow call?", ("Endpoint",)),
        ("Quelle opération de l'API arrête une VDB ?", ("Endpoint",)),
        ("Quel programme arrête une VDB ?", ("Function",)),
        ("Qui appelle l'endpoint POST /vdbs/{vdbId}/stop ?", ("Function",)),
        ("Which pipelines run on the host linux-db-07?", ("Pipeline",)),
        ("What technology does ledger_reconciliation use?", ("Technology",)),
        ("Quels paramètres envoyer pour rafraîchir une VDB ?", ("Schema",)),
        ("Comment supprimer un bookmark ?", ()),
        ("Which Airflow task exited with code 137?", ()),
    ],
)
def test_answer_types(question: str, expected: tuple[str, ...]) -> None:
    assert answer_types(question) == expected


def test_structured_query_or_retrieval(nlp: Any) -> None:
    def plan(q: str) -> Plan:
        return plan_question(q, nlp, now=NOW, known_collections=("runs", "alerts"))

    assert plan("Pourquoi le flux refresh_orders_qa a-t-il échoué ?").aggregate  # a named pipeline
    since = plan("Did refresh_orders_qa fail since Monday?")
    assert since.aggregate and since.statuses == ("FAILED",) and since.window is not None
    assert not plan("Which endpoint abandons a running job?").aggregate  # about the API, not runs
    assert not plan("Quels flux ont eu une erreur OutOfMemoryError ?").aggregate  # names an error
    assert plan("Y a-t-il une alerte critique ?").collections == ("alerts",)  # by stem
    assert plan("Quels flux ont échoué hier ?").aggregate


def test_terms_carry_lemmas_not_dictionary_translations(nlp: Any) -> None:
    terms = dict((t[0], t) for t in plan_question("Quelle opération arrête une VDB ?", nlp, now=NOW).terms)
    assert "arrêter" in terms["arrête"] and "stop" not in terms["arrête"]  # the corpus bridges, not a list
    english = dict((t[0], t) for t in plan_question("Which endpoint creates a bookmark?", nlp, now=NOW).terms)
    assert "create" in english["creates"]


def _node(uid: str, label: str) -> StoredNode:
    return StoredNode(uid, label, uid.split(":", 1)[1], uid, "", "s", "s", uid, "", "", "")


def test_rank_collapses_records_and_caps_siblings() -> None:
    uids = {
        "Record:r/1": "Record",
        "Run:r/1": "Run",
        "Run:r/2": "Run",
        "Run:r/3": "Run",
        "Error:e": "Error",
        "Pipeline:p": "Pipeline",
        "Environment:prod": "Environment",
    }
    nodes = {u: _node(u, lbl) for u, lbl in uids.items()}
    scores = {
        "Record:r/1": 1.0,
        "Run:r/1": 0.4,
        "Run:r/2": 0.95,
        "Run:r/3": 0.9,
        "Error:e": 0.6,
        "Pipeline:p": 0.5,
        "Environment:prod": 0.9,
    }
    edges = {
        ("DESCRIBES", "Record:r/1", "Run:r/1"): StoredEdge("DESCRIBES", "Record:r/1", "Run:r/1"),
        **{
            (t, f"Run:r/{i}", end): StoredEdge(t, f"Run:r/{i}", end)
            for i in (1, 2, 3)
            for t, end in (("FAILED_WITH", "Error:e"), ("OF", "Pipeline:p"))
        },
    }
    plan = Plan("q", "en", answer_types=("Pipeline",))
    final = rank(plan, scores, nodes, edges, RetrievalStrategy())
    assert "Record:r/1" not in final and final["Run:r/1"] == 1.0  # one document: the Run keeps its score
    assert final["Run:r/3"] == pytest.approx(0.45)  # third run of the same error/pipeline steps back
    assert final["Environment:prod"] == pytest.approx(0.45)  # supporting label: prior 0.5
    assert final["Pipeline:p"] == pytest.approx(0.75)  # the asked-for type: x1.5
    ranked = sorted(final, key=lambda u: -final[u])
    assert ranked.index("Pipeline:p") < ranked.index("Run:r/3")


def test_days_are_the_teams_days() -> None:
    from zoneinfo import ZoneInfo

    from flowrag.answer.planner import parse_time_window

    paris = ZoneInfo("Europe/Paris")
    hier = parse_time_window("Quels flux ont échoué hier ?", NOW, paris)
    assert hier is not None and (hier.start, hier.end) == ("2026-11-20T23:00:00Z", "2026-11-21T23:00:00Z")
    monday = parse_time_window("depuis lundi", NOW, paris)
    assert monday is not None and monday.start == "2026-11-15T23:00:00Z"
    summer = parse_time_window("hier", datetime(2026, 7, 2, 12, 0, tzinfo=UTC), paris)
    assert summer is not None and summer.start == "2026-06-30T22:00:00Z"  # CEST, UTC+2
    dated = parse_time_window("le 20/11/2026", NOW, paris)
    assert dated is not None and dated.start == "2026-11-19T23:00:00Z"


@pytest.mark.parametrize(
    ("phrase", "start"),
    [
        ("Combien d'échecs depuis le début de la semaine ?", "2026-11-15T23:00:00Z"),
        ("échecs de la semaine en cours", "2026-11-15T23:00:00Z"),
        ("failures since the start of the week", "2026-11-15T23:00:00Z"),
        ("failures this week", "2026-11-15T23:00:00Z"),
        ("échecs depuis le début du mois", "2026-10-31T23:00:00Z"),
        ("failures month to date", "2026-10-31T23:00:00Z"),
        ("échecs cette année", "2025-12-31T23:00:00Z"),
        ("failures since the beginning of the year", "2025-12-31T23:00:00Z"),
    ],
)
def test_the_current_period_however_it_is_said(phrase: str, start: str) -> None:
    from zoneinfo import ZoneInfo

    from flowrag.answer.planner import parse_time_window

    window = parse_time_window(phrase, NOW, ZoneInfo("Europe/Paris"))
    assert window is not None and window.start == start, phrase
    assert datetime.fromisoformat(window.end) > NOW  # up to now


def test_an_unknown_time_zone_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowrag.errors import ConfigError
    from flowrag.settings import load_settings

    monkeypatch.setenv("FLOWRAG_TIMEZONE", "Europe/Pariss")
    with pytest.raises(ConfigError, match=r"FLOWRAG_TIMEZONE.*unknown time zone 'Europe/Pariss'"):
        load_settings()
    monkeypatch.setenv("FLOWRAG_TIMEZONE", "Europe/Paris")
    assert load_settings().timezone == "Europe/Paris"

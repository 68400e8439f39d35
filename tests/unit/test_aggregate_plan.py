"""Questions -> typed run aggregates (group, negation, order, filters, comparison), in French and
English, with the real spaCy models. The group values come from a hand-made store inventory, as
the answerer reads them from the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flowrag.answer.aggregates import GroupValues, plan_aggregate
from flowrag.answer.planner import plan_question

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
VALUES = GroupValues(
    {
        "pipeline": frozenset({"orders_qa", "ledger_reconciliation", "ingest_trades"}),
        "technology": frozenset({"spark", "kafka", "informatica"}),
        "host": frozenset({"lx-db-07", "win-app-02"}),
        "environment": frozenset({"prod", "qa"}),
        "collection": frozenset({"runs"}),
    },
    {"pipeline": {"ledger reconciliation": "ledger_reconciliation"}},
)


def agg(question: str, nlp: Any) -> Any:
    plan = plan_question(question, nlp, now=NOW, known_collections=("runs",))
    return plan_aggregate(plan, nlp, VALUES, limit=10, now=NOW, tz=UTC)


@pytest.mark.parametrize(
    ("question", "group", "negate", "order"),
    [
        ("Quels flux ont échoué hier ?", "pipeline", False, "most"),
        ("Quels traitements n'ont pas planté cette semaine ?", "pipeline", True, "most"),
        ("Quels flux n'ont jamais échoué ?", "pipeline", True, "most"),
        ("Which jobs haven't failed since Monday?", "pipeline", True, "most"),
        ("Which pipelines never failed?", "pipeline", True, "most"),
        ("Flux sans aucun échec depuis lundi", "pipeline", True, "most"),
        ("Quelle technologie échoue le plus souvent ?", "technology", False, "most"),
        ("Which technology fails the least?", "technology", False, "least"),
        ("Sur quel serveur les échecs sont-ils les plus nombreux ?", "host", False, "most"),
        ("Nombre d'échecs par hôte hier", "host", False, "most"),
        ("failures per environment last week", "environment", False, "most"),
        ("Quelle erreur revient le plus dans les échecs d'hier ?", "error_template", False, "most"),
        ("Nombre d'échecs par jour", "day", False, "most"),
        ("Quand orders_qa a-t-il échoué pour la dernière fois ?", "pipeline", False, "last"),
        ("Which failed job ran the longest yesterday?", "pipeline", False, "longest"),
        # a ranking over a status, with no question word and no window
        ("Top failing job", "pipeline", False, "most"),
        ("Least failing technology", "technology", False, "least"),
        ("Le serveur le plus souvent en échec", "host", False, "most"),
    ],
)
def test_group_negation_and_order(question: str, group: str, negate: bool, order: str, nlp: Any) -> None:
    found = agg(question, nlp)
    assert found is not None, question
    assert (found.query.group_by, found.query.negate, found.query.order) == (group, negate, order)
    assert found.query.statuses == ("FAILED",)


def test_filters_are_the_store_values_a_question_names(nlp: Any) -> None:
    found = agg("Combien d'exécutions Spark en échec sur lx-db-07 en prod hier ?", nlp)
    assert dict(found.query.where) == {
        "technology": ("spark",),
        "host": ("lx-db-07",),
        "environment": ("prod",),
    }
    named = agg("Did ledger reconciliation fail yesterday?", nlp)
    assert dict(named.query.where) == {"pipeline": ("ledger_reconciliation",)}
    # a word that is no group value of this store filters nothing
    assert agg("Quels flux Talend ont échoué hier ?", nlp).query.where == ()


def test_comparison_takes_the_previous_period(nlp: Any) -> None:
    found = agg("Combien d'échecs cette semaine par rapport à la semaine dernière ?", nlp)
    assert found.query.start == "2026-11-16T00:00:00Z"
    assert found.compare is not None and found.compare[1] == found.query.start
    assert agg("Combien d'échecs cette semaine ?", nlp).compare is None


def test_top_n_and_days_default_to_a_fortnight(nlp: Any) -> None:
    assert agg("Top 3 des flux en échec cette semaine", nlp).query.limit == 3
    assert agg("Quels flux ont échoué les 3 derniers jours ?", nlp).query.limit == 10
    daily = agg("failures per day", nlp)
    assert daily.query.group_by == "day" and daily.query.start == "2026-11-09T00:00:00Z"


@pytest.mark.parametrize(
    "question",
    [
        "Which code calls the Delphix VDB refresh endpoint?",
        "Comment ajouter un endpoint qui rafraîchit une VDB ?",
        "Que signifie l'erreur ORA-01555 ?",
        "Quelle technologie utilise ledger_reconciliation ?",
    ],
)
def test_questions_not_about_runs_are_not_aggregates(question: str, nlp: Any) -> None:
    assert agg(question, nlp) is None

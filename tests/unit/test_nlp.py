"""Domain NER in French and English, tokenizer rule, language detection."""

from __future__ import annotations

import pytest

from flowrag.models.nlp import NLP, detect_language


def labels(nlp: NLP, text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for ent in nlp.entities(text):
        found.setdefault(ent.label, set()).add(ent.canonical)
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Le flux ingest_trades a échoué hier sur linux-db-07 avec OutOfMemoryError après le "
            "refresh de la VDB, voir POST /v3/vdbs/{vdbId}/refresh. ORA-01555 côté Oracle.",
            {
                "PIPELINE": "ingest_trades",
                "HOST": "linux-db-07",
                "ERROR_TYPE": "ORA-01555",
                "API_PATH": "/v3/vdbs/{vdbId}/refresh",
                "DELPHIX_OBJECT": "VDB",
                "TECHNOLOGY": "Oracle",
            },
        ),
        (
            "The Spark job trades-daily failed on host spark-node-3 with java.lang.OutOfMemoryError "
            "while Kafka lagged; take a snapshot of the dSource via /api/v2/snapshots.",
            {
                "PIPELINE": "trades_daily",
                "HOST": "spark-node-3",
                "TECHNOLOGY": "Kafka",
                "ERROR_TYPE": "java.lang.OutOfMemoryError",
                "DELPHIX_OBJECT": "DSource",
                "API_PATH": "/api/v2/snapshots",
            },
        ),
    ],
)
def test_domain_entities_in_french_and_english(nlp: NLP, text: str, expected: dict[str, str]) -> None:
    found = labels(nlp, text)
    for label, canonical in expected.items():
        assert canonical in found.get(label, set()), (label, found)


def test_aliases_resolve_to_canonical_names(nlp: NLP) -> None:
    found = labels(nlp, "Le job PySpark lit dans Postgres puis écrit un instantané")
    assert {"Spark", "PostgreSQL"} <= found["TECHNOLOGY"]
    assert "Snapshot" in found["DELPHIX_OBJECT"]


def test_technical_names_stay_one_token(nlp: NLP) -> None:
    doc = nlp.pipeline("en")("restart linux-db-07 then GET /api/v2/vdbs/{id}/refresh for orders_qa")
    tokens = [t.text for t in doc]
    assert "linux-db-07" in tokens
    assert "/api/v2/vdbs/{id}/refresh" in tokens
    assert "orders_qa" in tokens


def test_stock_model_no_longer_calls_kafka_a_person(nlp: NLP) -> None:
    found = labels(nlp, "Kafka a redémarré cette nuit.")
    assert "Kafka" in found.get("TECHNOLOGY", set())
    assert "Kafka" not in found.get("PER", set())


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Quels flows ont échoué hier et pourquoi ?", "fr"),
        ("Which code calls the Delphix VDB refresh endpoint?", "en"),
        ("Comment ajouter un endpoint qui rafraîchit une VDB depuis notre API ?", "fr"),
        ("What failed yesterday?", "en"),
        ("", "fr"),
    ],
)
def test_language_detection(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_bad_inputs(nlp: NLP) -> None:
    texts = [
        "",
        "😀" * 100,
        "\x00\x01\xff binary",
        "mixed: le flux orders_qa failed yesterday",
        "x " * 80_000,
    ]
    results = nlp.entities_many(texts)
    assert len(results) == len(texts)
    assert results[0] == [] and results[1] == []
    assert all(e.text.isprintable() for e in results[2])
    assert "orders_qa" in {e.canonical for e in results[3]}
    assert nlp.truncated >= 1


def test_french_exceptions_compiled_by_first_letters_match_as_the_whole_pattern() -> None:
    """The lazily compiled alternation answers every word as spaCy's own regex does."""
    import re

    from flowrag.models.nlp import NLP, _Alternation

    NLP().pipeline("fr")  # spaCy's French module is imported while the pipeline loads
    import spacy.lang.fr.tokenizer_exceptions as exceptions

    lazy = exceptions.TOKEN_MATCH.__self__
    assert isinstance(lazy, _Alternation)
    whole = re.compile(lazy.pattern)
    words = (
        "burn-out Burn-Outs états-unis Etats-Unis a-t-il qu'est-ce aujourd'hui prud'homal peut-être hip-hop "
        "porte-monnaie l'endpoint linux-db-07 ingest_trades week-end c'est-à-dire rendez-vous Saint-Étienne "
        "arc-en-ciel grand-mère lock-out jet-set Jet-Setteurs Vice-Président anti-inflammatoire ch'tiis "
        "droits-de-l'homme électro-choc éco-conçu 1-2 x"
    ).split()
    assert [bool(lazy.match(w)) for w in words] == [bool(whole.match(w)) for w in words]
    assert sum(bool(lazy.match(w)) for w in words) > 10  # the comparison is not between two misses
    assert sum(len(g) for g in lazy._groups.values()) == lazy.pattern.count("(?:^")


def test_loading_the_pipelines_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from flowrag.models.nlp import NLP; n = NLP(); "
        "assert n.entities('le flux ingest_trades a échoué', 'fr'); print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

"""Deterministic question planner: language, time window, status intent, sources, identifiers,
and whether the question is an aggregate over runs (answered by a structured query, not vectors)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flowrag.extract.nlp import NLP, detect_language
from flowrag.timeutil import to_iso

__all__ = ["SOURCES", "Plan", "TimeWindow", "parse_time_window", "plan_question"]

SOURCES = ("mongo", "code", "openapi", "html")

_WEEKDAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_STATUS_WORDS = {
    "FAILED": r"échou\w*|echou\w*|échec\w*|echec\w*|en erreur|erreurs?|plant\w*|ko\b|failed|failures?|failing|errors?|crash\w*|broke\w*",
    "SUCCESS": r"réussi\w*|succès|success\w*|succeeded|passed|ok\b",
    "RUNNING": r"en cours|running|in progress",
}
_AGGREGATE = re.compile(
    r"\b(quel(?:le)?s?|combien|liste[rz]?|which|what|how many|list|show)\b.*\b(flows?|flux|pipelines?|jobs?|runs?|"
    r"exécutions?|traitements?|chaînes?|dags?)\b|\b(flows?|flux|pipelines?|jobs?|runs?)\b.*\b(ont|have|has|did)\b",
    re.IGNORECASE,
)
_SOURCE_HINTS = {
    "code": r"\bcode\b|fonctions?|functions?|méthodes?|methods?|classes?|repository|dépôt|appelle|calls?\b|implémente|implements?",
    "openapi": r"endpoints?|api\b|swagger|openapi|payload|opérations?|operations?|schémas?|schemas?",
    "mongo": r"\bflows?\b|\bflux\b|pipelines?|\bruns?\b|exécutions?|monitoring|supervision|échou|failed",
}


_STOPWORDS = frozenset(
    """les des une pour sur dans avec par qui que quels quelles quel quelle ont été est sont pas comment
    pourquoi quoi elle ils elles nous vous leur leurs notre nos votre vos cette ces ceux celle celui
    depuis entre aussi plus moins très tout tous toute toutes faire fait peut peux doit dois son ses
    mon mes ton tes aux the and for with which what who that have has been was were are this these
    those from into how why where when does did can could should would will there their our your its
    about est-ce qu'est""".split()
)


@dataclass(frozen=True)
class TimeWindow:
    start: str  # ISO UTC, inclusive
    end: str  # ISO UTC, exclusive
    phrase: str


@dataclass(frozen=True)
class Plan:
    question: str
    language: str
    window: TimeWindow | None = None
    statuses: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    entity_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    aggregate: bool = False
    keywords: tuple[str, ...] = ()  # content words (+ English doc terms) for full-text search


def _day(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def parse_time_window(text: str, now: datetime) -> TimeWindow | None:
    low = text.lower()
    today = _day(now)
    if m := re.search(r"avant[- ]hier|day before yesterday", low):
        return TimeWindow(to_iso(today - timedelta(days=2)), to_iso(today - timedelta(days=1)), m.group(0))
    if m := re.search(r"\bhier\b|\byesterday\b", low):
        return TimeWindow(to_iso(today - timedelta(days=1)), to_iso(today), m.group(0))
    if m := re.search(r"ce matin|this morning", low):
        return TimeWindow(to_iso(today), to_iso(today + timedelta(hours=12)), m.group(0))
    if m := re.search(r"aujourd'?hui|\btoday\b", low):
        return TimeWindow(to_iso(today), to_iso(now + timedelta(seconds=1)), m.group(0))
    if m := re.search(
        r"(?:depuis|since)\s+(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|"
        r"wednesday|thursday|friday|saturday|sunday)",
        low,
    ):
        back = (today.weekday() - _WEEKDAYS[m.group(1)]) % 7 or 7
        return TimeWindow(
            to_iso(today - timedelta(days=back)), to_iso(now + timedelta(seconds=1)), m.group(0)
        )
    if m := re.search(
        r"(?:last|past|derni[eè]res?|dernier)\s*(\d+)\s*(h|heures?|hours?|j|jours?|days?)\b"
        r"|(\d+)\s*(h|heures?|hours?|jours?|days?)\s*(?:derni[eè]res?|derniers)",
        low,
    ):
        amount = int(m.group(1) or m.group(3))
        unit = (m.group(2) or m.group(4))[0]
        delta = timedelta(hours=amount) if unit == "h" else timedelta(days=amount)
        return TimeWindow(to_iso(now - delta), to_iso(now + timedelta(seconds=1)), m.group(0))
    if m := re.search(r"cette semaine|this week", low):
        return TimeWindow(
            to_iso(today - timedelta(days=today.weekday())), to_iso(now + timedelta(seconds=1)), m.group(0)
        )
    if m := re.search(r"semaine derni[eè]re|last week", low):
        start = today - timedelta(days=today.weekday() + 7)
        return TimeWindow(to_iso(start), to_iso(start + timedelta(days=7)), m.group(0))
    if m := re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", low):
        day = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=UTC)
        return TimeWindow(to_iso(day), to_iso(day + timedelta(days=1)), m.group(0))
    if m := re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", low):
        day = datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)), tzinfo=UTC)
        return TimeWindow(to_iso(day), to_iso(day + timedelta(days=1)), m.group(0))
    return None


def plan_question(
    question: str,
    nlp: NLP,
    *,
    now: datetime | None = None,
    sources: tuple[str, ...] = (),
    collections: tuple[str, ...] = (),
    language: str | None = None,
    known_collections: tuple[str, ...] = (),
) -> Plan:
    now = now or datetime.now(UTC)
    lang = language or detect_language(question)
    low = question.lower()
    statuses = tuple(s for s, pattern in _STATUS_WORDS.items() if re.search(pattern, low))
    window = parse_time_window(question, now)
    chosen = tuple(s for s in sources if s in SOURCES)
    named = tuple(c for c in known_collections if re.search(rf"\b{re.escape(c.lower())}\b", low))
    colls = tuple(dict.fromkeys([*collections, *named]))
    if not chosen and colls:
        chosen = ("mongo",)
    entities = nlp.entities(question, lang)
    types: dict[str, list[str]] = {}
    for ent in entities:
        types.setdefault(ent.label, []).append(ent.canonical)
    identifiers = tuple(
        dict.fromkeys(e.text for e in entities if e.label in {"PIPELINE", "HOST", "API_PATH", "ERROR_TYPE"})
    )
    aggregate = bool((statuses or window) and _AGGREGATE.search(question)) and not re.search(
        _SOURCE_HINTS["code"], low
    )
    keywords: list[str] = []
    translations = nlp.vocabulary.translations
    for raw in re.findall(r"[\w/{}.'-]+", low):
        word = raw.strip(".-'")
        word = word.split("'", 1)[-1] if "'" in word else word  # l'endpoint -> endpoint
        if len(word) < 3 or word in _STOPWORDS:
            continue
        keywords.append(word)
        if word in translations:
            keywords.append(translations[word])
    return Plan(
        question=question,
        language=lang,
        window=window,
        statuses=statuses,
        sources=chosen,
        collections=colls,
        identifiers=identifiers,
        entity_types={k: tuple(dict.fromkeys(v)) for k, v in types.items()},
        aggregate=aggregate,
        keywords=tuple(dict.fromkeys(keywords)),
    )

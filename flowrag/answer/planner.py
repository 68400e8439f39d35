"""Deterministic question planner: language, time window, status intent, sources, identifiers,
and whether the question is an aggregate over runs (answered by a structured query, not vectors)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from flowrag.errors import PlanError
from flowrag.models.nlp import NLP, detect_language
from flowrag.schema import SOURCE_LABELS
from flowrag.timeutil import to_iso

__all__ = [
    "ASKING",
    "SOURCES",
    "STOPWORDS",
    "Plan",
    "TimeWindow",
    "answer_labels_in",
    "answer_types",
    "explain",
    "parse_time_window",
    "plan_question",
]

SOURCES = tuple(SOURCE_LABELS)  # mongo, code, openapi, html, delphix

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
    "FAILED": r"échou\w*|echou\w*|échec\w*|echec\w*|en erreur|erreurs?|plant\w*|ko\b|fail(?:ed|s|ing|ures?)?\b|errors?|crash\w*|broke\w*",
    "SUCCESS": r"réussi\w*|succès|success\w*|succeeded|passed|ok\b",
    "RUNNING": r"en cours|running|in progress",
}
_PERIOD = r"(semaine|week|mois(?:-ci)?|month|ann[ée]e|year)\b"
_AGGREGATE = re.compile(
    r"\b(quel(?:le)?s?|combien|liste[rz]?|which|what|how many|list|show|y a-t-il|existe-t-il|are there|is there)\b"
    r".*\b(flows?|flux|pipelines?|jobs?|runs?|"
    r"exécutions?|traitements?|chaînes?|dags?)\b|\b(flows?|flux|pipelines?|jobs?|runs?)\b.*\b(ont|have|has|did)\b",
    re.IGNORECASE,
)
_SOURCE_HINTS = {
    "code": r"\bcode\b|fonctions?|functions?|méthodes?|methods?|classes?|repository|dépôt|appelle|calls?\b|implémente|implements?",
    "openapi": r"endpoints?|api\b|swagger|openapi|payload|opérations?|operations?|schémas?|schemas?",
    "mongo": r"\bflows?\b|\bflux\b|pipelines?|\bruns?\b|exécutions?|monitoring|supervision|échou|failed",
}


# Expected answer type: the noun right after the question word names the label that answers it
# ("which endpoint…" -> Endpoint, "quel programme…" -> Function, "qui appelle…" -> Function).
_ANSWER_NOUNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"endpoints?|opérations?|operations?|api calls?|appels? d'api", ("Endpoint",)),
    (r"scripts?", ("File", "Function")),
    (r"fonctions?|functions?|méthodes?|methods?|code|programmes?|programs?", ("Function",)),
    (r"classes?|services?|tables?|vues?|views?", ("Class",)),
    (r"routes?", ("Route",)),
    (r"pipelines?|flows?|flux|dags?|traitements?", ("Pipeline",)),
    (r"technolog(?:y|ies|ie|ies)", ("Technology",)),
    (r"schémas?|schemas?|paramètres|parameters|payloads?|corps|body", ("Schema",)),
    (r"erreurs?|errors?|causes?|raisons?|reasons?", ("Error",)),
    (r"environnements?|environments?|envs?", ("Environment",)),
    (r"collections?", ("Collection",)),
    (r"hôtes?|hosts?|machines?|serveurs?|servers?", ("Host",)),
    (r"alertes?|alerts?", ("Record",)),
)
# an interrogative, or an existential ("y a-t-il des traitements…", "are there any jobs…"), then the
# words that say what is asked for
ASKING = re.compile(
    r"\b(?:which|what|quel(?:le)?s?|lesquel(?:le)?s|y a-t-il|existe-t-il|are there|is there)\s+((?:[\w'-]+\s*){1,3})",
    re.IGNORECASE,
)
_WHO_CALLS = re.compile(r"\b(?:qui|who)\s+(?:appelle|calls|utilise|uses)\b", re.IGNORECASE)


def answer_labels_in(word: str) -> tuple[str, ...]:
    """The labels one noun names ("technologies" -> Technology)."""
    for pattern, labels in _ANSWER_NOUNS:
        if re.fullmatch(pattern, word.lower()):
            return labels
    return ()


def answer_types(question: str) -> tuple[str, ...]:
    if _WHO_CALLS.search(question):
        return ("Function",)
    for match in ASKING.finditer(question):
        for word in match.group(1).lower().split():  # the next three words: "which Delphix endpoint"
            if labels := answer_labels_in(word):
                return labels
    return ()


STOPWORDS = frozenset(
    """les des une pour sur dans avec par qui que quels quelles quel quelle ont été est sont pas comment
    pourquoi quoi elle ils elles nous vous leur leurs notre nos votre vos cette ces ceux celle celui
    depuis entre aussi plus moins très tout tous toute toutes faire fait peut peux doit dois son ses
    mon mes ton tes aux the and for with which what who that have has been was were are this these
    those from into how why where when does did can could should would will there their our your its
    about est-ce qu'est faut-il you""".split()
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
    keywords: tuple[str, ...] = ()  # content words (and their lemmas) for full-text search
    terms: tuple[tuple[str, ...], ...] = ()  # each content word with its lemma
    hints: tuple[str, ...] = ()  # sources the wording points to (soft preference, not a filter)
    answer_types: tuple[str, ...] = ()  # labels the question asks for ("which endpoint" -> Endpoint)


def explain(plan: Plan, route: str, timezone: str = "UTC") -> dict[str, object]:
    """What the answer path did with the question, for every output (CLI, JSON, GraphQL)."""
    return {
        "language": plan.language,
        "route": route,
        "window": (
            {
                "start": plan.window.start,
                "end": plan.window.end,
                "phrase": plan.window.phrase,
                "timezone": timezone,
            }
            if plan.window
            else None
        ),
        "statuses": list(plan.statuses),
        "sources": list(plan.sources),
        "collections": list(plan.collections),
        "identifiers": list(plan.identifiers),
        "answer_types": list(plan.answer_types),
        "hints": list(plan.hints),
    }


def _day(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def parse_time_window(text: str, now: datetime, tz: tzinfo = UTC) -> TimeWindow | None:
    """The window a question names first, as UTC bounds of days in ``tz`` ("hier" is yesterday in
    the team's zone, not in UTC). "hier par rapport à avant-hier" is about yesterday: the first
    phrase is the window, a later one is what it is compared with."""
    low = text.lower()
    now = now.astimezone(tz)
    today = _day(now)
    until_now = now + timedelta(seconds=1)

    def since_weekday(m: re.Match[str]) -> tuple[datetime, datetime]:
        back = (today.weekday() - _WEEKDAYS[m.group(1)]) % 7 or 7
        return today - timedelta(days=back), until_now

    def last_n(m: re.Match[str]) -> tuple[datetime, datetime]:
        amount = int(m.group(1) or m.group(3) or m.group(5))
        unit = (m.group(2) or m.group(4) or m.group(6))[0]
        return now - (timedelta(hours=amount) if unit == "h" else timedelta(days=amount)), until_now

    def last_week(m: re.Match[str]) -> tuple[datetime, datetime]:
        start = today - timedelta(days=today.weekday() + 7)
        return start, start + timedelta(days=7)

    def period_so_far(m: re.Match[str]) -> tuple[datetime, datetime]:
        unit = next(g for g in m.groups() if g)[:2]
        if unit in ("se", "we"):
            return today - timedelta(days=today.weekday()), until_now
        if unit == "mo":
            return today.replace(day=1), until_now
        return today.replace(month=1, day=1), until_now

    def last_month(m: re.Match[str]) -> tuple[datetime, datetime]:
        end = today.replace(day=1)
        return (end - timedelta(days=1)).replace(day=1), end

    def iso_day(m: re.Match[str]) -> tuple[datetime, datetime]:
        day = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=tz)
        return day, day + timedelta(days=1)

    def fr_day(m: re.Match[str]) -> tuple[datetime, datetime]:
        day = datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)), tzinfo=tz)
        return day, day + timedelta(days=1)

    rules: list[tuple[str, Callable[[re.Match[str]], tuple[datetime, datetime]]]] = [
        (
            r"avant[- ]hier|day before yesterday",
            lambda m: (today - timedelta(days=2), today - timedelta(days=1)),
        ),
        (r"\bhier\b|\byesterday\b", lambda m: (today - timedelta(days=1), today)),
        (r"ce matin|this morning", lambda m: (today, today + timedelta(hours=12))),
        (r"aujourd'?hui|\btoday\b", lambda m: (today, until_now)),
        (
            r"(?:depuis|since)\s+(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|"
            r"wednesday|thursday|friday|saturday|sunday)",
            since_weekday,
        ),
        (
            r"(?:last|past|derni[eè]res?|dernier)\s*(\d+)\s*(h|heures?|hours?|j|jours?|days?)\b"
            r"|(\d+)\s*(h|heures?|hours?|jours?|days?)\s*(?:derni[eè]res?|derniers)"
            r"|(\d+)\s*(?:derni[eè]res?|derniers)\s*(h|heures?|jours?)\b",
            last_n,
        ),
        (
            r"(?:depuis|since|for|over)\s+(?:les?\s+|the\s+)?(\d+)\s*(h|heures?|hours?|j|jours?|days?)\b",
            lambda m: (
                now
                - (
                    timedelta(hours=int(m.group(1)))
                    if m.group(2)[0] == "h"
                    else timedelta(days=int(m.group(1)))
                ),
                until_now,
            ),
        ),
        # the current period, however it is said: "cette semaine", "this month", "depuis le début de
        # la semaine", "since the start of the year", "la semaine en cours"
        (
            rf"(?:\bcette|\bce|\bthis|\bcurrent)\s+{_PERIOD}"
            rf"|(?:d[ée]but|start|beginning)\s+(?:de\s+la\s+|de\s+l'|du\s+|of\s+(?:the\s+|this\s+)?){_PERIOD}"
            rf"|{_PERIOD}\s+(?:en\s+cours|to\s+date)",
            period_so_far,
        ),
        (r"(?:la )?semaine derni[eè]re|last week", last_week),
        (r"(?:le )?mois dernier|last month", last_month),
        (r"\b(\d{4})-(\d{2})-(\d{2})\b", iso_day),
        (r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", fr_day),
    ]
    found = [(m, build) for pattern, build in rules if (m := re.search(pattern, low))]
    if not found:
        return None
    match, build = min(found, key=lambda f: (f[0].start(), -len(f[0].group(0))))
    start, end = build(match)
    return TimeWindow(to_iso(start), to_iso(end), match.group(0))


def _names_collection(collection: str, low: str) -> bool:
    """The question names the collection, or a word sharing its stem ("alerte" -> alerts)."""
    name = collection.lower()
    if re.search(rf"\b{re.escape(name)}\b", low):
        return True
    stem = name.rstrip("s")
    return len(stem) >= 5 and bool(re.search(rf"\b{re.escape(stem[:5])}\w*", low))


def plan_question(
    question: str,
    nlp: NLP,
    *,
    now: datetime | None = None,
    sources: tuple[str, ...] = (),
    collections: tuple[str, ...] = (),
    language: str | None = None,
    known_collections: tuple[str, ...] = (),
    tz: tzinfo = UTC,
) -> Plan:
    now = now or datetime.now(UTC)
    lang = language or detect_language(question)
    low = question.lower()
    statuses = tuple(s for s, pattern in _STATUS_WORDS.items() if re.search(pattern, low))
    window = parse_time_window(question, now, tz)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise PlanError(
            f"unknown source {unknown[0]!r}",
            hint=f"sources are {', '.join(SOURCES)}",
        )
    chosen = tuple(dict.fromkeys(sources))
    named = tuple(c for c in known_collections if _names_collection(c, low))
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
    # A structured query over runs: a status or a time window, about flows in general ("quels flux
    # ont échoué hier") or a named pipeline ("pourquoi refresh_orders_qa a-t-il échoué"); not when
    # the question is about code or the API, or names an error (retrieval finds its template).
    about_runs = bool(_AGGREGATE.search(question)) or bool(types.get("PIPELINE"))
    aggregate = (
        bool(statuses or window)
        and about_runs
        and not re.search(_SOURCE_HINTS["code"], low)
        and not re.search(_SOURCE_HINTS["openapi"], low)
        and not types.get("ERROR_TYPE")
    )
    keywords: list[str] = []
    terms: list[tuple[str, ...]] = []
    lemmas = nlp.lemmas(question, lang) if question.strip() else {}
    for raw in re.findall(r"[\w/{}.'-]+", low):
        word = raw.strip(".-'")
        word = word.split("'", 1)[-1] if "'" in word else word  # l'endpoint -> endpoint
        if len(word) < 3 or word in STOPWORDS:
            continue
        forms = [word]
        lemma = lemmas.get(word, word)
        if lemma != word and len(lemma) >= 3 and lemma not in STOPWORDS:
            forms.append(lemma)  # creates -> create, arrête -> arrêter
        keywords += forms
        terms.append(tuple(dict.fromkeys(forms)))
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
        terms=tuple(dict.fromkeys(terms)),
        hints=tuple(src for src, pattern in _SOURCE_HINTS.items() if re.search(pattern, low)),
        answer_types=answer_types(question),
    )

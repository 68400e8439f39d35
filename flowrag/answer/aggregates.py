"""A question about runs becomes a typed :class:`RunQuery`, not a match against phrasings.

Each part comes from a different signal:
- the counted statuses and the window come from the planner (status classes, FLOWRAG_TIMEZONE);
- filters are the store's own group values named in the question (a technology, host,
  environment, pipeline or collection the store holds), so nothing is listed here;
- the group is the noun the question asks about ("quelle technologie", "which hosts") or the one
  after "par"/"by"/"per", mapped to a Run dimension through the ontology's labels;
- negation comes from morphology (spaCy's Polarity=Neg: n', pas, jamais, not, n't) and the few
  negative function words morphology does not mark (sans, aucun, never, without, no);
- ordering comes from superlatives (Degree=Sup, "le plus", "le moins") and from the measure a
  question names (durée/duration → longest; dernier/last/quand/when → most recent).

The grammar words below are closed-class words of French and English (determiners, adverbs,
prepositions), not domain vocabulary: they hold on collections nobody here has seen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from flowrag.answer.planner import Plan, answer_labels_in
from flowrag.graph.aggregate import DIMENSION_LABELS, DIMENSIONS, RunQuery
from flowrag.models.nlp import NLP, Token
from flowrag.timeutil import to_iso

__all__ = ["LATEST_WORDS", "AggregatePlan", "GroupValues", "describe", "negated", "plan_aggregate"]

_BY = re.compile(
    r"\b(?:par|by|per|pour chaque|for each|selon|grouped by|groupés? par)\s+(?:les?\s+|la\s+|l'|the\s+)?([\w'-]+)",
    re.IGNORECASE,
)
_DAY = re.compile(r"^(?:jours?|journées?|days?|dates?|daily|quotidien\w*)$", re.IGNORECASE)
_DAILY = re.compile(
    r"\b(?:chaque jour|par jour|each day|per day|daily|au jour le jour|jour par jour)\b", re.I
)
_NEGATORS = frozenset({"sans", "aucun", "aucune", "jamais", "never", "without", "no", "none", "nor"})
_LEAST = frozenset({"moins", "least", "fewest", "fewer"})
LATEST_WORDS = frozenset(
    {
        "dernier",
        "dernière",
        "derniers",
        "dernières",
        "latest",
        "last",
        "recent",
        "récent",
        "récente",
        "quand",
        "when",
    }
)
_FIRST_TIME = re.compile(r"\b(?:premi[eè]re fois|first time)\b", re.I)
_LAST_TIME = re.compile(r"\b(?:derni[eè]re fois|last time|most recent(?:ly)?)\b", re.I)
_DURATION = frozenset(
    {
        "durée",
        "durées",
        "duration",
        "durations",
        "long",
        "longue",
        "longs",
        "longues",
        "longest",
        "lent",
        "lents",
        "lente",
        "slow",
        "slowest",
        "slower",
        "temps",
    }
)
_COMPARE = re.compile(
    r"\b(?:par rapport|compar\w*|versus|vs\.?|évolution|evolution|tendances?|trends?|hausse|baisse|"
    r"increase\w*|decrease\w*|than|que la|que le|que les)\b",
    re.IGNORECASE,
)
_COUNTING = re.compile(r"\b(?:combien|how many|nombre|number of|count|total)\b", re.IGNORECASE)
_UNIT = r"(?!\s*(?:derni\w*\s+|last\s+)?(?:jours?|days?|heures?|hours?|h\b|semaines?|weeks?|mois|months?))"
_RANKED = re.compile(
    r"\b(?:top|most|least|fewest|worst|le plus|la plus|les plus|le moins|la moins|les moins|pire|pires)\b",
    re.IGNORECASE,
)
_TOP = re.compile(
    rf"\b(?:top|les|the)\s+(\d{{1,3}})\b{_UNIT}|\b(\d{{1,3}})\s+(?:premiers|premières|first|plus|most)\b{_UNIT}",
    re.IGNORECASE,
)
_STATUS_NOUN = re.compile(r"^(?:statuts?|status(?:es)?|états?|states?)$", re.IGNORECASE)
_WORD = re.compile(r"[\w][\w.\-/]*[\w]|\w", re.UNICODE)


@dataclass(frozen=True)
class GroupValues:
    """The keys the store holds per dimension (Pipeline, Technology, Host… nodes), and for
    pipelines the display names their runs were written with."""

    keys: dict[str, frozenset[str]]
    aliases: dict[str, dict[str, str]]  # dimension -> lower display name -> key

    def named_in(self, question: str) -> dict[str, tuple[str, ...]]:
        low = question.lower()
        words = set(_WORD.findall(low))
        found: dict[str, tuple[str, ...]] = {}
        for dim, keys in self.keys.items():
            hits = [k for k in keys if k in words or (" " in k and re.search(rf"\b{re.escape(k)}\b", low))]
            hits += _containing(keys, words, hits)
            hits += [
                key
                for alias, key in self.aliases.get(dim, {}).items()
                if key not in hits and re.search(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", low)
            ]
            if hits:
                found[dim] = tuple(sorted(set(hits)))
        return found


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in re.split(r"[_\-.\s/:]+", name) if p)


def _containing(keys: frozenset[str], words: set[str], exact: list[str]) -> list[str]:
    """Keys that hold a compound name of the question as a run of their parts: a user says
    payments_recon for the package payments_recon.dtsx or the workflow wf_payments_recon. Only
    for compound names (two parts or more) that are no key themselves."""
    out = []
    for word in words:
        wanted = _parts(word)
        if len(wanted) < 2 or word in keys:
            continue
        n = len(wanted)
        for key in keys:
            have = _parts(key)
            if (
                key not in exact
                and len(have) > n
                and any(have[i : i + n] == wanted for i in range(len(have) - n + 1))
            ):
                out.append(key)
    return out


@dataclass(frozen=True)
class AggregatePlan:
    query: RunQuery
    compare: tuple[str, str] | None  # the previous period's window, when the question compares
    measure: str  # count | last | first | duration
    named: dict[str, tuple[str, ...]]  # group values the question names (the filters)


def _label_dimension(labels: tuple[str, ...]) -> str | None:
    by_label = {label: dim for dim, label in DIMENSION_LABELS.items() if label}
    for label in labels:
        if label in by_label:
            return by_label[label]
    return None


def _group_by(question: str, asked: tuple[str, ...]) -> str | None:
    if _DAILY.search(question):
        return "day"
    for match in _BY.finditer(question):
        word = match.group(1)
        if _DAY.match(word):
            return "day"
        if _STATUS_NOUN.match(word):
            return "status"
        dim = _label_dimension(answer_labels_in(word))
        if dim:
            return dim
    return _label_dimension(asked)


def negated(tokens: list[Token], window_phrase: str) -> bool:
    """Whether the question is negated outside its window phrase ("n'ont jamais échoué")."""
    return any((t.negative or t.lower in _NEGATORS) and t.lower not in window_phrase.split() for t in tokens)


def _order(question: str, tokens: list[Token], window_phrase: str) -> tuple[str, str]:
    """(order, measure) from superlatives and the measure a question names."""
    skip = set(window_phrase.lower().split())  # "la semaine dernière" names the window
    words = [t for t in tokens if t.lower not in skip]
    lowers = [t.lower for t in words]
    if _FIRST_TIME.search(question):
        return "first", "first"
    if _LAST_TIME.search(question):
        return "last", "last"
    if any(w in _DURATION for w in lowers) and not _COUNTING.search(question):
        return "longest", "duration"
    for i, tok in enumerate(words):
        before = lowers[i - 1] if i else ""
        if tok.lower in _LEAST and (tok.superlative or i == 0 or before in {"le", "la", "les", "the", "du"}):
            return "least", "count"
    if any(w in LATEST_WORDS for w in lowers) and not _COUNTING.search(question):
        return "last", "last"
    return "most", "count"


def _limit(question: str, default: int) -> int:
    if m := _TOP.search(question):
        return max(1, min(int(m.group(1) or m.group(2)), 1000))
    return default


def plan_aggregate(
    plan: Plan,
    nlp: NLP,
    values: GroupValues,
    *,
    limit: int,
    now: datetime,
    tz: tzinfo,
) -> AggregatePlan | None:
    """The typed aggregate a question asks for, or None when it is not about runs."""
    question = plan.question
    named = values.named_in(question)
    if plan.collections:
        named["collection"] = tuple(plan.collections)
    pipelines = plan.entity_types.get("PIPELINE", ())
    if pipelines:
        known = values.keys.get("pipeline", frozenset())
        named["pipeline"] = tuple(sorted({*named.get("pipeline", ()), *(p for p in pipelines if p in known)}))
        if not named["pipeline"]:
            named["pipeline"] = tuple(pipelines)  # a named flow with no runs: an exact zero
    group = _group_by(question, plan.answer_types)
    counting = bool(_COUNTING.search(question))
    # a ranking over a status ("top failing job", "le pire flux en échec") asks for groups of runs,
    # of the first dimension it names when no question word said which ("least failing technology")
    ranked = bool(_RANKED.search(question))
    if ranked and group is None:
        group = next(
            (d for w in re.findall(r"[\w'-]+", question) if (d := _label_dimension(answer_labels_in(w)))),
            None,
        )
    about_runs = plan.aggregate or bool(
        plan.statuses
        and (group or named or counting or plan.window or ranked)
        and not plan.entity_types.get("ERROR_TYPE")
    )
    if not about_runs or (set(plan.hints) & {"code", "openapi"} and not plan.aggregate):
        return None
    tokens = nlp.tokens(question, plan.language)
    phrase = plan.window.phrase if plan.window else ""
    negate = bool(plan.statuses) and negated(tokens, phrase)
    order, measure = _order(question, tokens, phrase)
    if group is None:
        group = "pipeline"
    start = plan.window.start if plan.window else None
    end = plan.window.end if plan.window else None
    if group == "day" and start is None:  # "failures per day": the last fortnight, as the report shows
        today = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        start, end = to_iso(today - timedelta(days=13)), to_iso(now + timedelta(seconds=1))
    offset = now.astimezone(tz).utcoffset() or timedelta(0)
    where = tuple((dim, vals) for dim, vals in named.items() if dim in DIMENSIONS and dim != "status")
    query = RunQuery(
        statuses=tuple(plan.statuses),
        start=start,
        end=end,
        where=where,
        group_by=group,
        negate=negate and group != "day",
        order="most" if negate and order not in {"most", "least", "last"} else order,  # type: ignore[arg-type]
        limit=_limit(question, 31 if group == "day" else limit),
        day_offset_minutes=int(offset.total_seconds() // 60),
    )
    compare = None
    if start and end and _COMPARE.search(question) and not negate:
        span = datetime.fromisoformat(end) - datetime.fromisoformat(start)
        compare = (to_iso(datetime.fromisoformat(start) - span), start)
    return AggregatePlan(query, compare, measure, named)


def describe(agg: AggregatePlan) -> dict[str, object]:
    """The typed aggregate, for the plan every output shows."""
    q = agg.query
    return {
        "statuses": list(q.statuses),
        "group_by": q.group_by,
        "filters": {dim: list(vals) for dim, vals in q.where},
        "negate": q.negate,
        "order": q.order,
        "measure": agg.measure,
        "limit": q.limit,
        "compare_with": {"start": agg.compare[0], "end": agg.compare[1]} if agg.compare else None,
    }

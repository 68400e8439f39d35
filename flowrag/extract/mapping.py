"""Which field of a collection holds each monitoring concept, inferred from evidence.

Exact leaf names from a short list miss most real layouts (``job.name``, ``execution.debut``,
``etat``, ``rc``). Each flattened field of a sample gets a score per concept from three kinds of
evidence, and the best field wins each concept (a field serves one concept):

* **name** — the words of the whole dotted path (snake, camel and kebab case split, accents
  folded), so a parent key names the concept: ``job.name`` is a flow name, ``execution.started``
  a start time, ``error.msg`` an error. A leaf word counts more than a parent word;
* **value type** — timestamps (datetime, ISO-8601 text, epoch seconds or milliseconds), numbers,
  strings;
* **value shape** — status-like (few distinct values that read as statuses in French or English,
  or return codes), identifier-like names (no spaces, repeated across documents), host-like
  names, long free text for errors.

A concept is mapped only when its best score reaches :data:`MIN_SCORE` (name evidence alone is
enough, value evidence alone only for the shapes that are unmistakable: timestamps, statuses).
The confidence is the score over the maximum a concept can get. Two candidates within
:data:`AMBIGUOUS_MARGIN` of each other are reported as ambiguous."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flowrag.timeutil import day_first, looks_like_time, parse_instant

__all__ = [
    "AMBIGUOUS_MARGIN",
    "CONCEPTS",
    "MIN_SCORE",
    "MappingInference",
    "ValueConventions",
    "field_value",
    "flow_name",
    "infer_mapping",
    "value_conventions",
    "words",
]

CONCEPTS = ("pipeline", "technology", "status", "error", "start", "end", "host", "environment", "duration")
MIN_SCORE = 2.0
AMBIGUOUS_MARGIN = 0.5

# Words (folded) that name a concept, in French and English, with common abbreviations.
_NAME_WORDS: dict[str, frozenset[str]] = {
    "pipeline": frozenset(
        "pipeline flow flux job dag workflow process traitement chaine batch task tache jobname app".split()
    ),
    "technology": frozenset(
        "technology tech techno technologie platform plateforme engine moteur framework tool outil stack".split()
    ),
    "status": frozenset(
        "status state statut etat result resultat outcome rc retcode returncode return exit".split()
    ),
    "error": frozenset(
        "error erreur err exception failure echec cause reason raison msg message trace".split()
    ),
    "start": frozenset("start started begin debut demarrage lancement".split()),
    "end": frozenset("end ended finish finished fin stop stopped completed termine".split()),
    "host": frozenset("host hostname server serveur node noeud machine".split()),
    "environment": frozenset("environment env environnement".split()),
    "duration": frozenset("duration duree elapsed runtime temps seconds secs".split()),
}
# a leaf that qualifies its parent: job.name, error.message, execution.start, start_date
_QUALIFIERS = frozenset(
    "name nom id label libelle code value valeur text texte at time heure date ts".split()
)
_KEYS = frozenset("id uid uuid key cle code ref".split())
# leaves that say "the name of": a run's name is its flow's unless the field names something else
_NAMING = frozenset("name nom label libelle".split())
# words that say "a point in time" without saying which: a run's start when nothing else is named
# (``timestamp``, ``date``), never when another concept is (``end_date`` is an end)
_TIME_WORDS = frozenset("ts timestamp date time heure horodatage".split())

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_COMPACT_TIME = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])[0-3]\d[0-2]\d[0-5]\d[0-5]\d")  # Control-M
_HOST = re.compile(r"^(?=.*[\d-])[a-z][a-z0-9-]{1,62}(?:\.[a-z0-9-]+)*$", re.IGNORECASE)
_IDENT = re.compile(r"^[\w.:/-]{2,120}$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_HOSTISH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # what a host name can be made of
_TIME_OF_DAY = re.compile(r"^[0-2]?\d[:h][0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?$")


_ORDINAL = re.compile(r"\s*#\s*\d+\s*$")
_QUALIFIED = re.compile(r"^[^\s]*[:/\\][^\s]*$")


def flow_name(value: str) -> str:
    """A flow's name without the ordinal of one of its runs: ``"ledger_close #42"`` ->
    ``"ledger_close"`` (Jenkins' and Azure DevOps' display names), and without the qualifiers of
    a qualified identifier: the last segment that has letters of an ARN
    (``arn:aws:states:…:stateMachine:ledger_close``), a path (``data/ledger_close``) or a URL;
    other names unchanged."""
    stripped = _ORDINAL.sub("", value).strip()
    if _QUALIFIED.match(stripped):
        segments = [seg for seg in re.split(r"[:/\\]+", stripped) if any(c.isalpha() for c in seg)]
        if segments:
            return segments[-1]
    return stripped if stripped else value.strip()


def field_value(flat: Mapping[str, Any], path: str | None) -> Any:
    """The value of a mapped field in a flattened document. A composite ``day+time`` path (a
    scheduler writing the day and the time of day in two fields) joins both values; a field
    literally named so is read as it is."""
    if not path:
        return None
    if path in flat or "+" not in path:
        return flat.get(path)
    parts = [flat.get(p) for p in path.split("+")]
    present = [str(v).strip() for v in parts if v not in (None, "")]
    return " ".join(present) if len(present) == len(parts) else (parts[0] if parts else None)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def words(path: str) -> list[str]:
    """``execution.startedAt`` -> ``['execution', 'started', 'at']`` (folded)."""
    out: list[str] = []
    for part in path.split("."):
        for piece in re.split(r"[_\-\s]+", part):
            out += [_fold(w) for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", piece) if w]
    return out


def _is_time(value: Any) -> bool:
    if isinstance(value, datetime | date):
        return True
    if isinstance(value, str):
        text = value.strip()
        return bool(_ISO.match(text) or _COMPACT_TIME.fullmatch(text) or looks_like_time(text))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 1e9 <= value <= 4.2e9 or 1e12 <= value <= 4.2e12  # epoch seconds or milliseconds
    return False


@dataclass(frozen=True)
class _Profile:
    values: list[Any]
    present: int  # documents holding the field

    @property
    def strings(self) -> list[str]:
        return [v for v in self.values if isinstance(v, str)]

    def share(self, predicate: Any) -> float:
        return sum(1 for v in self.values if predicate(v)) / len(self.values) if self.values else 0.0

    @property
    def distinct(self) -> int:
        return len({repr(v) for v in self.values})


_SUFFIX = re.compile(r"(?:ation|ition|ions?|ing|ed|es|ee|e|s)$")


def _stem(word: str) -> str:
    """A light suffix stem, so completion, completed and complete meet (complet)."""
    stem = _SUFFIX.sub("", word)
    return stem if len(stem) >= 4 else word


_STEMS = {concept: frozenset(_stem(w) for w in vocab) for concept, vocab in _NAME_WORDS.items()}


def _name_score(path: str, concept: str) -> float:
    """The name evidence for ``concept``: exact words first; failing that, words joined as they
    are often split (run_time -> runtime) or met in another form (completionTime ~ completed),
    half a point lower; and for a duration, a time word over numbers (ExecutionTime)."""
    tokens = words(path)
    if not tokens:
        return 0.0
    score = _word_score(tokens, concept, _NAME_WORDS[concept])
    if score:
        return score
    joined = [a + b for a, b in itertools.pairwise(tokens)]
    forms = [_stem(t) for t in tokens]
    for other, vocab in (
        ([*tokens[:-2], joined[-1]] if joined else [], _NAME_WORDS[concept]),
        (forms, _STEMS[concept]),
    ):
        if other and (score := _word_score(other, concept, vocab, variant=True)):
            return score - 0.5
    if concept == "duration" and any(t in _TIME_WORDS for t in tokens):
        named = any(t in _NAME_WORDS[c] for c in ("start", "end") for t in tokens)
        return 0.0 if named else 1.5  # only numbers that are no instants reach the minimum
    return 0.0


def _word_score(tokens: list[str], concept: str, vocab: frozenset[str], variant: bool = False) -> float:
    leaf, parents = tokens[-1], tokens[:-1]
    if leaf in vocab:
        return 3.0
    if any(t in vocab for t in parents) and leaf in _QUALIFIERS:
        if concept in ("pipeline", "host") and leaf in _KEYS:
            return 2.0  # job.id is the job's key; job.name is what people call it
        return 2.5  # job.name, error.msg -> msg is in error's words too, execution.start_time
    if any(t in vocab for t in tokens):
        return 2.0
    if variant:
        return 0.0  # the shape rules below read the path's own words only
    if concept == "start" and any(t in _TIME_WORDS for t in tokens):
        named = any(t in words_ for c, words_ in _NAME_WORDS.items() if c != "start" for t in tokens)
        return 0.0 if named else 2.0
    if (
        concept == "pipeline"
        and leaf in _NAMING
        and not any(t in w for w in _NAME_WORDS.values() for t in parents)
    ):
        # a name of nothing else in a run's document (run_name, package_name, nom): what ran,
        # on weaker evidence than a flow word, so the values must look like flow names too
        return 1.5
    return 0.0


def _letters(text: str) -> float:
    """The share of letters among a name's letters and digits (hex digits a-f count as digits
    when the name is all hex)."""
    alnum = [c for c in text if c.isalnum()]
    if not alnum:
        return 0.0
    if all(c in "0123456789abcdefABCDEF" for c in alnum):
        return 0.0
    return sum(1 for c in alnum if c.isalpha()) / len(alnum)


def _value_score(profile: _Profile, concept: str, documents: int) -> float:
    from flowrag.extract.monitoring import normalise_status  # the status classes live there

    values = profile.values
    if not values:
        return 0.0
    times = profile.share(_is_time)
    strings = profile.strings
    if concept in ("start", "end"):
        return 1.5 * times
    if times > 0.5:
        return -3.0  # a timestamp is nothing else
    if concept == "status":
        classified = profile.share(lambda v: normalise_status(v) in _CLASSES)
        few = profile.distinct <= max(12, documents // 20)
        wordy = strings and sum(len(s) for s in strings) / len(strings) > 25  # sentences, not statuses
        # one value over a whole sample (a life-cycle state that is always TERMINATED) says nothing
        # about how runs ended; a field that varies is preferred, and still wins alone
        constant = 2.0 if profile.distinct == 1 and len(values) >= 10 else 0.0
        score = (2.0 * classified if few else 0.5 * classified) - (0 if few else 1.0) - (3.0 if wordy else 0)
        return score - constant
    if concept == "duration":
        # a duration is read from numbers only (seconds, or milliseconds): text is something else
        numeric = profile.share(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        return 1.0 * numeric if numeric else -2.0
    if not strings:
        return -1.0
    mean_len = sum(len(s) for s in strings) / len(strings)
    spaced = sum(1 for s in strings if " " in s.strip()) / len(strings)
    if concept == "error":
        return (1.5 if mean_len >= 25 else 0.0) + (0.5 if spaced > 0.5 else -0.5)
    if concept == "pipeline":
        # a display name may carry the run's ordinal ("ledger_close #42"): the flow is the rest
        names = [flow_name(s) for s in strings]
        ident = sum(1 for s in names if _IDENT.match(s)) / len(names)
        distinct = len(set(names))
        repeated = distinct < max(2, len(names) * 0.8)
        # one value over a whole sample names what every run shares (an application, a team),
        # not which flow ran
        constant = 1.0 if distinct == 1 and len(values) >= 10 else 0.0
        spaced = sum(1 for s in names if " " in s) / len(names)
        # a flow is named in words (ledger_close, WF_LOAD_TRADES); a key is mostly digits and hex
        # (IN01:0004a, 7f3a-…): below 60% letters, the values look like keys
        letters = sum(_letters(s) for s in names) / len(names)
        keyish = 2.0 * max(0.0, 0.6 - letters)
        return ident * (1.0 if repeated else 0.4) - spaced - constant - keyish
    if concept == "host":
        # a host is named like one (prdbatch01, etl-02.bank.lan, 10.1.2.3); a value no host can
        # have (an ARN, a path, a URL) says the field is something else, whatever its name says
        hosts = sum(1 for s in strings if _HOST.match(s) or _IPV4.match(s)) / len(strings)
        impossible = sum(1 for s in strings if not _HOSTISH.match(s.strip())) / len(strings)
        return 1.5 * hosts - 2.0 * impossible - spaced
    if concept in ("technology", "environment"):
        few = profile.distinct <= max(10, documents // 10)
        # an environment or a technology is named (prod, spark); a key (0001TL25000000000003) is
        # mostly digits and says which record, not which kind
        letters = sum(_letters(s) for s in strings) / len(strings)
        return (0.8 if few else -0.5) - spaced - 3.0 * max(0.0, 0.6 - letters)
    return 0.0


_CLASSES = frozenset({"FAILED", "SUCCESS", "RUNNING", "WARNING", "CANCELLED", "SKIPPED"})
_MAX = {c: 3.0 + 2.0 for c in CONCEPTS}


@dataclass(frozen=True)
class MappingInference:
    fields: dict[str, str | None]  # concept -> dotted field
    confidence: dict[str, float] = field(default_factory=dict)  # concept -> 0..1
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)  # concept -> candidates


def _flatten(doc: Mapping[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if depth > 8:
        return out
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}.", depth + 1))
        elif isinstance(value, list):
            # lists of maps are indexed as the extractor indexes them (attempts.0.startTime);
            # the first item speaks for the list
            if value and isinstance(value[0], Mapping):
                out.update(_flatten(value[0], f"{name}.0.", depth + 1))
        else:
            out[name] = value
    return out


def infer_mapping(sample: Sequence[Mapping[str, Any]]) -> MappingInference:
    """Scored field -> concept assignment for a sample of one collection's documents."""
    columns: dict[str, list[Any]] = {}
    present: dict[str, int] = {}
    rows = [_flatten(doc) for doc in sample]
    for row in rows:
        for key, value in row.items():
            if key == "_id" or value is None or value == "":
                continue
            columns.setdefault(key, []).append(value)
            present[key] = present.get(key, 0) + 1
    documents = max(1, len(sample))
    scored: list[tuple[float, str, str]] = []
    for key, values in columns.items():
        profile = _Profile(values, present[key])
        coverage = present[key] / documents
        for concept in CONCEPTS:
            name = _name_score(key, concept)
            value = _value_score(profile, concept, documents)
            if name == 0.0 and not (concept in ("start", "end", "status") and value >= 1.4):
                continue  # value evidence alone only for unmistakable shapes
            total = (name + value) * (0.5 + 0.5 * coverage)
            if total >= MIN_SCORE:
                scored.append((total, key, concept))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    fields: dict[str, str | None] = dict.fromkeys(CONCEPTS)
    confidence: dict[str, float] = {}
    ambiguous: dict[str, tuple[str, ...]] = {}
    used: set[str] = set()
    best: dict[str, float] = {}
    for total, key, concept in scored:
        if concept in best or key in used:
            continue
        fields[concept] = key
        best[concept] = total
        confidence[concept] = round(min(1.0, total / _MAX[concept]), 2)
        used.add(key)
    for total, key, concept in scored:  # close runners-up that serve no other concept
        chosen = fields[concept]
        if chosen and key != chosen and key not in used and best[concept] - total <= AMBIGUOUS_MARGIN:
            ambiguous[concept] = (*ambiguous.get(concept, (chosen,)), key)
    start, end = fields["start"], fields["end"]
    if start and end:
        near = {
            concept: [k for t, k, c in scored if c == concept and t >= best[concept] - PAIR_MARGIN]
            for concept in ("start", "end")
        }
        taken = {k for c, k in fields.items() if k and c not in ("start", "end")}
        if pair := _closest_pair(rows, near["start"], near["end"], taken):
            start, end = pair  # the runs' own times told the candidates apart: not ambiguous
            fields["start"], fields["end"] = start, end
            ambiguous.pop("start", None)
            ambiguous.pop("end", None)
    if start and end and _median_time(columns[end]) < _median_time(columns[start]):
        fields["start"], fields["end"] = end, start  # the earlier one starts
    profiles = {key: _Profile(values, present[key]) for key, values in columns.items()}
    _by_values(fields, confidence, profiles, rows, used, documents)
    return MappingInference(fields, confidence, ambiguous)


def _by_values(
    fields: dict[str, str | None],
    confidence: dict[str, float],
    profiles: Mapping[str, _Profile],
    rows: Sequence[Mapping[str, Any]],
    used: set[str],
    documents: int,
) -> None:
    """What a run collection's values say when no field's name did (in place):

    * a run names what ran: with a status and a time found, the unnamed field whose values look
      most like flow names (identifiers, repeated, mostly letters) is the flow;
    * a field whose values are all written like host names (several, each repeated) is the host;
    * an error message is text that the failed runs carry and the others do not;
    * a day written apart from its time of day (``DateDebut`` + ``HeureDebut``) is read joined to
      the time field whose name shares its other words."""
    free = [k for k in profiles if k not in used]
    if fields["pipeline"] is None and fields["status"] and (fields["start"] or fields["end"]):
        ranked = sorted(
            ((_value_score(profiles[k], "pipeline", documents), k) for k in free if profiles[k].strings),
            key=lambda t: (-t[0], t[1]),
        )
        if ranked and ranked[0][0] >= 0.5:
            score, key = ranked[0]
            fields["pipeline"] = key
            confidence["pipeline"] = round(min(1.0, score / _MAX["pipeline"]), 2)
            used.add(key)
            free.remove(key)
    if fields["host"] is None and fields["pipeline"] and fields["status"]:
        # a host by its values alone (Jenkins' builtOn): every value written like a host name,
        # mostly letters (no hash, no key), several hosts, each one running many runs
        for key in sorted(free):
            strings = profiles[key].strings
            if len(strings) < len(profiles[key].values) or not strings:
                continue
            distinct = len(set(strings))
            hostlike = all(_HOST.match(v) or _IPV4.match(v) for v in strings)
            lettered = sum(_letters(v) for v in strings) / len(strings) >= 0.6
            if hostlike and lettered and 2 <= distinct <= max(2, len(strings) // 5):
                fields["host"] = key
                confidence["host"] = round(1.5 / _MAX["host"], 2)
                used.add(key)
                free.remove(key)
                break
    if fields["error"] is None and (status := fields["status"]):
        from flowrag.extract.monitoring import normalise_status

        failed: list[Mapping[str, Any]] = []
        others: list[Mapping[str, Any]] = []
        for r in rows:  # one pass: a list membership test per row compared whole documents
            if r.get(status) not in (None, ""):
                (failed if normalise_status(r.get(status)) == "FAILED" else others).append(r)
        best: tuple[float, str] | None = None
        for key in free:
            if not failed or not others or _value_score(profiles[key], "error", documents) < 2.0:
                continue
            on_failed = sum(1 for r in failed if r.get(key) not in (None, "")) / len(failed)
            on_others = sum(1 for r in others if r.get(key) not in (None, "")) / len(others)
            # most failed runs carry it, and it is rarer on the others than on the failures
            margin = on_failed - on_others
            if on_failed > 0.5 and on_others < on_failed / 4 and (best is None or margin > best[0]):
                best = (margin, key)
        if best:
            fields["error"] = best[1]
            confidence["error"] = round(best[0] * 0.6, 2)
            used.add(best[1])
            free.remove(best[1])
    for concept in ("start", "end"):
        day = fields[concept]
        if not day or not profiles[day].values or profiles[day].share(_day_only) < 0.9:
            continue
        own = {w for w in words(day) if w not in _TIME_WORDS and w not in _QUALIFIERS}
        for key in free:
            clock = profiles[key]
            if (
                clock.strings
                and clock.share(lambda v: isinstance(v, str) and bool(_TIME_OF_DAY.match(v.strip()))) >= 0.9
            ):
                theirs = {w for w in words(key) if w not in _TIME_WORDS and w not in _QUALIFIERS}
                if own and own == theirs:
                    fields[concept] = f"{day}+{key}"
                    free.remove(key)
                    break


def _day_only(value: Any) -> bool:
    """A date written without a time of day (2026-11-25, 25/11/2026)."""
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and ":" not in text and len(text) <= 12 and parse_instant(text) is not None
    return isinstance(value, date) and not isinstance(value, datetime)


PAIR_MARGIN = 1.0


def _closest_pair(
    rows: Sequence[Mapping[str, Any]], starts: Sequence[str], ends: Sequence[str], taken: set[str]
) -> tuple[str, str] | None:
    """Of the fields that score nearly as well for the start and for the end of a run, the pair
    that brackets the run: the end never before the start, and the two closest in time. A run has
    one start and one end but often several timestamps (Airflow's logical date and data interval
    sit a schedule period away from the run's own start_date/end_date), and the names alone
    cannot tell them apart; the distance between them can."""
    if len(starts) < 2 and len(ends) < 2:
        return None
    instants: dict[str, list[float | None]] = {}
    for key in {*starts, *ends}:
        out: list[float | None] = []
        for row in rows:
            iso = parse_instant(row.get(key))
            out.append(datetime.fromisoformat(iso).timestamp() if iso else None)
        instants[key] = out
    best: tuple[float, str, str] | None = None
    for s in starts:
        for e in ends:
            if s == e or s in taken or e in taken:
                continue
            gaps = [
                b - a
                for a, b in zip(instants[s], instants[e], strict=True)
                if a is not None and b is not None
            ]
            if len(gaps) < max(3, len(rows) // 2) or sum(1 for g in gaps if g < 0) > 0.05 * len(gaps):
                continue
            gaps.sort()
            median = gaps[len(gaps) // 2]
            if median <= 0:
                continue  # one instant written twice (epoch and text), not a start and an end
            if best is None or median < best[0]:
                best = (median, s, e)
    return (best[1], best[2]) if best else None


def _median_time(values: Sequence[Any]) -> str:
    """The median instant (UTC ISO text), so epoch numbers and written times compare."""
    rendered = sorted(t for t in (parse_instant(v) for v in values) if t)
    return rendered[len(rendered) // 2] if rendered else ""


_CODE = re.compile(r"[+-]?\d+(?:\.0+)?")


@dataclass(frozen=True)
class ValueConventions:
    """How one collection writes its values, read from a sample: status values that no status word
    and no return code classifies, with the class their runs' evidence gives them, and whether
    numeric dates are written day first."""

    status_values: dict[str, str] = field(default_factory=dict)  # raw value -> status class
    evidence: dict[str, str] = field(default_factory=dict)  # raw value -> why, for the report
    unclassified: tuple[str, ...] = ()  # values nothing classifies (kept raw)
    day_first: bool | None = None

    @property
    def readings(self) -> dict[str, str]:
        """How each value the sample showed is read: its class, or its raw text when nothing
        classifies it (an enumeration's code is no return code, so 5 must not become FAILED)."""
        return {**{v: v.upper() for v in self.unclassified}, **self.status_values}


def value_conventions(
    sample: Sequence[Mapping[str, Any]], status: str | None, error: str | None, times: Sequence[str | None]
) -> ValueConventions:
    """The :class:`ValueConventions` of a sample, given the fields the mapping chose.

    A status field of numbers without a 0 is an enumeration (SSIS writes 4 for failed and 7 for
    succeeded), not a return code; a status word that reads as no class is one too. Each such value
    is classified by its runs: FAILED when most of them carry an error message, SUCCESS when it is
    the most frequent value and its runs never carry one. Without error messages, a field of exactly
    two values is read the way runs go, mostly well: the rarer value is the failure. Anything else
    stays unclassified, raw, and is reported, so a user can set it."""
    from flowrag.extract.monitoring import normalise_status  # the status classes live there

    flats = [_flatten(doc) for doc in sample]
    dates = [field_value(flat, name) for flat in flats for name in times if name]
    order = day_first(dates)
    if not status:
        return ValueConventions(day_first=order)
    seen: dict[str, list[bool]] = {}
    for flat in flats:
        raw = flat.get(status)
        if raw in (None, "") or isinstance(raw, bool):
            continue
        message = flat.get(error) if error else None
        seen.setdefault(str(raw).strip(), []).append(message not in (None, "") and bool(str(message).strip()))
    if not seen:
        return ValueConventions(day_first=order)
    numeric = all(_CODE.fullmatch(v) for v in seen)
    if numeric and any(int(float(v)) == 0 for v in seen):
        return ValueConventions(day_first=order)  # return codes: 0 is success, the rest failures
    pending = [v for v in seen if numeric or normalise_status(v) not in _CLASSES]
    if not pending:
        return ValueConventions(day_first=order)
    with_errors = any(any(flags) for flags in seen.values())
    commonest = max(seen, key=lambda v: (len(seen[v]), v))
    classes: dict[str, str] = {}
    evidence: dict[str, str] = {}
    for value in pending:
        flags = seen[value]
        rate = sum(flags) / len(flags)
        if with_errors and rate >= 0.5:
            classes[value] = "FAILED"
            evidence[value] = f"an error message on {rate:.0%} of its {len(flags)} runs"
        elif with_errors and rate == 0 and value == commonest:
            classes[value] = "SUCCESS"
            evidence[value] = f"the most frequent value ({len(flags)} runs), never with an error message"
    if not with_errors and len(seen) == 2 and set(pending) == set(seen):
        rare = min(seen, key=lambda v: (len(seen[v]), v))
        if len(seen[rare]) < len(seen[commonest]):
            classes |= {commonest: "SUCCESS", rare: "FAILED"}
            evidence[commonest] = f"the commoner of two values ({len(seen[commonest])} runs)"
            evidence[rare] = f"the rarer of two values ({len(seen[rare])} runs)"
    unclassified = tuple(sorted(v for v in pending if v not in classes))
    return ValueConventions(classes, evidence, unclassified, order)

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

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = [
    "AMBIGUOUS_MARGIN",
    "CONCEPTS",
    "MIN_SCORE",
    "MappingInference",
    "flow_name",
    "infer_mapping",
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
# leaves that say "the name of": a run's name is its flow's unless the field names something else
_NAMING = frozenset("name nom label libelle".split())
# words that say "a point in time" without saying which: a run's start when nothing else is named
# (``timestamp``, ``date``), never when another concept is (``end_date`` is an end)
_TIME_WORDS = frozenset("ts timestamp date time heure horodatage".split())

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_COMPACT_TIME = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])[0-3]\d[0-2]\d[0-5]\d[0-5]\d")  # Control-M
_HOST = re.compile(r"^(?=.*[\d-])[a-z][a-z0-9-]{1,62}(?:\.[a-z0-9-]+)*$", re.IGNORECASE)
_IDENT = re.compile(r"^[\w.:/-]{2,120}$")


_ORDINAL = re.compile(r"\s*#\s*\d+\s*$")


def flow_name(value: str) -> str:
    """A flow's name without the ordinal of one of its runs: ``"ledger_close #42"`` ->
    ``"ledger_close"`` (Jenkins' and Azure DevOps' display names); other names unchanged."""
    stripped = _ORDINAL.sub("", value)
    return stripped if stripped else value.strip()


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
        return bool(_ISO.match(value.strip()) or _COMPACT_TIME.fullmatch(value.strip()))
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


def _name_score(path: str, concept: str) -> float:
    tokens = words(path)
    if not tokens:
        return 0.0
    vocab = _NAME_WORDS[concept]
    leaf, parents = tokens[-1], tokens[:-1]
    if leaf in vocab:
        return 3.0
    if any(t in vocab for t in parents) and leaf in _QUALIFIERS:
        return 2.5  # job.name, error.msg -> msg is in error's words too, execution.start_time
    if any(t in vocab for t in tokens):
        return 2.0
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
        return 1.0 * profile.share(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
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
        return ident * (1.0 if repeated else 0.4) - spaced - constant
    if concept == "host":
        return 1.5 * (sum(1 for s in strings if _HOST.match(s)) / len(strings)) - spaced
    if concept in ("technology", "environment"):
        few = profile.distinct <= max(10, documents // 10)
        return (0.8 if few else -0.5) - spaced
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
    for doc in sample:
        for key, value in _flatten(doc).items():
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
    if start and end and _median_time(columns[end]) < _median_time(columns[start]):
        fields["start"], fields["end"] = end, start  # the earlier one starts
    return MappingInference(fields, confidence, ambiguous)


def _median_time(values: Sequence[Any]) -> str:
    rendered = sorted(str(v.isoformat() if isinstance(v, datetime | date) else v) for v in values)
    return rendered[len(rendered) // 2] if rendered else ""

"""Pure extraction of monitoring documents: a (converted) document -> nodes, relationships and
texts to embed. No I/O; the Mongo connector and the JSON loader both feed it.

Each document becomes a ``Record`` (readable flattened text). When a mapping finds a pipeline and a
status (auto-detected from field names, overridable per collection), it also becomes a ``Run`` of a
``Pipeline`` with its ``Technology``, ``Error`` template, ``Host`` and ``Environment``.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

from flowrag.extract.mapping import (
    CONCEPTS,
    ValueConventions,
    field_value,
    flow_name,
    infer_mapping,
    value_conventions,
)
from flowrag.extract.secrets import redact_value
from flowrag.extract.templates import extract_template
from flowrag.models.nlp import Entity
from flowrag.models.vocabulary import Vocabulary, normalise_name
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid
from flowrag.timeutil import parse_instant

__all__ = [
    "FieldMapping",
    "MonitoringExtract",
    "detect_mapping",
    "extract_document",
    "flatten",
    "mention_rows",
    "normalise_status",
    "values_text",
]

SOURCE = "mongo"

# Status classes by word stem (accents folded, any case, inside longer values such as
# "EN ÉCHEC", "Failed (exit 3)", "TIMED_OUT"). A value with both a failure and a success stem
# ("completed with errors", "partial success") is a WARNING. Numbers are return codes.
STATUS_CLASSES = ("FAILED", "SUCCESS", "RUNNING", "WARNING", "CANCELLED", "SKIPPED")
_STEMS: tuple[tuple[str, str], ...] = (
    ("SKIPPED", r"skip|ignor|saut"),
    ("CANCELLED", r"cancel|annul|abandon|revoked"),
    (
        "RUNNING",
        r"running|started|in.?progress|en.?cours|processing|pending|queued|en.?attente|executing|\bwait",
    ),
    ("WARNING", r"warn|avertis|partial|partiel|degrad"),
    (
        "FAILED",
        r"fail|echec|echou|error|erreur|\bko\b|abort|kill|crash|timeout|timed.?out|expired|refus|rejet"
        r"|plant|broken|fatal|panic|exception|\bnok\b|retry|relance",
    ),
    ("SUCCESS", r"succe|success|\bok\b|done|complet|termin|reussi|passed|finished|fini\b|valid"),
)
_STEM_RE = tuple((status, re.compile(pattern)) for status, pattern in _STEMS)
# a success word under a negation ("Ended Not OK", "unsuccessful", "non terminé", "pas OK") is a
# failure: the negators of both languages, directly before the success stem
_NEGATED_SUCCESS = re.compile(r"(?:\b(?:not|non|pas|no)[\s_-]*|\bun)(?:" + _STEMS[-1][1] + ")")


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def normalise_status(value: Any, warning_codes: frozenset[int] = frozenset()) -> str:
    """One of ``STATUS_CLASSES`` (or UNKNOWN) from a status word in French or English, or from a
    return code: 0 is SUCCESS, a code in ``warning_codes`` WARNING, any other FAILED."""
    if isinstance(value, bool):
        return "SUCCESS" if value else "FAILED"
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+(?:\.0+)?", text):
        code = int(float(text))
        return "SUCCESS" if code == 0 else "WARNING" if code in warning_codes else "FAILED"
    folded = _fold(text)
    if _NEGATED_SUCCESS.search(folded):
        return "FAILED"
    found = [status for status, pattern in _STEM_RE if pattern.search(folded)]
    if "FAILED" in found and "SUCCESS" in found:
        return "WARNING"
    return found[0] if found else (text.upper() or "UNKNOWN")


@dataclass(frozen=True)
class FieldMapping:
    """Which (flattened) document field holds each monitoring concept; None = absent."""

    pipeline: str | None = None
    technology: str | None = None
    status: str | None = None
    error: str | None = None
    start: str | None = None
    end: str | None = None
    host: str | None = None
    environment: str | None = None
    duration: str | None = None
    # how the collection writes values (read from a sample, see mapping.value_conventions):
    # status values classified by their runs' evidence, and numeric dates' day/month order
    status_values: tuple[tuple[str, str], ...] = ()
    day_first: bool | None = None

    @property
    def is_run(self) -> bool:
        return self.pipeline is not None and self.status is not None

    @classmethod
    def of(cls, fields: Mapping[str, str | None]) -> FieldMapping:
        """The mapping of the concepts in ``fields`` (an inference's), no value conventions yet."""
        values: dict[str, Any] = {k: fields.get(k) for k in CONCEPTS}
        return cls(**values)

    def merged(self, override: Mapping[str, str | None]) -> FieldMapping:
        values: dict[str, Any] = {k: getattr(self, k) for k in CONCEPTS}
        values.update({k: v for k, v in override.items() if k in CONCEPTS})
        return FieldMapping(**values, status_values=self.status_values, day_first=self.day_first)

    def with_values(self, status_values: Mapping[str, str], day_first: bool | None) -> FieldMapping:
        return replace(self, status_values=tuple(sorted(status_values.items())), day_first=day_first)

    def status_of(self, raw: Any, warning_codes: frozenset[int] = frozenset()) -> str:
        for value, status in self.status_values:
            if value == str(raw).strip():
                return status
        return normalise_status(raw, warning_codes)


def flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested maps become dotted keys; lists of scalars stay lists; lists of maps are indexed."""
    out: dict[str, Any] = {}
    for key in sorted(doc, key=str):
        value = doc[key]
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            for i, item in enumerate(value[:10]):
                if isinstance(item, Mapping):
                    out.update(flatten(item, f"{name}.{i}."))
                else:
                    out[f"{name}.{i}"] = item
            if len(value) > 10:
                out[f"{name}.more"] = f"{len(value) - 10} more items"
        else:
            out[name] = value
    return out


def detect_mapping(sample: Sequence[Mapping[str, Any]]) -> FieldMapping:
    """The field holding each concept, inferred from names, nesting and values
    (:func:`flowrag.extract.mapping.infer_mapping`), with how the sample writes its values
    (:func:`flowrag.extract.mapping.value_conventions`)."""
    return with_conventions(FieldMapping.of(infer_mapping(sample).fields), sample)[0]


def with_conventions(
    mapping: FieldMapping, sample: Sequence[Mapping[str, Any]], given: Mapping[str, str] | None = None
) -> tuple[FieldMapping, ValueConventions]:
    """``mapping`` with the value conventions its fields show in ``sample``, and the status
    readings a user ``given`` (raw value -> class) on top; with what the sample showed."""
    found = value_conventions(sample, mapping.status, mapping.error, (mapping.start, mapping.end))
    return mapping.with_values({**found.readings, **(given or {})}, found.day_first), found


def _text(flat: Mapping[str, Any], limit: int = 4000) -> str:
    parts = []
    for key, value in flat.items():
        if key == "_id":
            continue
        rendered = (
            json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, list) else str(value)
        )
        parts.append(f"{key}: {rendered}")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[:limit] + "…"


def values_text(text: str) -> str:
    """The values of a record's text (``key: value; key: value``), without the field names."""
    return ". ".join(part.split(": ", 1)[-1] for part in text.split("; "))


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")


_cached_template = lru_cache(maxsize=65_536)(extract_template)


def _template(value: str) -> str:
    return _cached_template(value).template


def _masked(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return "<NUM>"
    if isinstance(value, str):
        return "<TS>" if _ISO_TIME.fullmatch(value) else _template(value)
    return _template(json.dumps(value, ensure_ascii=False, default=str))


def _embed_text(flat: Mapping[str, Any], limit: int = 4000) -> str:
    """The record's text with variable values masked field by field (times, numbers, ids, hosts):
    records of the same kind share one text, hence one cached embedding. Values repeat across a
    collection (pipelines, statuses, error messages), so masking is memoised per value."""
    text = "; ".join(f"{key}: {_masked(value)}" for key, value in flat.items() if key != "_id")
    return text[:limit]


def _duration(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        a = datetime.fromisoformat(start.replace("Z", "+00:00"))
        b = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (b - a).total_seconds()


_MILLIS_WORDS = frozenset({"ms", "millis", "milliseconds", "millisecondes"})


@functools.lru_cache(maxsize=256)
def _named_in_millis(path: str) -> bool:
    """``durationInMs``, ``elapsed_ms``: the field's name says milliseconds (one split per field,
    not per document)."""
    from flowrag.extract.mapping import words  # the mapping's own path splitter

    return bool(_MILLIS_WORDS & set(words(path)))


def _seconds(value: Any, path: str | None, start: str | None, end: str | None) -> float | None:
    """A run's duration in seconds. A numeric field is in seconds unless its name says
    milliseconds (``durationInMs``, ``elapsed_ms``) or the run's own start and end say so (the
    value is nearer a thousand times their difference); without one, end minus start."""
    measured = _duration(start, end)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return measured
    if path and _named_in_millis(path):
        return value / 1000
    if measured is not None and measured > 0 and abs(value / 1000 - measured) < abs(value - measured):
        return value / 1000
    return float(value)


@dataclass
class MonitoringExtract:
    nodes: list[NodeRow] = field(default_factory=list)
    rels: list[RelRow] = field(default_factory=list)
    # a free-text record's string values, without field names: what NER reads (a field called
    # ``ouvert_le`` is not a flow the ticket names)
    prose: str = ""


def extract_document(
    doc: Mapping[str, Any],
    collection: str,
    mapping: FieldMapping,
    vocabulary: Vocabulary,
    warning_codes: frozenset[int] = frozenset(),
    zone: tzinfo = UTC,
) -> MonitoringExtract:
    """One converted document -> rows. Pure and deterministic. Secrets are redacted first (by field
    name and by value shape), so no stored text, property or embedding holds one."""
    doc = {str(k): redact_value(str(k), v) for k, v in doc.items()}
    out = MonitoringExtract()
    doc_id = str(doc.get("_id", ""))
    flat = flatten(doc)
    ref = f"{collection}/{doc_id}"
    text = _text(flat)
    record_uid = make_uid(NodeLabel.RECORD, ref)
    coll_uid = make_uid(NodeLabel.COLLECTION, collection)
    # Embed the templated text: the same kind of record (ids, times, hosts masked) shares one
    # cached embedding, so a million runs cost a few thousand model calls.
    out.nodes.append(
        NodeRow(
            NodeLabel.RECORD,
            ref,
            SOURCE,
            collection,
            ref,
            name=ref,
            text=text,
            embed_text=_embed_text(flat),
            props={"collection": collection, "doc_id": doc_id},
        )
    )
    out.rels.append(RelRow(RelType.HAS_RECORD, coll_uid, record_uid))
    get = flat.get
    pipeline_raw = get(mapping.pipeline or "") if mapping.is_run else None
    status_raw = get(mapping.status or "") if mapping.is_run else None
    if pipeline_raw in (None, "") or status_raw in (None, ""):
        # no run in it: free text (an incident, an alert, a ticket), read for what it names
        out.nodes[0] = replace(out.nodes[0], props={**out.nodes[0].props, "free_text": True})
        out.prose = values_text(text)
        return out
    # A run's document is not embedded: its meaning is carried by embedded Pipeline and Error
    # nodes and by the Run's fields (Cypher, full-text). A million runs of a few hundred kinds
    # would otherwise put a million near-identical vectors in the index, and a vector search
    # would return k copies of one kind instead of k different answers.
    out.nodes[0] = replace(out.nodes[0], embed=False)
    pipeline = normalise_name(flow_name(str(pipeline_raw)))
    status = mapping.status_of(status_raw, warning_codes)
    # every timestamp becomes a UTC instant (ISO text, comparable in both stores); a value that
    # does not parse keeps its raw text in *_raw and leaves the instant empty
    raw_start = field_value(flat, mapping.start)
    raw_end = field_value(flat, mapping.end)
    # text without an offset is in the team's zone (FLOWRAG_TIMEZONE); BSON dates are UTC
    first = mapping.day_first is not False
    start = parse_instant(raw_start, zone, first)
    end = parse_instant(raw_end, zone, first)
    duration = _seconds(get(mapping.duration) if mapping.duration else None, mapping.duration, start, end)
    error_raw = get(mapping.error) if mapping.error else None
    error_text = str(error_raw).strip() if error_raw not in (None, "") else ""
    run_uid = make_uid(NodeLabel.RUN, ref)
    pipe_uid = make_uid(NodeLabel.PIPELINE, pipeline)
    run_props: dict[str, Any] = {
        "status": status,
        "status_raw": str(status_raw)[:100],
        "pipeline": pipeline,
        "started_at": start,
        "ended_at": end,
        **({"started_at_raw": str(raw_start)[:100]} if raw_start is not None and start is None else {}),
        **({"ended_at_raw": str(raw_end)[:100]} if raw_end is not None and end is None else {}),
        "duration_s": duration,
        "collection": collection,
        "doc_id": doc_id,
    }
    if error_text:
        run_props["error_message"] = error_text[:2000]
    # the groups an aggregate filters and counts by, as the keys of their nodes, on the run itself:
    # "which technology fails most" is one indexed query, not a join per run
    tech_raw = get(mapping.technology) if mapping.technology else None
    tech = (vocabulary.canonical_technology(str(tech_raw)) or str(tech_raw).strip()) if tech_raw else ""
    if tech:
        run_props["technology"] = tech.lower()
    for attr, prop in ((mapping.host, "host"), (mapping.environment, "environment")):
        value = get(attr) if attr else None
        if value not in (None, ""):
            run_props[prop] = str(value).strip().lower()
    template = _cached_template(error_text) if error_text and status != "SUCCESS" else None
    if template is not None:
        run_props["error_template"] = template.template_id
    summary = f"run of {pipeline}: {status}" + (f" at {start}" if start else "")
    if error_text:
        summary += f" — {error_text[:300]}"
    out.nodes.append(
        NodeRow(
            NodeLabel.RUN,
            ref,
            SOURCE,
            collection,
            ref,
            name=f"{pipeline} {start or doc_id}",
            text=summary,
            props={k: v for k, v in run_props.items() if v is not None},
        )
    )
    out.nodes.append(
        NodeRow(
            NodeLabel.PIPELINE,
            pipeline,
            SOURCE,
            "_shared",
            pipeline,
            name=pipeline,
            text=f"pipeline {pipeline} ({flow_name(str(pipeline_raw))})",
            props={"display_name": flow_name(str(pipeline_raw))},
        )
    )
    out.rels += [RelRow(RelType.DESCRIBES, record_uid, run_uid), RelRow(RelType.OF, run_uid, pipe_uid)]
    if tech:
        tech_uid = make_uid(NodeLabel.TECHNOLOGY, tech.lower())
        out.nodes.append(
            NodeRow(NodeLabel.TECHNOLOGY, tech.lower(), SOURCE, "_shared", tech, name=tech, text=tech)
        )
        out.rels.append(RelRow(RelType.USES, pipe_uid, tech_uid))
    if template is not None:
        err_uid = make_uid(NodeLabel.ERROR, template.template_id)
        out.nodes.append(
            NodeRow(
                NodeLabel.ERROR,
                template.template_id,
                SOURCE,
                "_shared",
                template.template_id,
                name=template.template[:120],
                # the template is what is embedded; a raw example makes its masked values
                # ("return code 137", "ORA-01555 … segment 12") findable by full-text
                text=f"{template.template}\nexample: {error_text[:300]}",
                embed_text=template.template,
                props={"example": error_text[:500]},
            )
        )
        out.rels.append(RelRow(RelType.FAILED_WITH, run_uid, err_uid))
    for attr, label, rel in (
        (mapping.host, NodeLabel.HOST, RelType.RAN_ON),
        (mapping.environment, NodeLabel.ENVIRONMENT, RelType.IN_ENVIRONMENT),
    ):
        value = get(attr) if attr else None
        if value:
            key = str(value).strip().lower()
            out.nodes.append(NodeRow(label, key, SOURCE, "_shared", key, name=str(value), text=str(value)))
            out.rels.append(RelRow(rel, run_uid, make_uid(label, key)))
    return out


_MENTIONED = {
    "TECHNOLOGY": NodeLabel.TECHNOLOGY,
    "HOST": NodeLabel.HOST,
    "PIPELINE": NodeLabel.PIPELINE,
    "DELPHIX_OBJECT": NodeLabel.DELPHIX_KIND,
}


def mention_rows(record_uid: str, entities: Sequence[Entity]) -> tuple[list[NodeRow], list[RelRow]]:
    """Free text (an incident, an alert, a ticket) -> ``MENTIONS`` edges to the canonical nodes its
    entities name, created when missing (keys as the run extractor writes them, so an incident
    naming a host meets that host's runs). A Delphix object word ("job", "environment") counts
    only in a Delphix context (the text names Delphix) or as an acronym ("VDB"), and links only
    to a kind the API documentation already declared (monitoring does not create it)."""
    delphix = any(e.label == "TECHNOLOGY" and e.canonical.lower() == "delphix" for e in entities)
    nodes: dict[str, NodeRow] = {}
    kinds: set[str] = set()
    for ent in entities:
        label = _MENTIONED.get(ent.label)
        if label is None:
            continue
        if label is NodeLabel.DELPHIX_KIND and not (delphix or (ent.text.isupper() and len(ent.text) <= 5)):
            continue
        if label is NodeLabel.TECHNOLOGY:
            key, name = ent.canonical.lower(), ent.canonical
        elif label is NodeLabel.PIPELINE:
            key = name = normalise_name(ent.text)
        elif label is NodeLabel.HOST:
            key, name = ent.text.strip().lower(), ent.text.strip()
        else:
            key = name = ent.canonical
        if not key:
            continue
        uid = make_uid(label, key)
        if label is NodeLabel.DELPHIX_KIND:
            kinds.add(uid)
        else:
            nodes.setdefault(uid, NodeRow(label, key, SOURCE, "_shared", key, name=name, text=name))
    rels = [RelRow(RelType.MENTIONS, record_uid, uid) for uid in [*nodes, *sorted(kinds)]]
    return list(nodes.values()), rels

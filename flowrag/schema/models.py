"""Frozen rows that cross the boundary between extractors and the graph store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from flowrag.schema.ontology import NodeLabel, RelType, make_uid

__all__ = ["NodeRow", "PropValue", "RelRow", "content_hash", "flat_props", "flat_value"]

#: Property values the stores accept: scalars and lists of scalars (Neo4j's rule).
PropValue = str | int | float | bool | None | list[str] | list[int] | list[float]


def content_hash(*parts: object) -> str:
    """Stable hash of extracted content (json-canonical), 32 hex characters."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class NodeRow:
    """One node to upsert. ``key`` is the value of the label's key property."""

    label: NodeLabel
    key: str
    source: str
    scope: str
    source_id: str
    name: str = ""
    text: str = ""  # readable text: full-text indexed, shown as evidence
    embed_text: str | None = None  # text to embed (None = text); normalised for dedup
    props: dict[str, Any] = field(default_factory=dict)
    embedding: tuple[float, ...] | None = None
    hash: str = ""
    embed: bool = True  # False: an embedded label's node that is found by full-text and expansion only

    @property
    def uid(self) -> str:
        return make_uid(self.label, self.key)

    def computed_hash(self) -> str:
        return self.hash or content_hash(
            self.label.value, self.key, self.name, self.text, self.embed_text, self.props
        )


@dataclass(frozen=True)
class RelRow:
    type: RelType
    start_uid: str
    end_uid: str
    props: dict[str, Any] = field(default_factory=dict)


_SCALARS = (str, int, float, bool)


def flat_value(value: Any) -> Any:
    """A property value both stores accept: scalars, homogeneous scalar lists; anything else
    (maps, mixed or nested lists) is stored as its JSON text."""
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, list | tuple):
        items = list(value)
        if all(isinstance(v, str) for v in items):
            return items
        if all(isinstance(v, bool) for v in items) or all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in items
        ):
            return items
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def flat_props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: flat_value(v) for k, v in props.items() if v is not None}

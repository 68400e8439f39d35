"""GraphQL enums for the values a client passes: sources, node labels, run statuses and
relationship types. They are generated from the planner's sources, the ontology and the status
classes of the monitoring extractor, so they cannot drift from what the graph holds, and a wrong
value is a validation error that names the allowed ones rather than an empty answer.

Each enum value is the graph's own spelling (``mongo``, ``Pipeline``, ``FAILED``, ``IMPLEMENTS``),
the same as the strings the API returns, so a label read from one answer can be passed to the next."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from flowrag.answer.planner import SOURCES
from flowrag.extract.monitoring import STATUS_CLASSES
from flowrag.schema import ONTOLOGY, RelType

__all__ = ["LabelName", "RelationshipType", "RunStatus", "SourceName", "values"]


def _enum(name: str, members: Iterable[str], description: str) -> Any:
    members_enum: Any = Enum(name, {m: m for m in members})  # type: ignore[misc]
    return strawberry.enum(members_enum, name=name, description=description)


if TYPE_CHECKING:  # the resolvers receive enum members; mypy is told they are their string values
    SourceName = str
    LabelName = str
    RunStatus = str
    RelationshipType = str
else:
    SourceName = _enum("Source", SOURCES, "Which ingester wrote a node.")
    LabelName = _enum(
        "Label",
        (s.label.value for s in ONTOLOGY.labels if not s.system),
        "A node label of the ontology (docs/ontology.md).",
    )
    RunStatus = _enum(
        "RunStatus",
        (*STATUS_CLASSES, "UNKNOWN"),
        "The class a run's own status is read into, in any language or as a return code.",
    )
    RelationshipType = _enum(
        "RelationshipType", (r.value for r in RelType), "A relationship type of the ontology."
    )


def values(items: Sequence[Any] | None) -> list[str]:
    """The string values of enum members (what the stores and the answerer take)."""
    return [str(getattr(item, "value", item)) for item in items or ()]

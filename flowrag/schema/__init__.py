"""The ontology (pure data, no I/O) and the rows extractors produce."""

from flowrag.schema.models import NodeRow, RelRow, content_hash, flat_props, flat_value
from flowrag.schema.ontology import (
    BASE_LABEL,
    DELPHIX_OBJECTS,
    ONTOLOGY,
    PROVENANCE_PROPERTIES,
    SOURCE_LABELS,
    LabelSpec,
    NodeLabel,
    Ontology,
    RelSpec,
    RelType,
    make_uid,
    safe_identifier,
)

__all__ = [
    "BASE_LABEL",
    "DELPHIX_OBJECTS",
    "ONTOLOGY",
    "PROVENANCE_PROPERTIES",
    "SOURCE_LABELS",
    "LabelSpec",
    "NodeLabel",
    "NodeRow",
    "Ontology",
    "RelRow",
    "RelSpec",
    "RelType",
    "content_hash",
    "flat_props",
    "flat_value",
    "make_uid",
    "safe_identifier",
]

"""One root error; every failure a user can see is a subclass with a message naming the failing
item and, where there is one, the fix."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EmbeddingDimensionError",
    "FlowragError",
    "IngestError",
    "LLMError",
    "ModelError",
    "NotFoundError",
    "OntologyError",
    "PlanError",
    "ReadOnlyQueryError",
    "ReportError",
    "SourceError",
    "StoreError",
    "StoreUnavailableError",
    "UnsupportedOperationError",
]


class FlowragError(Exception):
    """Root of every error flowrag raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  hint: {hint}" if hint else message)


class ConfigError(FlowragError):
    """Invalid settings or command-line options."""


class PlanError(FlowragError):
    """A question's options name something the store does not hold (a source, a collection)."""


class OntologyError(FlowragError):
    """A label, relationship type or property name that the ontology does not define."""


class StoreError(FlowragError):
    """The graph store failed."""


class StoreUnavailableError(StoreError):
    """The graph store cannot be reached or opened."""


class EmbeddingDimensionError(StoreError):
    """Embeddings of one size are written to a vector index built for another size."""


class ReadOnlyQueryError(StoreError):
    """A query given to the read-only Cypher entry point tried to write."""


class UnsupportedOperationError(StoreError):
    """The selected store cannot do this (for example Cypher on the embedded store)."""


class NotFoundError(FlowragError):
    """A node or object asked for by id does not exist."""


class ModelError(FlowragError):
    """An embedding or NLP model is missing, corrupt or cannot be loaded."""


class SourceError(FlowragError):
    """An input source (database, file, URL, spec) is unreachable or malformed."""


class IngestError(FlowragError):
    """An ingestion run failed as a whole (item-level problems are reported, not raised)."""


class LLMError(FlowragError):
    """The LLM call failed after retries."""


class ReportError(FlowragError):
    """A report cannot be built or sent as asked (a day not over yet, no channel configured)."""

"""Embedded graph store (SQLite + usearch), the default for a first run."""

from flowrag.graph.embedded.store import EmbeddedStore

__all__ = ["EmbeddedStore"]

"""flowrag: knowledge-graph-first GraphRAG over monitoring data, source code and API docs."""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""Generated documentation: the ontology page (from the ontology) and the configuration reference
(from the settings model). `flowrag docs` writes them; a test fails when they drift."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from flowrag.schema.ontology import BASE_LABEL, ONTOLOGY, PROVENANCE_PROPERTIES

__all__ = ["configuration_markdown", "ontology_markdown"]


def ontology_markdown() -> str:
    lines = [
        "# Ontology",
        "",
        "Generated from `flowrag/schema/ontology.py` by `flowrag docs` — do not edit by hand.",
        "",
        f"Every node carries the label `{BASE_LABEL}` (unique `uid` = `Label:key`) and the provenance "
        f"properties {', '.join(f'`{p}`' for p in PROVENANCE_PROPERTIES)}.",
        "",
        "## Node labels",
        "",
        "| label | key property | embedded (vector index) | full-text properties | range-indexed | description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for spec in ONTOLOGY.labels:
        lines.append(
            f"| `{spec.label.value}` | `{spec.key}` | {'yes' if spec.embedded else ''} | "
            f"{', '.join(f'`{p}`' for p in spec.fulltext)} | {', '.join(f'`{p}`' for p in spec.indexed)} | "
            f"{spec.description}{' (system)' if spec.system else ''} |"
        )
    lines += ["", "## Relationship types", "", "| type | from | to | meaning |", "| --- | --- | --- | --- |"]
    for rel in ONTOLOGY.relationships:
        start = ", ".join(label.value for label in rel.start)
        end = "any" if len(rel.end) > 10 else ", ".join(label.value for label in rel.end)
        lines.append(f"| `{rel.type.value}` | {start} | {end} | {rel.description} |")
    return "\n".join(lines) + "\n"


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += _rows(annotation, f"{prefix}{name.upper()}__")
            continue
        default = field.get_default(call_default_factory=True)
        shown = (
            "(secret)"
            if "Secret" in str(annotation)
            else f"`{default}`"
            if default not in (None, "", [])
            else ""
        )
        if name == "data_dir":
            shown = "`~/.local/share/flowrag`"
        if name == "timezone":
            shown = "the machine's zone"
        rows.append(f"| `{prefix}{name.upper()}` | {shown} | {field.description or ''} |")
    return rows


def configuration_markdown() -> str:
    from flowrag.settings import Settings

    lines = [
        "# Configuration",
        "",
        "Generated from `flowrag/settings.py` by `flowrag docs` — do not edit by hand. Every setting is an",
        "environment variable (or a line of `.env`); nested sections use `__`.",
        "",
        "| variable | default | meaning |",
        "| --- | --- | --- |",
        *_rows(Settings, "FLOWRAG_"),
    ]
    return "\n".join(lines) + "\n"

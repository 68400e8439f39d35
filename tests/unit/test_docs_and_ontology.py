"""Generated docs stay in sync; the ontology is consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowrag.errors import OntologyError
from flowrag.schema import ONTOLOGY, NodeLabel, RelType, safe_identifier
from flowrag.schema.docs import browser_guide, browser_style, configuration_markdown, ontology_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_generated_pages_are_up_to_date() -> None:
    assert (DOCS / "ontology.md").read_text("utf-8") == ontology_markdown(), "run `flowrag docs`"
    assert (DOCS / "configuration.md").read_text("utf-8") == configuration_markdown(), "run `flowrag docs`"
    assert (DOCS / "neo4j-browser.grass").read_text("utf-8") == browser_style(), "run `flowrag docs`"
    assert (DOCS / "neo4j-browser.md").read_text("utf-8") == browser_guide(), "run `flowrag docs`"


def test_the_browser_style_gives_every_domain_label_a_colour_and_a_caption() -> None:
    import re

    style = browser_style()
    styled = dict(re.findall(r"node\.(\w+) \{ color: (#[0-9a-f]{6});", style))
    domain = {s.label.value for s in ONTOLOGY.labels if not s.system}
    assert domain <= set(styled), domain - set(styled)
    assert style.count("{") == style.count("}") and "caption: '{name}'" in style


def test_every_label_and_type_is_described_and_safe() -> None:
    assert {s.label for s in ONTOLOGY.labels} == set(NodeLabel)
    assert {r.type for r in ONTOLOGY.relationships} == set(RelType)
    for spec in ONTOLOGY.labels:
        safe_identifier(spec.label.value)
        assert spec.key and spec.description
    assert NodeLabel.ENDPOINT in ONTOLOGY.embedded_labels
    assert "name" in ONTOLOGY.fulltext_properties


@pytest.mark.parametrize("bad", ["Pipeline) DETACH DELETE (n", "", "1abc", "a-b", "x" * 65])
def test_unsafe_identifiers_are_refused(bad: str) -> None:
    with pytest.raises(OntologyError):
        safe_identifier(bad)


def test_unknown_names_raise_ontology_error() -> None:
    with pytest.raises(OntologyError, match="unknown node label 'Nope'"):
        ONTOLOGY.label("Nope")
    with pytest.raises(OntologyError, match="unknown relationship type"):
        ONTOLOGY.rel_type("NOPE")

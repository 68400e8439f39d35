"""The graph in Neo4j Browser, as a user opens it: the Browser served by the tests' Neo4j 5.26,
driven in headless Chromium, styled with docs/neo4j-browser.grass as docs/neo4j-browser.md says
(`:style` followed by the file's text), then one of the guide's saved queries over a graph that
flowrag ingested. The nodes must be drawn in the colours the style gives their labels and
captioned by name; the screenshot is a test artefact (docs/neo4j-browser.png is one of them)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import connected_neo4j_store
from tests.integration.test_answer import load_example
from tests.support.neo4j_server import Neo4jServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _saved_query(title: str) -> str:
    """A query of the generated guide, by its heading."""
    guide = (ROOT / "docs" / "neo4j-browser.md").read_text()
    section = guide.split(f"## {title}", 1)[1]
    return " ".join(section.split("```cypher", 1)[1].split("```", 1)[0].split())


def _label_colours() -> dict[str, str]:
    grass = (ROOT / "docs" / "neo4j-browser.grass").read_text()
    return {
        m.group(1): m.group(2).lower() for m in re.finditer(r"node\.(\w+) \{ color: (#[0-9a-fA-F]{6})", grass)
    }


@pytest.fixture
async def seeded(neo4j_server: Neo4jServer, cached_embedder: Any) -> Neo4jServer:
    store = await connected_neo4j_store(neo4j_server)
    await store.wipe()
    await load_example(store, cached_embedder)
    return neo4j_server


def test_the_style_and_a_saved_query_in_neo4j_browser(seeded: Neo4jServer) -> None:
    from playwright.sync_api import sync_playwright

    if os.environ.get("FLOWRAG_TEST_NEO4J_URI"):
        pytest.skip("an external Neo4j (FLOWRAG_TEST_NEO4J_URI): its Browser is not the tests' to drive")
    grass = (ROOT / "docs" / "neo4j-browser.grass").read_text()
    query = _saved_query("Code that calls a documented Delphix endpoint")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{seeded.http_url}/browser/?dbms={seeded.bolt_uri}&preselectAuthMethod=NO_AUTH")
            page.wait_for_selector("text=Connected to Neo4j", timeout=90_000)

            def run(command: str) -> None:
                page.click(".monaco-editor")
                page.keyboard.press("Control+A")
                page.keyboard.press("Delete")
                page.keyboard.insert_text(command)
                page.keyboard.press("Control+Enter")

            run(":style " + grass)
            page.wait_for_selector("text=node.Function", timeout=30_000)  # the :style frame shows it
            assert page.query_selector("text=Could not parse") is None
            run(query)
            page.wait_for_selector("svg g.node circle.b-outline", timeout=90_000)
            page.wait_for_timeout(3000)  # the force layout settles
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "neo4j-browser.png"))
            fills = set(
                page.eval_on_selector_all(
                    "svg g.node circle.b-outline", "els => els.map(e => e.getAttribute('fill').toLowerCase())"
                )
            )
            captions = [
                t.strip()
                for t in page.eval_on_selector_all(
                    "svg g.node text.caption", "els => els.map(e => e.textContent)"
                )
            ]
        finally:
            chromium.close()
    colours = _label_colours()
    # every label the query returns is drawn in its own colour, none in the shared label's grey
    assert fills == {colours[label] for label in ("Function", "HttpCall", "Endpoint", "DelphixKind")}, fills
    assert colours["FlowragNode"] not in fills
    assert "VDB" in captions and any(c.startswith(("GET", "POST")) for c in captions)  # names, not ids
    assert not any(c.startswith(("Function:", "Endpoint:")) for c in captions)
    assert errors == []

"""The web page at `/`, in headless Chromium (Debian's package, driven by Playwright) against a real
uvicorn with API keys: log in (and be refused without a key), ask a seed question and see the
answer and its citations, expand a node of the evidence graph, see the dashboard's counts, start an
ingestion and watch it finish. Screenshots go to test-artifacts/."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.test_graphql import (
    READ,
    ROOT,
    WRITE,
    server,  # noqa: F401 - the same seeded uvicorn, a fixture of this module too
)

ARTIFACTS = ROOT / "test-artifacts"
UI = ROOT / "flowrag" / "api" / "static" / "ui"


def test_the_committed_build_matches_its_sources() -> None:
    """web/build.mjs writes a digest of its sources next to the bundle; a source changed without a
    rebuild (`cd web && npm ci && npm run build`) fails here."""
    info = json.loads((UI / "build-info.json").read_text())
    digest = hashlib.sha256()
    for name in info["files"]:
        digest.update(name.encode() + b"\0")
        digest.update((ROOT / "web" / name).read_bytes())
        digest.update(b"\0")
    listed = {"index.html", "package.json", "package-lock.json", "build.mjs"}
    listed |= {f"src/{p.name}" for p in (ROOT / "web" / "src").iterdir()}
    assert set(info["files"]) == listed, "a web source file is not in the build digest: rebuild"
    assert digest.hexdigest() == info["sha256"], "web/ changed since the committed build: run npm run build"
    import gzip

    size = len(gzip.compress((UI / "app.js").read_bytes())) + len(
        gzip.compress((UI / "app.css").read_bytes())
    )
    assert size <= 1_000_000


@pytest.fixture(scope="module")
def site(server: str) -> str:  # noqa: F811 - the imported fixture, requested
    return server


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[Any]:
    # after the site: Playwright's sync API keeps an event loop running in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def _page(browser: Any, site: str, key: str | None) -> Any:
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{site}/#/login")
    page.wait_for_selector("#api-key")
    if key is not None:
        page.fill("#api-key", key)
        page.click("#login-button")
        page.wait_for_selector("#question")
    return page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=True)


def test_without_a_key_the_page_asks_for_one_and_refuses_a_wrong_one(browser: Any, site: str) -> None:
    page = browser.new_page()
    started = time.perf_counter()
    page.goto(f"{site}/#/dashboard")
    page.wait_for_selector("#api-key", timeout=30_000)  # the dashboard's query was refused: login
    assert time.perf_counter() - started < 10
    page.fill("#api-key", "not-a-key")
    page.click("#login-button")
    page.wait_for_selector("p.error")
    assert "refus" in page.inner_text("p.error").lower()
    assert page.evaluate("sessionStorage.getItem('flowrag.apiKey')") is None
    page.close()


def test_ask_a_seed_question_see_citations_and_expand_the_graph(browser: Any, site: str) -> None:
    page = _page(browser, site, READ)
    assert page.evaluate("sessionStorage.getItem('flowrag.apiKey')") == READ  # this tab only
    assert page.evaluate("localStorage.getItem('flowrag.apiKey')") is None
    page.click("text=Quels flows ont échoué hier et pourquoi ?")
    page.wait_for_selector("#citations li", timeout=180_000)
    answer = page.inner_text("#answer-text")
    assert "FAILED" in answer or "échec" in answer
    citations = page.inner_text("#citations")
    assert "runs/run-" in citations
    assert "aggregate" in page.inner_text("#plan") and "hier" in page.inner_text("#plan")
    href = page.get_attribute("#open-browser", "href")
    assert (
        href.startswith("http://127.0.0.1:7474/browser/?cmd=edit&arg=")
        and "MATCH" in httpx.URL(href).params["arg"]
    )
    page.wait_for_function(
        "document.getElementById('evidence-graph').cy && document.getElementById('evidence-graph').cy.nodes().length > 0"
    )
    before = page.evaluate("document.getElementById('evidence-graph').cy.nodes().length")
    page.locator("#evidence-graph").scroll_into_view_if_needed()
    for attempt in range(3):  # a real click on the node; under load the page may still be settling
        box = page.locator("#evidence-graph").bounding_box()
        position = page.evaluate(
            "(() => { const cy = document.getElementById('evidence-graph').cy;"
            " const n = cy.nodes().filter(n => n.data('label') === 'Pipeline')[0] || cy.nodes()[0];"
            " return n.renderedPosition(); })()"
        )
        page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
        try:
            page.wait_for_function(
                "Number(document.getElementById('evidence-graph').dataset.expanded || 0) >= 1", timeout=20_000
            )
            break
        except Exception:
            if attempt == 2:
                raise
    after = page.evaluate("document.getElementById('evidence-graph').cy.nodes().length")
    assert after > before  # the pipeline's runs and technology came in
    _shot(page, "ask")
    assert page.errors == []
    page.close()


def _gql(site: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    answer = httpx.post(
        f"{site}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"X-API-Key": READ},
        timeout=60,
    ).json()
    assert not answer.get("errors"), answer
    return answer["data"]


def test_the_dashboard_shows_the_days_failures(browser: Any, site: str) -> None:
    report = httpx.post(
        f"{site}/graphql",
        json={"query": "{ report { day start end failures { name count } } }"},
        headers={"X-API-Key": READ},
        timeout=60,
    ).json()["data"]["report"]
    runs = httpx.post(
        f"{site}/graphql",
        json={
            "query": "query($f: String, $t: String) { runs(status: FAILED, from: $f, to: $t, first: 500) { nodes { props } } }",
            "variables": {"f": report["start"], "t": report["end"]},
        },
        headers={"X-API-Key": READ},
        timeout=60,
    ).json()["data"]["runs"]["nodes"]
    expected: dict[str, int] = {}
    for run in runs:  # counted here from the runs themselves, not from the report
        expected[run["props"]["pipeline"]] = expected.get(run["props"]["pipeline"], 0) + 1
    page = _page(browser, site, READ)
    page.goto(f"{site}/#/dashboard")
    page.wait_for_selector("#runs-chart")
    shown: dict[str, int] = {}
    if expected:
        page.wait_for_selector("#failing-flows tr[data-flow]")
        for row in page.query_selector_all("#failing-flows tr[data-flow]"):
            shown[row.get_attribute("data-flow")] = int(row.query_selector("td.count").inner_text())
    assert shown == expected
    assert page.input_value("#day") == report["day"]

    # the chart's period: the page asks the report for that many days
    def asks_30_days(request: Any) -> bool:
        if not request.url.endswith("/graphql") or not request.post_data:
            return False
        return bool(json.loads(request.post_data).get("variables", {}).get("n") == 30)

    with page.expect_request(asks_30_days):
        page.select_option("#period", "30")
        page.click("form.row button[type=submit]")
    page.wait_for_selector("#runs-chart")
    _shot(page, "dashboard")

    # a week of failures in one collection, counted here from the runs of that week
    week = _gql(site, '{ report(days: 7, collections: ["runs"]) { start end } }')["report"]
    weekly: dict[str, int] = {}
    for run in _gql(
        site,
        "query($f: String, $t: String) { runs(status: FAILED, from: $f, to: $t, first: 500) { nodes { props } } }",
        {"f": week["start"], "t": week["end"]},
    )["runs"]["nodes"]:
        if run["props"]["collection"] == "runs":
            weekly[run["props"]["pipeline"]] = weekly.get(run["props"]["pipeline"], 0) + 1
    page.select_option("#span", "7")
    page.check("#col-runs")
    page.click("form.row button[type=submit]")
    page.wait_for_function(
        "document.querySelector('#scope') && document.querySelector('#scope').textContent.includes('runs')"
    )
    shown = {
        row.get_attribute("data-flow"): int(row.query_selector("td.count").inner_text())
        for row in page.query_selector_all("#failing-flows tr[data-flow]")
    }
    assert shown == weekly and weekly
    assert "→" in page.inner_text("#scope")
    assert page.errors == []
    page.close()


def test_start_an_ingestion_and_watch_it_finish(browser: Any, site: str) -> None:
    page = _page(browser, site, WRITE)
    page.goto(f"{site}/#/sources")
    page.wait_for_selector("#sources table")
    assert "Delphix DCT API" in page.inner_text("#sources") and "vdb-tools" in page.inner_text("#sources")
    # the mapping each collection was read by (the bundled runs: plain field names)
    runs = "#mappings tr[data-collection='runs']"
    assert page.inner_text(f"{runs} td[data-concept='pipeline']") == "pipeline"
    assert page.inner_text(f"{runs} td[data-concept='status']") == "status"
    page.select_option("#ingest-kind", "openapi")
    page.fill("#ingest-location", str(ROOT / "flowrag" / "examples" / "data" / "dct-subset.yaml"))
    page.fill("#ingest-name", "dct-again")
    page.click("#ingest-start")
    page.wait_for_selector("#jobs li[data-state='SUCCEEDED']", timeout=300_000)
    assert "openapi" in page.inner_text("#jobs li[data-state='SUCCEEDED']")
    _shot(page, "sources")
    page.close()
    reader = _page(browser, site, READ)  # a read key cannot start one
    reader.goto(f"{site}/#/sources")
    reader.wait_for_selector("#ingest-start")
    reader.fill("#ingest-location", "https://example.org/spec.yaml")
    reader.click("#ingest-start")
    reader.wait_for_selector("#api-key, p.error", timeout=30_000)
    reader.close()


def test_the_page_is_french_by_default_and_english_on_request(browser: Any, site: str) -> None:
    page = _page(browser, site, READ)
    assert page.inner_text("nav").startswith("flowrag")
    assert "Tableau de bord" in page.inner_text("nav")
    page.select_option("#lang", "en")
    page.wait_for_selector("nav >> text=Dashboard")
    assert page.evaluate("document.documentElement.lang") == "en"
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, textarea, select')]"
        ".filter(c => !(c.getAttribute('aria-label') || (c.labels && c.labels.length))).length"
    )
    assert unlabelled == 0, "every control has a label"
    page.close()

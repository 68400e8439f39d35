"""Schemathesis generates requests for every query and mutation of the checked-in SDL and sends
them, with the write key, to a real uvicorn serving a seeded embedded store. Each must get a
GraphQL answer (data or errors), never a 5xx and never a traceback; the server stays healthy.
Ingestion roots are empty and only 127.0.0.1 is allowed, so generated locations cannot make the
server read this checkout or the network."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings

from flowrag.api.app import create_app
from tests.api.test_graphql import WRITE, _seed, settings_for
from tests.fuzz.stats import examples, tried
from tests.support.uvicorn_thread import serve

ROOT = Path(__file__).resolve().parents[2]
schema = schemathesis.graphql.from_path(ROOT / "docs" / "schema.graphql")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("fuzz-api")
    config = settings_for(tmp, models_dir)
    config.api.ingest_roots = []
    config.api.max_root_fields = 10
    loop = asyncio.new_event_loop()
    loop.run_until_complete(_seed(config))
    loop.close()
    with serve(create_app(config)) as url:
        yield url


@schema.parametrize()
@settings(max_examples=examples(12), deadline=None)
def test_generated_requests_get_a_graphql_answer(case: Any, fuzz_server: str) -> None:
    tried()
    response = httpx.post(
        f"{fuzz_server}/graphql", json={"query": case.body}, headers={"X-API-Key": WRITE}, timeout=120
    )
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    assert "data" in body or "errors" in body, body
    for error in body.get("errors") or []:
        assert "Traceback" not in error.get("message", ""), error
    assert httpx.get(f"{fuzz_server}/health", timeout=30).status_code == 200

"""The API's answers to hostile requests, through the real ASGI app: ingestion mutations bounded
by the source policy, root-field and argument limits, streamed body limit, WebSocket auth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from flowrag.api.app import create_app, hash_key
from flowrag.settings import Settings, StoreKind

READ, WRITE = "read-key-0123456789", "write-key-0123456789"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("api-security")
    settings = Settings(data_dir=tmp)
    settings.store.kind = StoreKind.EMBEDDED
    settings.store.path = tmp / "graph"
    settings.api.api_keys = [f"read:{hash_key(READ)}", f"write:{hash_key(WRITE)}"]
    settings.api.max_body_bytes = 10_000
    (tmp / "models").symlink_to(models_dir, target_is_directory=True)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def post(
    client: TestClient, query: str, key: str = WRITE, variables: dict[str, object] | None = None
) -> dict:
    response = client.post(
        "/graphql", headers={"X-API-Key": key}, json={"query": query, "variables": variables or {}}
    )
    return dict(response.json())


@pytest.mark.parametrize(
    "mutation",
    [
        'ingestCode(location: "/etc") { id }',
        'ingestCode(location: "/no/such/dir") { id }',
        'ingestCode(location: "file:///etc") { id }',
        'ingestOpenApi(location: "/etc/passwd") { id }',
        'ingestOpenApi(location: "http://127.0.0.1:7687/spec.yaml") { id }',
        'ingestHtml(location: "http://169.254.169.254/latest/meta-data/") { id }',
        'ingestMongo(uri: "mongodb://127.0.0.1:27017", db: "x") { id }',
    ],
)
def test_ingestion_mutations_cannot_read_files_or_reach_internal_hosts(
    client: TestClient, mutation: str
) -> None:
    result = post(client, f"mutation {{ {mutation} }}")
    assert result["data"] is None
    error = result["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["message"].startswith("location not allowed")  # the same words whether it exists or not
    jobs = post(client, "{ jobs { id } }", READ)["data"]["jobs"]
    assert jobs == []  # nothing was started


def test_root_fields_and_arguments_are_bounded(client: TestClient) -> None:
    many = " ".join(f"a{i}: collections {{ name }}" for i in range(200))
    result = post(client, f"{{ {many} }}", READ)
    assert "at most 10 root fields" in result["errors"][0]["message"]
    for top_k in (-5, 0, 101):
        bad = post(client, f'{{ search(text: "vdb", topK: {top_k}) {{ score }} }}', READ)
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    huge = post(client, '{ search(text: "vdb", topK: 2000000000) { score } }', READ)
    assert huge["errors"] and huge.get("data") is None


def test_the_cost_of_a_request_is_bounded_introspection_included(client: TestClient) -> None:
    from graphql import get_introspection_query

    aliases = " ".join(f"a{i}: name" for i in range(800))
    bomb = post(client, f"{{ runs(first: 500) {{ nodes {{ {aliases} }} }} }}", READ)
    assert bomb.get("data") is None
    assert (
        "costs 400,501" in bomb["errors"][0]["message"]
        and "over the limit of 50,000" in bomb["errors"][0]["message"]
    )
    nested = "__schema { types { fields { type { " + "ofType { " * 40 + "name" + " }" * 40 + " } } } }"
    deep = post(client, f"{{ {nested} }}", READ)
    assert deep.get("data") is None and "over the limit" in deep["errors"][0]["message"]
    standard = post(client, get_introspection_query(descriptions=True), READ)  # what GraphiQL sends
    assert "errors" not in standard and standard["data"]["__schema"]["queryType"]["name"] == "Query"
    page = post(client, "{ runs(first: 500) { total nodes { uid name text props } } }", READ)
    assert "errors" not in page


def test_a_chunked_body_over_the_limit_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ collections { name } }", "x": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        "/graphql", headers={"X-API-Key": READ, "content-type": "application/json"}, content=chunks()
    )
    assert response.status_code == 413


def test_websocket_subscriptions_authenticate_through_connection_init(client: TestClient) -> None:
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_text(json.dumps({"type": "connection_init", "payload": {"apiKey": READ}}))
        assert json.loads(ws.receive_text())["type"] == "connection_ack"
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_text(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 4403


def test_every_request_has_an_id_in_its_response_and_its_json_log_line(client: TestClient) -> None:
    import logging

    from flowrag.logs import JsonFormatter

    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:  # formatted while the request is served
            lines.append(self.format(record))

    handler = Capture()
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("flowrag.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        given = client.get("/health/live", headers={"X-Request-ID": "trace-42.a"})
        made = client.get("/health/live")
        forged = client.get("/health/live", headers={"X-Request-ID": 'x" level="CRITICAL'})
    finally:
        access.removeHandler(handler)
    assert given.headers["x-request-id"] == "trace-42.a"
    assert len(made.headers["x-request-id"]) == 32  # a new one
    assert (
        forged.headers["x-request-id"] != 'x" level="CRITICAL' and len(forged.headers["x-request-id"]) == 32
    )
    entries = [json.loads(line) for line in lines]
    assert [e["request_id"] for e in entries] == [
        "trace-42.a",
        made.headers["x-request-id"],
        forged.headers["x-request-id"],
    ]
    assert (
        entries[0]["path"] == "/health/live" and entries[0]["status"] == 200 and entries[0]["level"] == "INFO"
    )

"""Path-template matching for HttpCall -> Endpoint, and secret redaction shapes."""

from __future__ import annotations

import pytest

from flowrag.extract.secrets import REDACTED, redact, redact_env
from flowrag.ingest.links import match_endpoint, normalise_path

ENDPOINTS = {
    "POST": [
        (normalise_path("/vdbs/{vdbId}/refresh_by_snapshot"), "refresh"),
        (normalise_path("/vdbs"), "create"),
    ],
    "GET": [(normalise_path("/vdbs"), "list"), (normalise_path("/vdbs/{vdbId}"), "get")],
}


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("POST", "{base_url}/v3/vdbs/{vdb_id}/refresh_by_snapshot", "refresh"),
        ("POST", "https://dct.bank.internal/v3/vdbs/vdb-42/refresh_by_snapshot", "refresh"),
        ("POST", "/api/v3/vdbs/:vdbId/refresh_by_snapshot?wait=true", "refresh"),
        ("GET", "/v3/vdbs/1234", "get"),
        ("GET", "/v3/vdbs", "list"),
        ("DELETE", "/v3/vdbs/1", None),
        ("GET", "/v3/dsources", None),
    ],
)
def test_http_calls_match_documented_endpoints(method: str, url: str, expected: str | None) -> None:
    assert match_endpoint(method, normalise_path(url), ENDPOINTS) == expected


@pytest.mark.parametrize(
    "text",
    [
        'password = "hunter2-very-secret"',
        "API_KEY: abcd1234efgh5678",
        'headers = {"Authorization": "Bearer eyJhbGciOi.JIUzI1NiIsInR5cCI6.IkpXVCJ9abc"}',
        "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "jdbc = 'postgresql://app:S3cr3tPass@db:5432/x'",
        "aws_key = AKIAABCDEFGHIJKLMNOP",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
        "client_secret: 'zyx987wvu654'",
    ],
)
def test_planted_secrets_are_redacted(text: str) -> None:
    out = redact(text)
    assert REDACTED in out
    for secret in ("hunter2", "abcd1234", "JIUzI1Ni", "ghp_abc", "S3cr3t", "AKIAABCD", "MIIEow", "zyx987"):
        assert secret not in out


def test_variables_and_env_files() -> None:
    assert redact("self.api_key = api_key") == "self.api_key = api_key"
    assert redact_env("A=1\n# comment\nB = two\n") == f"A={REDACTED}\n# comment\nB ={REDACTED}"


def test_flows_depend_on_the_objects_their_name_or_their_configuration_names() -> None:
    from flowrag.graph.port import StoredNode
    from flowrag.ingest.links import _config_links, _depends_links, distinctive

    def node(label: str, key: str, name: str, text: str = "", **props: object) -> StoredNode:
        return StoredNode(f"{label}:{key}", label, key, name, text, "x", "x", "", "", "", "", dict(props))

    names = {("orders", "qa"): {"Vdb:e/1"}, ("ledger",): {"Vdb:e/2"}, ("customers", "dev"): {"Vdb:e/3"}}
    assert (
        not distinctive("qa")
        and not distinctive("prod")
        and distinctive("ledger")
        and distinctive("orders_qa")
    )
    flows = [node("Pipeline", "refresh_orders_qa", "refresh_orders_qa"), node("Pipeline", "orders", "orders")]
    assert [(r.start_uid, r.end_uid) for r in _depends_links(flows, names)] == [
        ("Pipeline:refresh_orders_qa", "Vdb:e/1")
    ]
    chunks = [
        node("DocChunk", "r/f.yaml#0", "nightly_load", "nightly_load:\n  vdb: customers_dev\n", kind="yaml"),
        node("DocChunk", "r/README.md#0", "nightly_load", "see customers_dev", kind="markdown"),
    ]
    rels = _config_links(chunks, names, {"nightly_load": "Pipeline:nightly_load"})
    assert {(r.type.value, r.start_uid, r.end_uid) for r in rels} == {
        ("MENTIONS", "DocChunk:r/f.yaml#0", "Vdb:e/3"),
        ("DEPENDS_ON", "Pipeline:nightly_load", "Vdb:e/3"),
    }

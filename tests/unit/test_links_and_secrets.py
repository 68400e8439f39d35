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

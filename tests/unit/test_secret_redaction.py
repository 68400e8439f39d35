"""Planted secrets of many kinds, in code text and in monitoring documents: none survives."""

from __future__ import annotations

import json

import pytest

from flowrag.extract.code import extract_file
from flowrag.extract.monitoring import FieldMapping, extract_document
from flowrag.extract.secrets import redact, redact_value
from flowrag.models.vocabulary import load_vocabulary

SECRETS = [
    ("AKIAABCDEFGHIJKLMNOP", "aws_key_id = AKIAABCDEFGHIJKLMNOP"),
    ("wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("xoxb-1234567890-abcdefghij", "slack xoxb-1234567890-abcdefghij"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("AIzaSyA-1234567890abcdefghijklmnopqrstu", "key=AIzaSyA-1234567890abcdefghijklmnopqrstu"),
    (
        "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    ),
    ("s3cr3t-Pa55", "DB_PASS=s3cr3t-Pa55"),
    ("correct horse, battery staple", 'password = "correct horse, battery staple"'),
    ("hunter2hunter2", 'client.login("admin", "hunter2hunter2")'),
    ("pa55w0rd", "mongodb://svc:pa55w0rd@db.bank.lan:27017/monitoring"),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    ),
    ("apk 1.abcdefghijklmnop", "Authorization: apk 1.abcdefghijklmnop"),
]


@pytest.mark.parametrize(("secret", "text"), SECRETS)
def test_code_text_keeps_no_secret(secret: str, text: str) -> None:
    assert secret not in redact(text)
    assert redact(redact(text)) == redact(text)


def test_plain_text_is_left_alone() -> None:
    for text in ("api_key = api_key", "the password policy requires 12 characters", "GET /vdbs/{vdbId}"):
        assert redact(text) == text


def test_a_monitoring_document_stores_no_secret() -> None:
    doc = {
        "_id": "r1",
        "pipeline": "refresh_orders_qa",
        "status": "FAILED",
        "error": "login failed for mongodb://svc:pa55w0rd@db.bank.lan:27017 with token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "config": {"db_password": "plain-value-1", "apiKey": "k-123456", "user": "svc"},
        "env": {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"},
        "notes": ["ok", "password: 'two words'"],
    }
    mapping = FieldMapping(pipeline="pipeline", status="status", error="error")
    out = extract_document(doc, "runs", mapping, load_vocabulary())
    stored = json.dumps([(n.text, n.embed_text, n.props) for n in out.nodes], default=str)
    for secret in (
        "pa55w0rd",
        "ghp_abcdefghijklmnopqrstuvwxyz",
        "plain-value-1",
        "k-123456",
        "wJalrXUtnFEMI",
        "two words",
    ):
        assert secret not in stored, secret
    assert "refresh_orders_qa" in stored and "svc" in stored  # the rest is kept
    assert redact_value("config.token", 12345) == "<redacted>"


def test_a_config_file_in_a_repository_stores_no_secret() -> None:
    text = 'db:\n  password: "s3cr3t with spaces"\n  host: db01\nslack: https://hooks.slack.com/services/T1/B2/abcdef\n'
    out = extract_file("r", "config/app.yaml", text)
    stored = json.dumps([(n.text, n.props) for n in out.nodes], default=str)
    assert "s3cr3t with spaces" not in stored and "hooks.slack.com/services/T1" not in stored


def test_the_keyword_gate_covers_every_keyword_of_the_detector() -> None:
    from detect_secrets.plugins.keyword import DENYLIST

    from flowrag.extract.secrets import KEYWORD_HINTS

    # a detect-secrets upgrade that adds a keyword none of these words covers fails here
    assert all(any(hint in word.replace("_?", "_") for hint in KEYWORD_HINTS) for word in DENYLIST)


def test_names_and_ids_are_not_redacted() -> None:
    for text in (
        "host: spark-node-3; run-00000042 job_1445144423722_0020",
        "attempt_1445144423722_0020_m_000000_0 on container_1445144423722_0020_01_000001",
        "commit 3f8a2b1 of 2026-11-30T07:00:00Z",
        "pwd = dbPassword",
        "password = getPassword()",
    ):
        assert redact(text) == text


def test_the_one_pass_entropy_is_detect_secrets_own() -> None:
    """The fast entropy gives the very figure detect-secrets' plugin computes (same charset, same
    length), on tokens, ids, dates and text with characters outside the charset."""
    import random
    import string

    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    from flowrag.extract.secrets import charset_entropy

    plugin = Base64HighEntropyString()
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "+/=_-.:é "
    samples = ["", "a", "1-ORACLE_DB_CONTAINER-100", "2026-11-29T22:13:02.000Z", "AKIAIOSFODNN7EXAMPLE"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))) for _ in range(300)]
    for text in samples:
        expected = plugin.calculate_shannon_entropy(text) if text else 0.0
        assert abs(charset_entropy(text, frozenset(plugin.charset)) - expected) < 1e-9, text


def test_a_field_holding_one_random_token_is_redacted_and_an_object_id_is_not() -> None:
    from flowrag.extract.secrets import REDACTED, redact_value

    assert redact_value("trace", "q7Xv2PzR9LmW4tK8bN3sY6cH1dF5gJ0a") == REDACTED
    assert redact_value("id", "1-ORACLE_DB_CONTAINER-100") == "1-ORACLE_DB_CONTAINER-100"
    assert redact_value("when", "2026-11-29T22:13:02.000Z") == "2026-11-29T22:13:02.000Z"

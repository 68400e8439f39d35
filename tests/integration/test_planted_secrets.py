"""A planted-secret corpus: 60 kinds of credentials, each placed as a real file, monitoring
document, OpenAPI spec and HTML page would hold it, ingested through the real ingesters into
both stores. Then every stored name, text and property is searched for the secret: none is
stored. Values are generated here (seeded) in each provider's format, so the repository holds no
credential-shaped literal."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowrag.graph.port import GraphStore, all_nodes
from flowrag.ingest.code import ingest_code
from flowrag.ingest.html import ingest_html
from flowrag.ingest.monitoring import ingest_json_dump
from flowrag.ingest.openapi import ingest_openapi
from flowrag.models.vocabulary import load_vocabulary
from flowrag.schema import ONTOLOGY

_rng = random.Random(20261201)
UPPER, LOWER, DIGITS = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UPPER + LOWER + DIGITS
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def _r(chars: str, n: int) -> str:
    return "".join(_rng.choice(chars) for _ in range(n))


def _pem(kind: str) -> str:
    body = "\n".join(_r(B64, 64) for _ in range(4))
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----"


def _jwt() -> str:
    return "eyJhbGciOiJIUzI1NiJ9." + _r(ALNUM + "-_", 40) + "." + _r(ALNUM + "-_", 43)


# (kind, secret value, how the secret sits in a line of text)
Kind = tuple[str, str, Callable[[str], str]]
KINDS: list[Kind] = [
    ("aws access key id", "AKIA" + _r(UPPER + DIGITS, 16), lambda v: f"AWS_ACCESS_KEY_ID={v}"),
    (
        "aws session key id",
        "ASIA" + _r(UPPER + DIGITS, 16),
        lambda v: f"assumed role with key {v} in eu-west-3",
    ),
    ("aws secret key", _r(B64, 40), lambda v: f"aws_secret_access_key = {v}"),
    (
        "github classic token",
        "ghp_" + _r(ALNUM, 36),
        lambda v: f"git clone https://{v}@github.com/bank/flows",
    ),
    ("github oauth token", "gho_" + _r(ALNUM, 36), lambda v: f"oauth token {v} expired"),
    ("github app token", "ghs_" + _r(ALNUM, 36), lambda v: f"installation token {v}"),
    (
        "github fine-grained token",
        "github_pat_" + _r(ALNUM, 22) + "_" + _r(ALNUM, 59),
        lambda v: f"using {v}",
    ),
    ("gitlab token", "glpat-" + _r(ALNUM, 20), lambda v: f"GITLAB {v} refused"),
    ("slack bot token", f"xoxb-{_r(DIGITS, 11)}-{_r(DIGITS, 12)}-{_r(ALNUM, 24)}", lambda v: f"slack {v}"),
    (
        "slack user token",
        f"xoxp-{_r(DIGITS, 11)}-{_r(DIGITS, 12)}-{_r(LOWER + DIGITS, 32)}",
        lambda v: f"as {v}",
    ),
    (
        "slack webhook",
        f"https://hooks.slack.com/services/T{_r(UPPER + DIGITS, 8)}/B{_r(UPPER + DIGITS, 8)}/{_r(ALNUM, 24)}",
        lambda v: f"posting to {v}",
    ),
    (
        "teams webhook",
        f"https://bank.webhook.office.com/webhookb2/{_r(HEX, 8)}-{_r(HEX, 4)}/IncomingWebhook/{_r(HEX, 32)}",
        lambda v: f"teams {v}",
    ),
    ("stripe live key", "sk_live_" + _r(ALNUM, 24), lambda v: f"charge with {v}"),
    ("stripe restricted key", "rk_live_" + _r(ALNUM, 24), lambda v: f"restricted {v}"),
    ("stripe test key", "sk_test_" + _r(ALNUM, 24), lambda v: f"test mode {v}"),
    ("google api key", "AIza" + _r(ALNUM + "-_", 35), lambda v: f"maps?key={v}"),
    ("jwt", _jwt(), lambda v: f"token was {v}"),
    ("rsa private key", _pem("RSA PRIVATE KEY"), lambda v: v),
    ("openssh private key", _pem("OPENSSH PRIVATE KEY"), lambda v: v),
    ("ec private key", _pem("EC PRIVATE KEY"), lambda v: v),
    ("pgp private key", _pem("PGP PRIVATE KEY BLOCK"), lambda v: v),
    ("npm token", "npm_" + _r(ALNUM, 36), lambda v: f"publish with {v}"),
    ("npmrc auth token", "npm_" + _r(ALNUM, 36), lambda v: f"//registry.npmjs.org/:_authToken={v}"),
    ("pypi token", "pypi-AgEIcHlwaS5vcmc" + _r(ALNUM + "-_", 80), lambda v: f"twine upload -p {v}"),
    ("sendgrid key", f"SG.{_r(ALNUM + '-_', 22)}.{_r(ALNUM + '-_', 43)}", lambda v: f"mail via {v}"),
    ("twilio api key", "SK" + _r(HEX, 32), lambda v: f"twilio {v}"),
    ("twilio account sid", "AC" + _r(HEX, 32), lambda v: f"account {v}"),
    ("mailchimp key", _r(HEX, 32) + "-us12", lambda v: f"mailchimp {v}"),
    (
        "discord bot token",
        "M" + _r(ALNUM, 23) + "." + _r(ALNUM, 6) + "." + _r(ALNUM, 27),
        lambda v: f"bot {v}",
    ),
    ("telegram bot token", _r(DIGITS, 9) + ":" + _r(ALNUM, 35), lambda v: f"telegram {v}"),
    ("openai key", "sk-" + _r(ALNUM, 20) + "T3BlbkFJ" + _r(ALNUM, 20), lambda v: f"llm key {v}"),
    ("openai project key", "sk-proj-" + _r(ALNUM + "-_", 64), lambda v: f"llm project key {v}"),
    (
        "azure storage key",
        _r(B64, 86) + "==",
        lambda v: f"DefaultEndpointsProtocol=https;AccountName=bk;AccountKey={v}",
    ),
    ("artifactory key", "AKC" + _r(ALNUM, 70), lambda v: f"artifactory {v} "),
    ("square oauth secret", "sq0csp-" + _r(ALNUM + "-_", 43), lambda v: f"square {v}"),
    ("vault token", "hvs." + _r(ALNUM, 24), lambda v: f"vault login {v}"),
    ("databricks token", "dapi" + _r(HEX, 32), lambda v: f"databricks {v}"),
    ("shopify token", "shpat_" + _r(HEX, 32), lambda v: f"shop {v}"),
    ("url basic auth", _r(ALNUM, 14), lambda v: f"GET https://svc_etl:{v}@dct.bank.lan/v3/vdbs"),
    ("mongodb uri", _r(ALNUM, 14), lambda v: f"mongodb://monitor:{v}@mongo01.bank.lan:27017/ops"),
    ("postgres uri", _r(ALNUM, 14), lambda v: f"postgresql://etl:{v}@pg.bank.lan/dwh"),
    ("oracle jdbc thin", _r(ALNUM, 12), lambda v: f"jdbc:oracle:thin:scott/{v}@ora01.bank.lan:1521/ORCL"),
    ("sql server connection string", _r(ALNUM, 14), lambda v: f"Server=sql01;User Id=sa;Password={v};"),
    ("bearer header", _r(ALNUM, 32), lambda v: f"Authorization: Bearer {v}"),
    ("basic header", _r(B64, 28), lambda v: f"Authorization: Basic {v}"),
    ("delphix dct key", "1." + _r(ALNUM, 64), lambda v: f"Authorization: apk {v}"),
    ("delphix dct key in config", "2." + _r(ALNUM, 64), lambda v: f"apikey = apk {v}"),
    ("yaml password", _r(ALNUM, 16), lambda v: f"password: {v}"),
    ("env db pass", _r(ALNUM, 16), lambda v: f"DB_PASS={v}"),
    ("passwd", _r(ALNUM, 16), lambda v: f"passwd={v}"),
    ("pwd", _r(ALNUM, 16), lambda v: f"pwd: {v}"),
    ("client secret", _r(ALNUM, 32), lambda v: f"client_secret: {v}"),
    ("json api key", _r(ALNUM, 32), lambda v: f'"api_key": "{v}"'),
    ("secret key", _r(ALNUM, 32), lambda v: f"secret_key = '{v}'"),
    (
        "password with spaces",
        f"{_r(LOWER, 6)} {_r(LOWER, 5)}, {_r(LOWER, 7)}",
        lambda v: f'password = "{v}"',
    ),
    ("login call", _r(ALNUM, 14), lambda v: f'session.login("svc_backup", "{v}")'),
    ("french password name", _r(ALNUM, 16), lambda v: f"mot_de_passe = {v}"),
    ("french short name", _r(ALNUM, 16), lambda v: f"mdp: {v}"),
    ("token in a query string", _r(ALNUM, 32), lambda v: f"GET /export?access_token={v}&format=csv"),
    ("high-entropy literal", _r(B64, 44), lambda v: f'SIGNING_MATERIAL = "{v}"'),
]


def test_the_corpus_has_at_least_fifty_kinds() -> None:
    assert len({kind for kind, _, _ in KINDS}) == len(KINDS) >= 50


def _leaks(texts: list[str]) -> list[str]:
    blob = "\n".join(texts)
    leaked = []
    for kind, value, _ in KINDS:
        # a PEM block leaks if any line of its body is stored; any other value if stored whole
        parts = value.splitlines()[1:-1] if value.startswith("-----BEGIN") else [value]
        if any(part in blob for part in parts):
            leaked.append(kind)
    return leaked


async def _stored(store: GraphStore) -> list[str]:
    texts = []
    for spec in ONTOLOGY.labels:
        for node in await all_nodes(store, spec.label.value):
            texts += [node.name, node.text, json.dumps(node.props, default=str)]
    return texts


def _code_tree(root: Path) -> None:
    (root / "config").mkdir(parents=True)
    lines = [line(value) for _, value, line in KINDS]
    (root / "config" / "app.conf").write_text("\n".join(lines) + "\n")
    (root / "deploy.sh").write_text(
        "#!/bin/sh\n# deploy the flows\n" + "\n".join(f"echo '{x}'" for x in lines) + "\n"
    )
    (root / "client.py").write_text(
        '"""DCT client."""\n\n'
        + "\n".join(
            f'def call_{i}(session):\n    """Call {kind}."""\n    value = {line(value)!r}\n    return session.get(value)\n'
            for i, (kind, value, line) in enumerate(KINDS)
        )
    )
    (root / "README.md").write_text(
        "# Flows\n\n" + "\n\n".join(f"- {line(value)}" for _, value, line in KINDS)
    )


def _dump(path: Path) -> None:
    docs = []
    for i, (kind, value, line) in enumerate(KINDS):
        docs.append(
            {
                "_id": f"run-{i}",
                "pipeline": f"flow_{i % 7}",
                "status": "FAILED",
                "start": f"2026-11-30T0{i % 10}:00:00Z",
                "error": f"{kind} step failed: {line(value)}",
                "config": {"note": line(value), "token_value": value},
            }
        )
        if len(value) >= 40 and not any(c.isspace() for c in value):
            # a long random token under a name that does not say secret: the entropy rule's case
            # (a shorter one is only found by its name or format)
            docs[-1]["config"]["signing"] = value
    path.write_text(json.dumps({"runs": docs}))


def _spec(path: Path) -> None:
    paths: dict[str, Any] = {}
    for i, (kind, value, line) in enumerate(KINDS):
        paths[f"/things{i}"] = {
            "get": {
                "operationId": f"getThing{i}",
                "summary": f"Read thing {i}",
                "description": f"Example call for {kind}: {line(value)}",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}, "example": line(value)}
                ],
                "responses": {"200": {"description": f"ok; sample {line(value)}"}},
            }
        }
    spec = {"openapi": "3.0.3", "info": {"title": "Planted", "version": "1"}, "paths": paths}
    path.write_text(json.dumps(spec))


def _page(path: Path) -> None:
    items = "".join(
        f"<h2>{kind}</h2><p>Configure the flow with <code>{line(value)}</code> then restart.</p>"
        for kind, value, line in KINDS
    )
    path.write_text(
        f"<html><head><title>Runbook</title></head><body><h1>Runbook</h1>"
        f"<p>{'This runbook explains how each data flow authenticates. ' * 5}</p>{items}</body></html>"
    )


@pytest.mark.parametrize("source", ["code", "mongo", "openapi", "html"])
async def test_no_planted_secret_is_stored(
    store: GraphStore, cached_embedder: Any, nlp: Any, tmp_path: Path, source: str
) -> None:
    if source == "code":
        _code_tree(tmp_path / "repo")
        await ingest_code(store, cached_embedder, str(tmp_path / "repo"), "repo")
    elif source == "mongo":
        _dump(tmp_path / "dump.json")
        await ingest_json_dump(store, cached_embedder, load_vocabulary(), tmp_path / "dump.json", nlp=nlp)
    elif source == "openapi":
        _spec(tmp_path / "spec.json")
        await ingest_openapi(store, cached_embedder, str(tmp_path / "spec.json"))
    else:
        _page(tmp_path / "runbook.html")
        await ingest_html(store, cached_embedder, str(tmp_path / "runbook.html"))
    texts = await _stored(store)
    assert sum(len(t) for t in texts) > 5000  # the material itself was stored
    assert _leaks(texts) == []

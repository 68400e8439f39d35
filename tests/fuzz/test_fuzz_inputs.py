"""Mutated inputs of every kind flowrag reads: OpenAPI specs (structure and bytes), code files of
every language, Mongo documents, HTML pages. What each must get: a result, or one FlowragError
line; never another exception, never longer than the deadline, and a rejected re-ingest leaves
the store as it was. Seeds are real material: operations of the DCT spec, flowrag's own sources
and the language samples of the extractor tests."""

from __future__ import annotations

import copy
import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flowrag.errors import FlowragError
from flowrag.extract.bson_convert import to_jsonable
from flowrag.extract.code import extract_file
from flowrag.extract.html_docs import extract_html
from flowrag.extract.monitoring import detect_mapping, extract_document
from flowrag.extract.openapi import extract_spec
from flowrag.extract.secrets import redact
from flowrag.ingest.openapi import load_document
from flowrag.models.vocabulary import load_vocabulary
from tests.conftest import SHARED_DATA
from tests.fuzz.stats import examples, tried

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def dct_sample() -> dict[str, Any]:
    """Eight operations of the real DCT spec, with the components they use."""
    spec = yaml.safe_load((SHARED_DATA / "delphix" / "dct-openapi.yaml").read_text())
    paths = dict(list(spec["paths"].items())[:8])
    schemas = spec["components"]["schemas"]
    used: dict[str, Any] = {}
    names = set(re.findall(r"schemas/(\w+)", json.dumps(paths, default=str)))
    for _ in range(2):  # the schemas the operations name, and those they name
        used |= {n: schemas[n] for n in names if n in schemas}
        names = set(re.findall(r"schemas/(\w+)", json.dumps(used, default=str))) - set(used)
    return {"openapi": spec["openapi"], "info": spec["info"], "paths": paths, "components": {"schemas": used}}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
REFS = st.sampled_from(
    [
        "#/components/schemas/Nope",
        "#",
        "#/paths",
        "/etc/passwd",
        "../../secret.yaml",
        "http://127.0.0.1:9/x.yaml",
        "file:///etc/hosts",
        "other.yaml#/x",
        "#/components/schemas/" + "a" * 300,
    ]
)


def _pointers(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _pointers(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _pointers(value, (*prefix, index))
    return found


class Mutated(dict[str, Any]):
    """A mutated spec whose repr stays short: a "deepen" mutation nests hundreds of levels, past
    what Hypothesis's pretty-printer can recurse through when it reports a failing example."""

    def __repr__(self) -> str:
        text = json.dumps(self, default=str)
        return f"<spec, {len(text)} chars of JSON: {text[:300]}...>"


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    doc = Mutated(copy.deepcopy(dct_sample()))
    for _ in range(draw(st.integers(1, 6))):
        pointers = _pointers(doc)[1:]
        if not pointers:
            break
        where = draw(st.sampled_from(pointers))
        parent = functools.reduce(lambda node, key: node[key], where[:-1], doc)
        action = draw(st.sampled_from(["replace", "delete", "ref", "wrap", "deepen"]))
        if action == "replace":
            parent[where[-1]] = draw(JSON)
        elif action == "delete":
            del parent[where[-1]]
        elif action == "ref":
            parent[where[-1]] = {"$ref": draw(REFS)}
        elif action == "wrap":
            parent[where[-1]] = [parent[where[-1]]]
        else:
            nested: Any = parent[where[-1]]
            for _ in range(draw(st.integers(50, 400))):
                nested = {"items": nested, "type": "array"}
            parent[where[-1]] = nested
    return doc


def _text(doc: Any, as_yaml: bool) -> str:
    """The mutated spec as a file's text. PyYAML's dumper recurses ~3 frames per level, so a
    "deepen" mutation needs more stack than the default limit leaves under a deep pytest stack (the
    whole suite failed here, alone it passed): the test's own writing gets the room, flowrag's
    reading of it does not."""
    doc = dict(doc) if isinstance(doc, dict) else doc
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        return yaml.safe_dump(doc, sort_keys=False) if as_yaml else json.dumps(doc, default=str)
    finally:
        sys.setrecursionlimit(limit)


def _load(tmp: Path, text: str | bytes, suffix: str) -> Any:
    path = tmp / f"spec{suffix}"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    try:
        doc, _ = load_document(str(path), None, 10.0)
    except FlowragError as exc:
        assert "\n" not in exc.message and "Traceback" not in exc.message
        return None
    return extract_spec(doc, "fuzz")


@settings(max_examples=examples(120))
@given(doc=mutated_specs(), as_yaml=st.booleans())
def test_structurally_mutated_specs_load_or_give_one_line(
    tmp_path_factory: pytest.TempPathFactory, doc: Any, as_yaml: bool
) -> None:
    tried()
    _load(tmp_path_factory.mktemp("spec"), _text(doc, as_yaml), ".yaml" if as_yaml else ".json")


@settings(max_examples=examples(80))
@given(
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=4)), max_size=6),
)
def test_truncated_and_corrupted_spec_bytes_load_or_give_one_line(
    tmp_path_factory: pytest.TempPathFactory, cut: float, flips: list[tuple[float, bytes]]
) -> None:
    tried()
    raw = bytearray(_text(dct_sample(), True).encode())
    for where, junk in flips:
        at = int(where * (len(raw) - 1))
        raw[at : at + len(junk)] = junk
    _load(tmp_path_factory.mktemp("spec"), bytes(raw[: max(1, int(cut * len(raw)))]), ".yaml")


def _code_seeds() -> list[tuple[str, str]]:
    from tests.unit.test_code_extract import LANGUAGE_SAMPLES

    seeds = [(path, source) for path, (source, _, _) in LANGUAGE_SAMPLES.items()]
    for path in ("flowrag/cancel.py", "flowrag/graph/transfer.py", "web/src/main.js", "scripts/test.sh"):
        if (ROOT / path).exists():
            seeds.append((path, (ROOT / path).read_text()))
    return seeds


EXTENSIONS = [
    ".py",
    ".java",
    ".kt",
    ".scala",
    ".go",
    ".cs",
    ".js",
    ".ts",
    ".tsx",
    ".sh",
    ".sql",
    ".yaml",
    ".json",
    ".toml",
    ".md",
    ".pl",
    ".php",
    ".rb",
    ".rs",
    ".c",
    ".cpp",
    ".tf",
    ".groovy",
    ".ps1",
    ".txt",
    "",
]


@st.composite
def code_files(draw: st.DrawFn) -> tuple[str, str]:
    path, text = draw(st.sampled_from(_code_seeds()))
    if draw(st.booleans()):
        stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
        path = stem + draw(st.sampled_from(EXTENSIONS))
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "nest", "unicode"]))
        if action == "insert":
            text = (
                text[:at]
                + draw(
                    st.sampled_from(["(", ")", "{", "}", '"', "'", "`", "\\", "/*", "\n", "\x00", "\ufeff"])
                )
                + text[at:]
            )
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 200)) :]
        elif action == "nest":
            depth = draw(st.integers(100, 3000))
            text = text[:at] + "(" * depth + "x" + ")" * depth + text[at:]
        else:
            text = text[:at] + draw(st.text(min_size=1, max_size=30)) + text[at:]
    return path, text


@settings(max_examples=examples(150))
@given(file=code_files())
def test_mutated_code_files_extract(file: tuple[str, str]) -> None:
    tried()
    path, text = file
    out = extract_file("fuzz", path, text)
    assert out.nodes, "every readable file is at least a File node"


KEYS = st.sampled_from(
    [
        "_id",
        "pipeline",
        "job",
        "flux",
        "status",
        "statut",
        "rc",
        "error",
        "erreur",
        "message",
        "start",
        "debut",
        "end",
        "host",
        "env",
        "technology",
        "password",
        "api_key",
        "job.name",
        "$set",
        "a.b.c",
        "",
        " ",
        "nested",
    ]
)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=60)
    | st.datetimes()
    | st.binary(max_size=16),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(KEYS | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
SECRET = "Zx9" + "Qp7Lm3Vr8Kt2Wn6Bh4Jd1Fs5"


@settings(max_examples=examples(150))
@given(docs=st.lists(st.dictionaries(KEYS, VALUES, min_size=1, max_size=8), min_size=1, max_size=6))
def test_documents_of_any_shape_extract_and_keep_no_planted_secret(docs: list[dict[str, Any]]) -> None:
    tried()
    for doc in docs:
        doc["password"] = SECRET
        doc.setdefault("nested", {})
        if isinstance(doc["nested"], dict):
            doc["nested"]["db_password"] = SECRET
    docs = [to_jsonable(doc) for doc in docs]  # as the Mongo reader hands them on
    mapping = detect_mapping(docs)
    vocabulary = load_vocabulary()
    for doc in docs:
        out = extract_document(doc, "fuzz", mapping, vocabulary)
        stored = json.dumps([(n.name, n.text, n.embed_text, n.props) for n in out.nodes], default=str)
        assert SECRET not in stored


TAGS = st.sampled_from(
    [
        "div",
        "p",
        "h1",
        "h2",
        "h3",
        "li",
        "ul",
        "table",
        "tr",
        "td",
        "pre",
        "code",
        "script",
        "style",
        "a",
        "span",
        "section",
        "nav",
        "svg",
        "template",
        "textarea",
        "!--",
    ]
)


@st.composite
def pages(draw: st.DrawFn) -> str:
    parts = ["<html><head><title>", draw(st.text(max_size=20)), "</title></head><body>"]
    for _ in range(draw(st.integers(0, 60))):
        tag = draw(TAGS)
        choice = draw(st.integers(0, 4))
        if choice == 0:
            parts.append(f"<{tag} id='{draw(st.text(max_size=8))}'>")
        elif choice == 1:
            parts.append(f"</{tag}>")
        elif choice == 2:
            parts.append(draw(st.text(max_size=80)))
        elif choice == 3:
            parts.append("&" + draw(st.sampled_from(["amp;", "lt;", "#x27;", "#99999999;", "nbsp", "#0;"])))
        else:
            depth = draw(st.integers(1, 2000))
            parts.append(f"<{tag}>" * depth + "deep" + f"</{tag}>" * draw(st.integers(0, depth)))
    return "".join(parts)


@settings(max_examples=examples(150))
@given(page=pages())
def test_any_html_extracts_or_is_skipped_with_a_reason(page: str) -> None:
    tried()
    out = extract_html(page, "fuzz.html", "fuzz")
    assert out.nodes or out.problems


@settings(max_examples=examples(200))
@given(text=st.text(max_size=400))
def test_redaction_is_idempotent_on_any_text(text: str) -> None:
    tried()
    once = redact(text)
    assert redact(once) == once

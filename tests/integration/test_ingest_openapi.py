"""OpenAPI ingestion on the real Delphix DCT spec, on both stores; bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowrag.errors import SourceError
from flowrag.graph.port import Filter, GraphStore
from flowrag.ingest.openapi import ingest_openapi, load_document
from flowrag.schema import NodeLabel, make_uid
from tests.conftest import SHARED_DATA

DCT = str(SHARED_DATA / "delphix" / "dct-openapi.yaml")
DCT_SUBSET = str(Path(__file__).resolve().parents[2] / "flowrag" / "examples" / "data" / "dct-subset.yaml")


async def test_dct_spec_ingests_links_and_reruns_as_noop(store: GraphStore, cached_embedder: object) -> None:
    report = await ingest_openapi(store, cached_embedder, DCT, "delphix-dct")  # type: ignore[arg-type]
    assert report.read == 417
    assert report.errors == []
    assert await store.count_nodes("Endpoint") == 417
    paths = {n.props["path"] for n in await store.find_nodes("Endpoint", limit=1000)}
    assert len(paths) == 322
    uid = make_uid(NodeLabel.ENDPOINT, "delphix-dct:POST /vdbs/{vdbId}/refresh_by_snapshot")
    hood = await store.neighbours([uid], ["ACTS_ON", "ACCEPTS"])
    acts = {(e.end, e.props.get("operation"), e.props.get("role")) for e in hood.edges if e.type == "ACTS_ON"}
    assert ("DelphixKind:VDB", "refresh", "target") in acts
    assert ("DelphixKind:Snapshot", "refresh", "source") in acts
    assert any(e.end == "Schema:delphix-dct:RefreshVDBBySnapshotParameters" for e in hood.edges)
    rerun = await ingest_openapi(store, cached_embedder, DCT, "delphix-dct")  # type: ignore[arg-type]
    assert (rerun.created, rerun.updated, rerun.deleted, rerun.embedded) == (0, 0, 0, 0)
    assert rerun.unchanged == report.created + report.unchanged


async def test_new_version_updates_changed_and_removes_vanished(
    store: GraphStore, cached_embedder: object, tmp_path: Path
) -> None:
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "mini", "version": "1"},
        "paths": {
            "/vdbs": {
                "get": {
                    "operationId": "list_vdbs",
                    "summary": "List VDBs",
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/vdbs/{vdbId}/stop": {
                "post": {
                    "operationId": "stop_vdb",
                    "summary": "Stop",
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(spec))
    first = await ingest_openapi(store, cached_embedder, str(path), "mini")  # type: ignore[arg-type]
    assert first.read == 2
    spec["info"]["version"] = "2"  # type: ignore[index]
    spec["paths"]["/vdbs"]["get"]["summary"] = "List all VDBs"  # type: ignore[index]
    del spec["paths"]["/vdbs/{vdbId}/stop"]  # type: ignore[attr-defined]
    path.write_text(json.dumps(spec))
    second = await ingest_openapi(store, cached_embedder, str(path), "mini")  # type: ignore[arg-type]
    assert second.deleted >= 1 and second.updated >= 1
    endpoints = await store.find_nodes("Endpoint", [Filter("scope", "=", "mini")])
    assert [e.name for e in endpoints] == ["GET /vdbs"]
    assert "List all VDBs" in endpoints[0].text


def test_bad_inputs_get_clear_errors(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("openapi: 3.0.0\npaths: [unclosed\n")
    with pytest.raises(SourceError, match="not valid YAML"):
        load_document(str(bad_yaml))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"openapi": "3.0.0", ')
    with pytest.raises(SourceError, match="not valid JSON"):
        load_document(str(bad_json))
    page = tmp_path / "page.yaml"
    page.write_text("title: a blog post\nbody: nothing to see")
    with pytest.raises(SourceError, match="not an OpenAPI"):
        load_document(str(page))
    with pytest.raises(SourceError, match="not found"):
        load_document(str(tmp_path / "missing.yaml"))
    with pytest.raises(SourceError, match="cannot reach"):
        load_document("http://127.0.0.1:9/openapi.json", timeout_s=2)


def test_oversized_spec_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(65 * 1024 * 1024)
    with pytest.raises(SourceError, match="larger than"):
        load_document(str(big))


def test_tls_error_names_the_ca_bundle_option(tmp_path: Path) -> None:
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{server.server_address[1]}/openapi.json"
    try:
        with pytest.raises(SourceError, match="TLS verification failed") as info:
            load_document(url, timeout_s=5)
        assert info.value.hint is not None and "--ca-bundle" in info.value.hint
        bundle = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        doc, problems = load_document(url, ca_bundle=bundle, timeout_s=5)
        assert doc["openapi"] == "3.0.0" and problems == []
    finally:
        server.shutdown()


async def test_partial_spec_ingests_what_is_valid(
    store: GraphStore, cached_embedder: object, tmp_path: Path
) -> None:
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "partial", "version": "1"},
        "paths": {
            "/ok": {
                "get": {"operationId": "ok", "responses": {"200": {"$ref": "#/components/responses/Missing"}}}
            },
            "/broken": "not an object",
        },
    }
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(spec))
    report = await ingest_openapi(store, cached_embedder, str(path), "partial")  # type: ignore[arg-type]
    assert report.read == 1
    assert any("broken $ref #/components/responses/Missing" in p for p in report.errors)
    assert any("/broken" in p for p in report.errors)
    assert await store.count_nodes("Endpoint", [Filter("scope", "=", "partial")]) == 1


async def test_a_truncated_spec_stops_before_deleting(
    store: object, cached_embedder: object, tmp_path: Path
) -> None:
    """Half a download with the same title would delete most of the spec: it stops, nothing lost."""
    import yaml

    from flowrag.errors import IngestError

    full = yaml.safe_load(Path(DCT_SUBSET).read_text("utf-8"))
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(full))
    await ingest_openapi(store, cached_embedder, str(path), "cut")  # type: ignore[arg-type]
    before = await store.scope_uids("openapi", "cut")  # type: ignore[attr-defined]
    kept = dict(list(full["paths"].items())[:3])
    path.write_text(yaml.safe_dump({**full, "paths": kept, "components": {}}))
    with pytest.raises(IngestError, match=r"would remove .* nothing was written") as caught:
        await ingest_openapi(store, cached_embedder, str(path), "cut")  # type: ignore[arg-type]
    assert "--allow-shrink" in (caught.value.hint or "")
    assert await store.scope_uids("openapi", "cut") == before  # type: ignore[attr-defined]
    report = await ingest_openapi(store, cached_embedder, str(path), "cut", allow_shrink=True)  # type: ignore[arg-type]
    assert report.deleted > len(before) // 2

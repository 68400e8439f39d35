"""`flowrag ingest delphix` against DCT's real contract: a stateful fake estate behind
``prism proxy`` (every request and response checked against ../shared/data/delphix), Prism's
random mock, and the fake alone for the bad inputs, the incremental sync and the questions."""

from __future__ import annotations

import logging
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flowrag.answer.service import Answerer
from flowrag.errors import IngestError, SourceError
from flowrag.graph.port import GraphStore, all_nodes
from flowrag.ingest.delphix import DctOptions, ingest_delphix
from flowrag.ingest.monitoring import ingest_documents
from flowrag.ingest.openapi import ingest_openapi
from flowrag.ingest.writer import IngestReport
from flowrag.models.vocabulary import load_vocabulary
from flowrag.settings import LLMSettings
from tests.support.fake_dct import API_KEY, FakeDct, make_estate, serve
from tests.support.prism import DCT_SPEC, prism, prism_binary, prism_log

NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
needs_prism = pytest.mark.skipif(
    prism_binary() is None and not __import__("os").environ.get("CI"),
    reason="prism is installed by scripts/test.sh (FLOWRAG_PRISM)",
)


def _expected_counts(estate: Any, since: str, per_dataset: int = 3) -> dict[str, int]:
    snaps: dict[str, list[str]] = {}
    for s in estate.snapshots:
        snaps.setdefault(s["dataset_id"], []).append(s["timestamp"])
    kept = 0
    for stamps in snaps.values():
        stamps.sort(reverse=True)
        kept += sum(1 for i, t in enumerate(stamps) if i < per_dataset or t >= since)
    return {
        "DelphixEngine": len(estate.engines),
        "DelphixEnvironment": len(estate.environments),
        "DSource": len(estate.dsources),
        "Vdb": len(estate.vdbs),
        "VdbGroup": len(estate.vdb_groups),
        "Snapshot": kept,
        "Bookmark": len(estate.bookmarks),
        "DelphixJob": sum(1 for j in estate.jobs if j["start_time"] >= since),
        "MaskingJob": len(estate.masking_jobs or []),
    }


async def _counts(store: GraphStore) -> dict[str, int]:
    stats = await store.stats()
    return {k: v for k, v in stats.nodes.items() if k not in ("Host",)}


@pytest.fixture
async def embedded(tmp_path: Path, cached_embedder: Any) -> Any:
    """A fresh embedded store (the connector's behaviour does not depend on the store)."""
    from flowrag.graph.embedded import EmbeddedStore

    store = EmbeddedStore.open(tmp_path / "graph")
    await store.migrate(cached_embedder.dimension)
    yield store
    await store.close()


@needs_prism
async def test_the_connector_speaks_the_real_contract(
    tmp_path: Path, embedded: Any, cached_embedder: Any, caplog: Any
) -> None:
    """Behind `prism proxy --errors`, a request the spec does not allow or a response it does not
    describe is an error: the ingest succeeding with every object proves both sides conform."""
    estate = make_estate(NOW)
    fake = FakeDct(estate)
    store = embedded
    caplog.set_level(logging.DEBUG)
    with serve(fake) as upstream, prism(tmp_path, "proxy", upstream) as url:
        options = DctOptions(url, API_KEY, name="dct-paris", page_size=4, since="7d")
        report = await ingest_delphix(store, cached_embedder, options, now=NOW)
    log = prism_log(tmp_path, "proxy")
    assert "VIOLATIONS" not in log and "UNPROCESSABLE" not in log, log[-3000:]
    assert report.errors == [] and not report.skipped, report.as_dict()
    since = (NOW - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S")
    got = await _counts(store)
    assert got == {k: v for k, v in _expected_counts(estate, since).items() if v}
    # pagination followed the cursors: the 15 VDBs came in 4 pages
    vdb_pages = [q for m, p, q, _ in fake.requests if p == "/v3/vdbs"]
    assert len(vdb_pages) == 4 and "cursor" not in vdb_pages[0] and "cursor" in vdb_pages[1]
    # the key went to DCT and nowhere else: not in a log line, not in the graph
    assert all(h == f"apk {API_KEY}" for h in fake.auth_headers)
    assert API_KEY not in caplog.text
    dump = [n for label in got for n in await all_nodes(store, label)]
    assert dump and all(API_KEY not in repr(n) and "engine-secret-password" not in repr(n) for n in dump)


@needs_prism
async def test_the_connector_survives_random_data_shaped_by_the_spec(
    tmp_path: Path, embedded: Any, cached_embedder: Any
) -> None:
    """`prism mock -d`: every listing answers random but valid objects (missing names, odd ids,
    dangling references). The ingest finishes; what it cannot use is skipped and reported."""
    store = embedded
    with prism(tmp_path, "mock") as url:
        options = DctOptions(url, "1.anything", name="mock", page_size=50)
        report = await ingest_delphix(store, cached_embedder, options, now=NOW)
        # random again: new ids everywhere, so the shrink guard stops the sync before writing
        before = await store.stats()
        with pytest.raises(IngestError, match="would remove"):
            await ingest_delphix(store, cached_embedder, options, now=NOW)
        assert await store.stats() == before
        forced = DctOptions(url, "1.anything", name="mock", page_size=50, allow_shrink=True)
        again = await ingest_delphix(store, cached_embedder, forced, now=NOW)
    assert "UNPROCESSABLE" not in prism_log(tmp_path, "mock")
    assert report.read > 0 and report.errors == []
    assert report.created + sum(report.skipped.values()) > 0
    assert again.read > 0 and again.deleted > 0


async def test_bad_inputs_get_one_line_and_write_nothing(embedded: Any, cached_embedder: Any) -> None:
    store = embedded
    fake = FakeDct(make_estate(NOW))
    with serve(fake) as url:
        # a wrong key: one line naming the option
        with pytest.raises(SourceError, match=r"refused the API key \(HTTP 401\)") as info:
            await ingest_delphix(store, cached_embedder, DctOptions(url, "1.wrong"), now=NOW)
        assert "\n" not in info.value.message and "--api-key" in (info.value.hint or "")
        assert "1.wrong" not in str(info.value) + (info.value.hint or "")
        # no key at all
        with pytest.raises(SourceError, match="no DCT API key"):
            await ingest_delphix(store, cached_embedder, DctOptions(url, " "), now=NOW)
        # an unknown kind, a bad window
        with pytest.raises(SourceError, match="unknown Delphix object kind 'vdbz'"):
            await ingest_delphix(store, cached_embedder, DctOptions(url, API_KEY, kinds=("vdbz",)), now=NOW)
        with pytest.raises(SourceError, match="--since 'yesterday-ish'"):
            await ingest_delphix(
                store, cached_embedder, DctOptions(url, API_KEY, since="yesterday-ish"), now=NOW
            )
        # not a DCT at all (the API root is wrong): every listing answers 404
        with pytest.raises(SourceError, match="answered 404 to every DCT listing") as info:
            await ingest_delphix(store, cached_embedder, DctOptions(f"{url}/api", API_KEY), now=NOW)
        assert "/v3" in (info.value.hint or "")
        # a 500 that lasts, mid-pagination: a clear error, and nothing half-written
        fake.fail("/vdbs", 500, times=10, page=2)
        options = DctOptions(url, API_KEY, page_size=4, retries=2, backoff_s=0.01)
        with pytest.raises(SourceError, match=r"HTTP 500 on GET /vdbs \(page 2\) after 3 attempts; nothing"):
            await ingest_delphix(store, cached_embedder, options, now=NOW)
        assert (await store.stats()).total_nodes == 0
    assert (await store.stats()).total_nodes == 0


async def test_transient_faults_are_retried_and_the_sync_resumes(embedded: Any, cached_embedder: Any) -> None:
    store = embedded
    estate = make_estate(NOW)
    fake = FakeDct(estate)
    with serve(fake) as url:
        fake.fail("/vdbs", 503, times=2, page=3)
        fake.fail("/snapshots", 429, times=1, page=1, headers={"Retry-After": "0"})
        options = DctOptions(url, API_KEY, page_size=4, backoff_s=0.01)
        report = await ingest_delphix(store, cached_embedder, options, now=NOW)
    assert (await _counts(store))["Vdb"] == len(estate.vdbs)
    assert report.errors == []
    pages = [q.get("cursor", [""])[0] for m, p, q, _ in fake.requests if p == "/v3/vdbs"]
    assert len(pages) == 4 + 2 and pages[2] == pages[3] == pages[4]  # page 3 asked again, same cursor


async def test_expired_certificate_names_the_ca_bundle_option(
    tmp_path: Path, embedded: Any, cached_embedder: Any
) -> None:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", not_after=datetime.now(UTC) - timedelta(days=1))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    store = embedded
    with serve(FakeDct(make_estate(NOW)), tls=ctx) as url:
        for given in (None, bundle):  # trusted CA or not, an expired certificate fails
            with pytest.raises(SourceError, match="TLS verification failed") as info:
                await ingest_delphix(
                    store, cached_embedder, DctOptions(url, API_KEY, ca_bundle=given), now=NOW
                )
            assert "--ca-bundle" in (info.value.hint or "")
            if given:  # the CA is trusted: what is left is the date, and the hint says so
                assert "expired" in info.value.message and "renew" in (info.value.hint or "")


async def test_unknown_objects_and_absent_listings_are_skipped_and_reported(
    embedded: Any, cached_embedder: Any
) -> None:
    store = embedded
    estate = make_estate(NOW)
    estate.masking_jobs = None  # this DCT has no masking engine: /masking-jobs answers 404
    estate.jobs.append(dict(estate.jobs[0], id="job-on-a-timeflow", target_id="1-TIMEFLOW-9"))
    estate.vdbs.append({"name": "no_id_vdb"})
    with serve(FakeDct(estate)) as url:
        report = await ingest_delphix(store, cached_embedder, DctOptions(url, API_KEY), now=NOW)
    assert report.skipped["masking_jobs: not served by this DCT (HTTP 404)"] == 1
    assert report.skipped["job targets not in the estate"] == 1
    assert report.skipped["vdbs without an id"] == 1
    assert (await _counts(store))["DelphixJob"] == len(estate.jobs)  # the job itself is kept


async def test_a_resync_writes_only_what_changed_and_keeps_job_history(
    embedded: Any, cached_embedder: Any
) -> None:
    store = embedded
    estate = make_estate(NOW)
    fake = FakeDct(estate)
    with serve(fake) as url:
        options = DctOptions(url, API_KEY, name="dct-paris")
        first = await ingest_delphix(store, cached_embedder, options, now=NOW)
        again = await ingest_delphix(store, cached_embedder, options, now=NOW)
        assert first.created > 0 and again.writes == 0 and again.unchanged == first.created
        # one VDB refreshed, one dropped (with its snapshots), the window moves past old jobs
        estate.vdbs[1]["last_refreshed_date"] = "2026-12-02T07:00:00.000Z"
        dropped = estate.vdbs.pop(2)
        estate.snapshots = [s for s in estate.snapshots if s["dataset_id"] != dropped["id"]]
        fake.changed()
        later = NOW + timedelta(days=3)
        third = await ingest_delphix(store, cached_embedder, options, now=later)
        assert third.updated >= 1 and third.deleted >= 1 + 3
        vdbs = {n.name for n in await all_nodes(store, "Vdb")}
        assert dropped["name"] not in vdbs and len(vdbs) == len(estate.vdbs)
        jobs = await all_nodes(store, "DelphixJob")
        assert len(jobs) == len(estate.jobs)  # jobs out of the new window stay: history
        # most of the estate vanishing is refused unless asked for
        estate.vdbs[:] = estate.vdbs[:1]
        estate.snapshots, estate.jobs = [], []
        fake.changed()
        with pytest.raises(IngestError, match=r"would remove .* nothing was written"):
            await ingest_delphix(store, cached_embedder, options, now=later)
        assert len(await all_nodes(store, "Vdb")) == len(vdbs)


def _runs() -> list[dict[str, Any]]:
    """Monitoring runs naming the estate: the flow that refreshes orders_qa failed yesterday."""
    yesterday = NOW.replace(hour=2, minute=10) - timedelta(days=1)
    rows = []
    for day in range(5):
        start = yesterday - timedelta(days=day)
        failed = day == 0
        rows.append(
            {
                "_id": f"run-refresh-{day}",
                "pipeline": "refresh_orders_qa",
                "technology": "Delphix",
                "status": "FAILED" if failed else "SUCCESS",
                "start_time": start.isoformat(),
                "end_time": (start + timedelta(minutes=5)).isoformat(),
                "host": "linux-db-07",
                "error": "DCT job DB_REFRESH failed: ORA-01017 invalid username/password" if failed else None,
            }
        )
        rows.append(
            {
                "_id": f"run-extract-{day}",
                "pipeline": "extract_customers_dev_daily",
                "technology": "Spark",
                "status": "SUCCESS",
                "start_time": (start + timedelta(hours=1)).isoformat(),
                "end_time": (start + timedelta(hours=2)).isoformat(),
                "host": "spark-edge-01",
            }
        )
    return rows


def _cited(result: Any) -> dict[str, set[str]]:
    """label -> names of the nodes the answer cites."""
    names = {n.uid: n.name for n in result.nodes}
    out: dict[str, set[str]] = {}
    for c in result.citations:
        out.setdefault(c.label, set()).add(names.get(c.uid, c.uid))
    return out


async def test_estate_questions_are_answered_by_walking_the_graph(
    store: GraphStore, cached_embedder: Any, nlp: Any, tmp_path: Path
) -> None:
    """The issue's three questions, on both stores, with citations; expected answers come from
    the fake estate, never from flowrag's output."""
    from flowrag.ingest.code import ingest_code

    estate = make_estate(NOW)
    await ingest_openapi(store, cached_embedder, str(DCT_SPEC), "delphix-dct")
    await ingest_documents(
        store, cached_embedder, load_vocabulary(), "runs", _runs(), IngestReport("mongo", "runs"), nlp=nlp
    )
    repo = tmp_path / "ops"
    repo.mkdir()
    (repo / "refresh.py").write_text(
        '"""Refresh the QA copy of orders."""\nimport requests\n\n\ndef refresh_orders(base):\n'
        '    return requests.post(f"{base}/v3/vdbs/orders_qa/refresh_by_snapshot", json={})\n',
        encoding="utf-8",
    )
    (repo / "flows.yaml").write_text(
        "# what each flow reads\nextract_customers_dev_daily:\n  schedule: '0 3 * * *'\n  source_vdb: customers_qa\n",
        encoding="utf-8",
    )
    await ingest_code(store, cached_embedder, str(repo), "ops")
    with serve(FakeDct(estate)) as url:
        await ingest_delphix(store, cached_embedder, DctOptions(url, API_KEY, name="dct-paris"), now=NOW)
    answerer = Answerer(store, cached_embedder, nlp, LLMSettings(), timezone="Europe/Paris")

    # 1. VDBs not refreshed for 7 days: computed from the fake's refresh dates
    start = NOW - timedelta(days=7)
    stale = {v["name"] for v in estate.vdbs if v["last_refreshed_date"] < start.strftime("%Y-%m-%dT%H:%M:%S")}
    assert "customers_dev" in stale and "orders_qa" not in stale
    result = await answerer.ask("Quelles VDB n'ont pas été rafraîchies depuis 7 jours ?", now=NOW, top_k=50)
    assert result.route == "estate"
    assert _cited(result).get("Vdb") == stale, (result.answer, stale)

    # 2. the failed flow -> its VDB, the failed DCT job on it, the VDB's environment
    result = await answerer.ask(
        "Le flux refresh_orders_qa a échoué : quel job DCT, sur quelle VDB, sur quel environnement ?", now=NOW
    )
    assert result.route == "estate"
    by_label = _cited(result)
    orders_qa = next(v for v in estate.vdbs if v["name"] == "orders_qa")
    env = next(e for e in estate.environments if e["id"] == orders_qa["environment_id"])
    failed = {j["id"] for j in estate.jobs if j["status"] == "FAILED" and j["target_id"] == orders_qa["id"]}
    assert by_label.get("Vdb") == {"orders_qa"}
    assert by_label.get("DelphixEnvironment") == {env["name"]}
    jobs = {c.uid.rsplit("/", 1)[-1] for c in result.citations if c.label == "DelphixJob"}
    assert jobs == failed, result.answer
    assert "ORA-01017" in result.answer and env["name"] in result.answer

    # 3. the flows that depend on orders_qa (and not the one named after customers_dev)
    result = await answerer.ask("Quels flux dépendent de la VDB orders_qa ?", now=NOW)
    assert result.route == "estate"
    assert _cited(result).get("Pipeline") == {"refresh_orders_qa"}, result.answer

    # the same in English, and the other time questions of the issue
    result = await answerer.ask("Which VDBs have not been refreshed for 7 days?", now=NOW, top_k=50)
    assert result.route == "estate" and _cited(result).get("Vdb") == stale, result.answer
    result = await answerer.ask("Which flows depend on the VDB orders_qa?", now=NOW)
    assert _cited(result).get("Pipeline") == {"refresh_orders_qa"}, result.answer
    yesterday = (NOW - timedelta(days=1)).strftime("%Y-%m-%d")
    failed_yesterday = {
        j["id"] for j in estate.jobs if j["status"] == "FAILED" and j["start_time"][:10] == yesterday
    }
    assert failed_yesterday
    result = await answerer.ask("Quels jobs DCT ont échoué hier ?", now=NOW, top_k=50)
    assert result.route == "estate", result.plan_info
    assert {c.uid.rsplit("/", 1)[-1] for c in result.citations if c.label == "DelphixJob"} == failed_yesterday
    snaps = [s for s in estate.snapshots if s["dataset_id"] == orders_qa["id"]]
    latest = max(snaps, key=lambda s: s["timestamp"])
    result = await answerer.ask("Quel est le dernier snapshot de la VDB orders_qa ?", now=NOW)
    assert result.route == "estate" and _cited(result).get("Snapshot") == {latest["name"]}, result.answer
    # a question about code or about the API is not the walk's: retrieval answers it
    result = await answerer.ask("Quel code appelle l'endpoint de refresh de la VDB orders_qa ?", now=NOW)
    assert result.route == "retrieval"
    result = await answerer.ask("Which VDB endpoint refreshes orders_qa from a snapshot?", now=NOW)
    assert result.route == "retrieval"

    # cross-source links: the code's call on the VDB, the job's documented operations
    hood = await store.neighbours([f"Vdb:dct-paris/{orders_qa['id']}"], ["ACTS_ON", "DEPENDS_ON"], 50)
    labels = {n.label for n in hood.nodes}
    assert {"HttpCall", "DelphixJob", "Pipeline"} <= labels
    job = next(iter(failed))
    documented = await store.neighbours([f"DelphixJob:dct-paris/{job}"], ["DOCUMENTED_AS", "INSTANCE_OF"], 50)
    paths = {n.props.get("path") for n in documented.nodes if n.label == "Endpoint"}
    assert paths and all(p.startswith("/vdbs/{") and "refresh" in p for p in paths), paths
    assert any(n.label == "DelphixKind" and n.key == "Job" for n in documented.nodes)

    # a configuration entry naming a VDB: the flow it configures depends on it
    customers_qa = next(v for v in estate.vdbs if v["name"] == "customers_qa")
    hood = await store.neighbours([f"Vdb:dct-paris/{customers_qa['id']}"], ["DEPENDS_ON", "MENTIONS"], 50)
    edges = {(e.type, e.start.split(":", 1)[0]) for e in hood.edges}
    assert ("DEPENDS_ON", "Pipeline") in edges and ("MENTIONS", "DocChunk") in edges, edges

    # the Neo4j Browser guide's saved queries run on a real graph (the stale VDBs among others)
    if store.kind == "neo4j":
        from flowrag.schema.docs import BROWSER_QUERIES

        rows = {title: await store.cypher(cypher) for title, _, cypher in BROWSER_QUERIES}
        assert {r["v"]["name"] for r in rows["VDBs not refreshed for 7 days"]} >= {"customers_dev"}
        assert rows["The flows that depend on a VDB, and the DCT jobs on it"]

    # the morning report of yesterday names the VDB behind the failed flow and the failed DCT job
    from flowrag.report.facts import build_facts

    facts = await build_facts(store, (NOW - timedelta(days=1)).date(), "Europe/Paris", now=NOW)
    named = {(o.kind, o.name): o for o in facts.delphix}
    assert named[("VDB", "orders_qa")].pipelines == ("refresh_orders_qa",)
    job_row = named[("DCT job DB_REFRESH", "orders_qa")]
    assert job_row.pipelines == ("refresh_orders_qa",) and job_row.citations[0].startswith("dct-paris /jobs")


async def test_free_text_mentions_live_objects_whichever_arrives_first(
    embedded: Any, cached_embedder: Any, nlp: Any
) -> None:
    """An incident written before the estate is synced, one after: both mention the VDB they
    name as a word; a word that is only part of a name ("orders") mentions nothing."""
    store = embedded
    estate = make_estate(NOW)
    orders_qa = next(v for v in estate.vdbs if v["name"] == "orders_qa")
    vdb = f"Vdb:dct-paris/{orders_qa['id']}"

    def ticket(i: int, text: str) -> dict[str, Any]:
        return {"_id": f"inc{i}", "titre": f"Incident {i}", "ouvert_le": NOW.isoformat(), "description": text}

    async def mentioned(i: int) -> set[str]:
        uid = f"Record:incidents/inc{i}"
        return {e.end for e in (await store.neighbours([uid], ["MENTIONS"])).edges if e.start == uid}

    early = [
        ticket(1, "La base orders_qa ne répond plus depuis ce matin."),
        ticket(2, "Les orders sont en retard."),
    ]
    await ingest_documents(
        store, cached_embedder, load_vocabulary(), "incidents", early, IngestReport("mongo", "i"), nlp=nlp
    )
    assert vdb not in await mentioned(1)
    with serve(FakeDct(estate)) as url:
        await ingest_delphix(store, cached_embedder, DctOptions(url, API_KEY, name="dct-paris"), now=NOW)
    assert vdb in await mentioned(1)  # linked back by the estate's sync
    late = [ticket(3, "Refresh KO sur customers_dev, voir orders_qa aussi.")]
    await ingest_documents(
        store, cached_embedder, load_vocabulary(), "incidents", late, IngestReport("mongo", "i"), nlp=nlp
    )
    customers_dev = next(v for v in estate.vdbs if v["name"] == "customers_dev")
    assert {vdb, f"Vdb:dct-paris/{customers_dev['id']}"} <= await mentioned(3)
    assert not {e for e in await mentioned(2) if e.startswith("Vdb:")}
    # a run whose field names a VDB mentions it too (its flow's name does not contain it)
    run = {
        "_id": "r1",
        "pipeline": "nightly_masking",
        "status": "FAILED",
        "start_time": NOW.isoformat(),
        "target_vdb": "customers_qa",
    }
    await ingest_documents(
        store, cached_embedder, load_vocabulary(), "runs", [run], IngestReport("mongo", "r")
    )
    customers_qa = next(v for v in estate.vdbs if v["name"] == "customers_qa")
    hood = await store.neighbours(["Record:runs/r1"], ["MENTIONS"])
    assert f"Vdb:dct-paris/{customers_qa['id']}" in {e.end for e in hood.edges}


async def test_a_neo4j_store_made_before_the_estate_labels_gets_its_full_text_index_rebuilt(
    neo4j_server: Any,
) -> None:
    """A store migrated by an older ontology: its full-text index misses the new labels, so the
    migration rebuilds it (else a VDB could never be found by name on Neo4j)."""
    from flowrag.graph.neo4j_queries import FULLTEXT_INDEX, SHOW_FULLTEXT_INDEX, fulltext_index_covers
    from tests.conftest import connected_neo4j_store

    store = await connected_neo4j_store(neo4j_server)
    await store.wipe()
    await store._auto(f"DROP INDEX {FULLTEXT_INDEX} IF EXISTS")  # type: ignore[attr-defined]
    await store._auto(  # type: ignore[attr-defined]
        f"CREATE FULLTEXT INDEX {FULLTEXT_INDEX} FOR (n:Endpoint|Pipeline) ON EACH [n.name, n.text]"
    )
    await store.migrate(384)
    found = await store._read(SHOW_FULLTEXT_INDEX)  # type: ignore[attr-defined]
    assert (frozenset(found[0]["labels"]), frozenset(found[0]["properties"])) == fulltext_index_covers()
    assert "Vdb" in found[0]["labels"]

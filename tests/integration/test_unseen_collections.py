"""Monitoring collections shaped unlike the bundled generator, built from real Hadoop log lines
(../shared/data/loghub): nested French, flat French with epoch seconds, camelCase English. Their
mappings are inferred without overrides and the aggregates are exact — the expected counts are
computed here from the fixture, never from flowrag's output. Both stores."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from flowrag.answer.service import Answerer
from flowrag.extract.mapping import infer_mapping
from flowrag.graph.port import Filter, GraphStore
from flowrag.ingest.monitoring import ingest_documents
from flowrag.ingest.writer import IngestReport
from flowrag.models.vocabulary import load_vocabulary
from flowrag.settings import LLMSettings
from tests.conftest import SHARED_DATA

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
YESTERDAY = NOW.replace(hour=0, minute=0, second=0) - timedelta(days=1)


def _lines(limit: int = 240) -> list[dict[str, str]]:
    with (SHARED_DATA / "loghub" / "Hadoop_2k.log_structured.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))[::8][:limit]  # every 8th line: INFO, WARN and ERROR mixed


def _flow(row: dict[str, str]) -> str:
    return row["Component"].rsplit(".", 1)[-1].lower()


def _failed(row: dict[str, str]) -> bool:
    return row["Level"] in ("WARN", "ERROR", "FATAL")


def collections() -> dict[str, list[dict[str, Any]]]:
    rows = _lines()
    nested, flat, camel = [], [], []
    for i, row in enumerate(rows):
        # a third of the runs ran yesterday, the rest two days before (outside "hier")
        when = (
            YESTERDAY + timedelta(minutes=5 * i) if i % 3 == 0 else YESTERDAY - timedelta(days=1, minutes=i)
        )
        failed = _failed(row)
        if i % 3 == 0:
            nested.append(
                {
                    "_id": f"n{i}",
                    "job": {"nom": _flow(row), "techno": "Hadoop", "serveur": f"hdp-node-{i % 4:02d}"},
                    "execution": {
                        "debut": when.isoformat(),
                        "fin": (when + timedelta(minutes=3)).isoformat(),
                        "etat": "EN ÉCHEC" if failed else "terminé",
                    },
                    "erreur": {"msg": row["Content"]} if failed else {},
                }
            )
        elif i % 3 == 1:
            flat.append(
                {
                    "_id": f"f{i}",
                    "nom_flux": _flow(row),
                    "statut": "échoué" if failed else "succès",
                    "date_debut": int(when.timestamp()),
                    "message_erreur": row["Content"] if failed else "",
                    "machine": f"hdp-node-{i % 4:02d}",
                }
            )
        else:
            camel.append(
                {
                    "_id": f"c{i}",
                    "jobName": _flow(row),
                    "returnCode": 4 if failed else 0,
                    "startedAt": when.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
                    "errorMessage": row["Content"] if failed else None,
                }
            )
    return {"executions_fr": nested, "suivi_flux": flat, "jobRuns": camel}


def expected_failures_yesterday() -> Counter[str]:
    """Flows that failed yesterday (UTC), counted from the fixture itself."""
    counts: Counter[str] = Counter()
    start, end = YESTERDAY, YESTERDAY + timedelta(days=1)
    for i, row in enumerate(_lines()):
        when = (
            YESTERDAY + timedelta(minutes=5 * i) if i % 3 == 0 else YESTERDAY - timedelta(days=1, minutes=i)
        )
        if i % 3 == 2:
            when -= timedelta(hours=1)  # "+01:00" local time: one hour earlier in UTC
        if _failed(row) and start <= when < end:
            counts[_flow(row)] += 1
    return counts


def test_three_shapes_are_mapped_without_overrides() -> None:
    found = {name: infer_mapping(docs).fields for name, docs in collections().items()}
    assert {k: v for k, v in found["executions_fr"].items() if v} == {
        "pipeline": "job.nom",
        "technology": "job.techno",
        "status": "execution.etat",
        "error": "erreur.msg",
        "start": "execution.debut",
        "end": "execution.fin",
        "host": "job.serveur",
    }
    assert {k: v for k, v in found["suivi_flux"].items() if v} == {
        "pipeline": "nom_flux",
        "status": "statut",
        "error": "message_erreur",
        "start": "date_debut",
        "host": "machine",
    }
    assert {k: v for k, v in found["jobRuns"].items() if v} == {
        "pipeline": "jobName",
        "status": "returnCode",
        "error": "errorMessage",
        "start": "startedAt",
    }


async def test_their_runs_and_aggregates_are_exact(store: GraphStore, cached_embedder: Any, nlp: Any) -> None:
    data = collections()
    for name, docs in data.items():
        report = IngestReport("mongo", name)
        await ingest_documents(store, cached_embedder, load_vocabulary(), name, docs, report)
        assert report.mapping["pipeline"].split(" ")[0] in ("job.nom", "nom_flux", "jobName")
        runs = await store.count_nodes("Run", [Filter("scope", "=", name)])
        assert runs == len(docs)
    failed_runs = await store.count_nodes("Run", [Filter("status", "=", "FAILED")])
    assert failed_runs == sum(1 for row in _lines() if _failed(row))
    expected = expected_failures_yesterday()
    result = await Answerer(store, cached_embedder, nlp, LLMSettings()).ask(
        "Quels flux ont échoué hier ?", now=NOW, top_k=50
    )
    assert result.route == "aggregate"
    assert result.as_dict()["plan"]["window"]["start"] == "2026-11-21T00:00:00Z"
    shown = Counter({str(c.snippet.split(" : ")[0].removeprefix("Flux ")): 0 for c in result.citations})
    assert set(shown) == set(expected), (sorted(shown), sorted(expected))
    assert f"{sum(expected.values())} exécution(s)" in result.answer


async def test_inspect_previews_a_dump_without_writing(tmp_path: Any) -> None:
    import json

    from flowrag.ingest.inspect import inspect_dump

    for name, docs in collections().items():
        (tmp_path / f"{name}.json").write_text("\n".join(json.dumps(d) for d in docs))
    previews = {p.collection: p for p in await inspect_dump(tmp_path)}
    fixture = collections()
    for name, docs in fixture.items():
        preview = previews[name]
        failed = sum(
            1 for i, row in enumerate(_lines()) if i % 3 == list(fixture).index(name) and _failed(row)
        )
        assert preview.runs == preview.sampled == len(docs)
        assert preview.statuses.get("FAILED", 0) == failed
        assert all(0 < c <= 1 for c in preview.confidence.values())
    assert (
        previews["jobRuns"].fields["status"] == "returnCode"
        and previews["jobRuns"].confidence["status"] >= 0.8
    )
    assert list(tmp_path.iterdir()) and not (tmp_path / "graph").exists()  # nothing written


def fixture_runs() -> list[dict[str, Any]]:
    """Every run of the three collections as plain facts (flow, failed, UTC start, host, tech)."""
    runs = []
    for i, row in enumerate(_lines()):
        when = (
            YESTERDAY + timedelta(minutes=5 * i) if i % 3 == 0 else YESTERDAY - timedelta(days=1, minutes=i)
        )
        if i % 3 == 2:
            when -= timedelta(hours=1)
        runs.append(
            {
                "flow": _flow(row),
                "failed": _failed(row),
                "when": when,
                "host": f"hdp-node-{i % 4:02d}" if i % 3 != 2 else None,
                "tech": "hadoop" if i % 3 == 0 else None,
            }
        )
    return runs


def _yesterday(run: dict[str, Any]) -> bool:
    return bool(YESTERDAY <= run["when"] < YESTERDAY + timedelta(days=1))


def _expected_answers() -> list[tuple[str, dict[str, Any]]]:
    runs = fixture_runs()
    failed = [r for r in runs if r["failed"]]
    by_flow = Counter(r["flow"] for r in failed)
    never = {r["flow"] for r in runs} - set(by_flow)
    hosts = Counter(r["host"] for r in failed if r["host"])
    hosts_yesterday = Counter(r["host"] for r in failed if r["host"] and _yesterday(r))
    before = [r for r in failed if NOW - timedelta(days=4) <= r["when"] < NOW - timedelta(days=2)]
    assert before  # the comparison below compares with a non-empty period
    per_day = Counter(r["when"].date().isoformat() for r in failed)
    return [
        (
            "Quels flux ont échoué hier ?",
            {"groups": dict(Counter(r["flow"] for r in failed if _yesterday(r)))},
        ),
        ("Combien d'échecs cette semaine ?", {"total": len(failed)}),
        ("Quels flux n'ont jamais échoué ?", {"keys": never}),
        ("Which pipelines never failed?", {"keys": never}),
        ("Quelle machine a le plus d'échecs ?", {"top": hosts}),
        ("Which host had the most failures yesterday?", {"top": hosts_yesterday}),
        ("How many failed runs on hdp-node-02?", {"total": hosts["hdp-node-02"]}),
        ("Quelle technologie échoue le plus ?", {"top": Counter(r["tech"] for r in failed if r["tech"])}),
        ("Quel flux échoue le plus souvent ?", {"top": by_flow}),
        ("Nombre d'échecs par jour", {"groups": dict(per_day)}),
        (
            "Combien d'échecs hier par rapport à avant-hier ?",
            {"total": sum(1 for r in failed if _yesterday(r))},
        ),
        ("Failures in the last 2 days compared with the 2 days before", {"previous": len(before)}),
    ]


async def test_aggregate_questions_are_exact(store: GraphStore, cached_embedder: Any, nlp: Any) -> None:
    """Grouping, negation, ordering, filters by a group value and comparisons, in French and
    English; every figure is computed from the fixture above."""
    for name, docs in collections().items():
        await ingest_documents(
            store, cached_embedder, load_vocabulary(), name, docs, IngestReport("mongo", name)
        )
    answerer = Answerer(store, cached_embedder, nlp, LLMSettings())
    for question, expected in _expected_answers():
        result = await answerer.ask(question, now=NOW, top_k=50)
        assert result.route == "aggregate", question
        agg = result.as_dict()["plan"]["aggregate"]
        groups = {g["key"]: g["count"] for g in agg["groups"]}
        if "groups" in expected:
            assert groups == expected["groups"], question
        if "total" in expected:
            assert agg["total"] == expected["total"], question
        if "keys" in expected:
            assert agg["negate"] and set(groups) == expected["keys"], question
        if "top" in expected:
            top: Counter[str] = expected["top"]
            best = max(top.values())
            assert agg["groups"][0]["count"] == best, question
            assert agg["groups"][0]["key"] in {k for k, n in top.items() if n == best}, question  # ties
        if "previous" in expected:
            assert agg["previous_total"] == expected["previous"], question
            assert f"Previous period: {expected['previous']} (" in result.answer, question
        assert result.citations, question


def incidents() -> list[dict[str, Any]]:
    """Free-text tickets written about the failed runs: the flow and the machine are only named in
    the prose, never in a field of their own."""
    docs = []
    for i, run in enumerate(r for r in fixture_runs() if r["failed"] and r["host"]):
        if i % 4:
            continue
        docs.append(
            {
                "_id": f"inc{i}",
                "titre": f"Incident {i}",
                "ouvert_le": run["when"].isoformat(),
                "description": f"Le traitement {run['flow']} est tombé sur {run['host']} (Hadoop), "
                "relance demandée.",
            }
        )
    return docs


async def test_incidents_mention_the_flows_and_hosts_they_name(
    store: GraphStore, cached_embedder: Any, nlp: Any
) -> None:
    from flowrag.schema import NodeLabel, make_uid

    for name, docs in collections().items():
        await ingest_documents(
            store, cached_embedder, load_vocabulary(), name, docs, IngestReport("mongo", name)
        )
    tickets = incidents()
    report = IngestReport("mongo", "incidents")
    await ingest_documents(store, cached_embedder, load_vocabulary(), "incidents", tickets, report, nlp=nlp)
    assert await store.count_nodes("Run", [Filter("scope", "=", "incidents")]) == 0  # records only
    for doc in tickets:
        words = doc["description"].replace(",", " ").split()
        flow, host = words[2], words[6]
        record = make_uid(NodeLabel.RECORD, f"incidents/{doc['_id']}")
        hood = await store.neighbours([record], ["MENTIONS"])
        mentioned = {e.end for e in hood.edges if e.start == record}
        assert {
            make_uid(NodeLabel.PIPELINE, flow),
            make_uid(NodeLabel.HOST, host),
            make_uid(NodeLabel.TECHNOLOGY, "hadoop"),
        } <= mentioned, doc["description"]
    # the host an incident names is the node its runs ran on: one graph, not two
    ran_on = await store.neighbours([make_uid(NodeLabel.HOST, "hdp-node-01")], ["RAN_ON", "MENTIONS"])
    assert {e.type for e in ran_on.edges} == {"RAN_ON", "MENTIONS"}


async def test_incidents_ingested_before_their_runs_are_linked_once_the_flows_arrive(
    store: GraphStore, cached_embedder: Any, nlp: Any
) -> None:
    """Tickets first, runs a day later: the flows and hosts the tickets named did not exist when
    they were read; the runs' ingest links them back."""
    from flowrag.schema import NodeLabel, make_uid

    tickets = incidents()
    await ingest_documents(
        store, cached_embedder, load_vocabulary(), "incidents", tickets, IngestReport("mongo", "i"), nlp=nlp
    )
    record = make_uid(NodeLabel.RECORD, f"incidents/{tickets[0]['_id']}")
    words = tickets[0]["description"].replace(",", " ").split()
    flow, host = make_uid(NodeLabel.PIPELINE, words[2]), make_uid(NodeLabel.HOST, words[6])
    before = {e.end for e in (await store.neighbours([record], ["MENTIONS"])).edges}
    assert flow not in before and host in before  # the host looked like one; the flow was unknown
    for name, docs in collections().items():
        await ingest_documents(
            store, cached_embedder, load_vocabulary(), name, docs, IngestReport("mongo", name)
        )
    for doc in tickets:
        words = doc["description"].replace(",", " ").split()
        uid = make_uid(NodeLabel.RECORD, f"incidents/{doc['_id']}")
        mentioned = {e.end for e in (await store.neighbours([uid], ["MENTIONS"])).edges if e.start == uid}
        assert make_uid(NodeLabel.PIPELINE, words[2]) in mentioned, doc["description"]
    # a field's name is not a flow the ticket names
    assert not await store.get_nodes([make_uid(NodeLabel.PIPELINE, "ouvert_le")])
    runs = await store.neighbours([flow], ["MENTIONS", "OF"], cap_per_node=500)
    assert {e.type for e in runs.edges} == {"MENTIONS", "OF"}  # one flow node, its runs and tickets


async def test_warning_codes_and_unparsed_timestamps(store: GraphStore, cached_embedder: Any) -> None:
    """Return codes named as warnings are WARNING, not FAILED; a start that is no time keeps its
    raw text, stays out of every window, and the report counts it."""
    docs = [
        {"_id": "a", "jobName": "nightly_load", "returnCode": 4, "startedAt": "2026-11-21T02:00:00Z"},
        {"_id": "b", "jobName": "nightly_load", "returnCode": 8, "startedAt": "2026-11-21T03:00:00Z"},
        {"_id": "c", "jobName": "nightly_load", "returnCode": 0, "startedAt": "la nuit dernière"},
    ]
    report = IngestReport("mongo", "codes")
    await ingest_documents(
        store, cached_embedder, load_vocabulary(), "codes", docs, report, warning_codes=frozenset({4})
    )
    runs = {r.props["doc_id"]: r for r in await store.find_nodes("Run", [Filter("scope", "=", "codes")])}
    assert {k: r.props["status"] for k, r in runs.items()} == {"a": "WARNING", "b": "FAILED", "c": "SUCCESS"}
    assert runs["c"].props["started_at_raw"] == "la nuit dernière" and "started_at" not in runs["c"].props
    assert any(e.startswith("1 timestamp(s) could not be parsed") and "codes/c" in e for e in report.errors)

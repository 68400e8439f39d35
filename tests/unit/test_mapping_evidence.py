"""Mapping evidence beyond exact field names: a start/end pair read from the runs' own times,
keys told from names, words joined or met in another form, and compound flow names in questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowrag.answer.aggregates import GroupValues
from flowrag.extract.mapping import field_value, flow_name, infer_mapping
from flowrag.extract.monitoring import FieldMapping, extract_document
from flowrag.models.vocabulary import load_vocabulary
from flowrag.schema.ontology import NodeLabel
from flowrag.timeutil import parse_instant

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def _runs(n: int = 30) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        start = T0 + timedelta(hours=7 * i, minutes=i)
        out.append(
            {"flow": f"flow_{i % 3}", "state": "failed" if i % 4 == 0 else "success", "i": i, "start": start}
        )
    return out


def test_the_start_and_end_are_the_pair_that_brackets_the_run() -> None:
    # Airflow: a data interval a day before the run, and the run's own start_date/end_date
    docs = [
        {
            "dag_id": r["flow"],
            "state": r["state"],
            "data_interval_start": (r["start"] - timedelta(days=1)).isoformat(),
            "data_interval_end": r["start"].replace(second=0).isoformat(),
            "start_date": (r["start"] + timedelta(seconds=5)).isoformat(),
            "end_date": (r["start"] + timedelta(minutes=3 + r["i"])).isoformat(),
        }
        for r in _runs()
    ]
    found = infer_mapping(docs)
    assert (found.fields["start"], found.fields["end"]) == ("start_date", "end_date")
    assert "start" not in found.ambiguous and "end" not in found.ambiguous  # the times told them apart


def test_one_instant_written_twice_is_not_a_start_and_an_end() -> None:
    docs = [
        {
            "job": {"name": r["flow"]},
            "status": r["state"],
            "date-started": {"unixtime": int(r["start"].timestamp() * 1000), "date": r["start"].isoformat()},
            "date-ended": {
                "unixtime": int((r["start"] + timedelta(minutes=9)).timestamp() * 1000),
                "date": (r["start"] + timedelta(minutes=9)).isoformat(),
            },
        }
        for r in _runs()
    ]
    fields = infer_mapping(docs).fields
    assert fields["start"] in ("date-started.unixtime", "date-started.date")
    assert fields["end"] in ("date-ended.unixtime", "date-ended.date")


@pytest.mark.parametrize(
    "key",
    [lambda i: f"IN01:{i:05x}", lambda i: f"{i:08x}-0000-4000-8000-{i:012x}", lambda i: 900_000 + i],
)
def test_a_flow_is_what_people_call_it_not_its_key(key: Any) -> None:
    docs = [
        {"jobId": key(r["i"]), "name": r["flow"].upper(), "status": r["state"], "start": r["start"]}
        for r in _runs()
    ]
    assert infer_mapping(docs).fields["pipeline"] == "name"


def test_split_and_inflected_words_still_name_their_concept() -> None:
    docs = [
        {
            "flow_name": r["flow"],
            "state": {"type": r["state"]},
            "status": {
                "startTime": r["start"].isoformat(),
                "completionTime": (r["start"] + timedelta(minutes=5)).isoformat(),
            },
            "total_run_time": 300.0 + r["i"],
            "ExecutionTime": 300 + r["i"],
        }
        for r in _runs()
    ]
    fields = infer_mapping(docs).fields
    assert fields["end"] == "status.completionTime"  # completion ~ completed
    assert fields["duration"] in ("total_run_time", "ExecutionTime")  # run_time -> runtime; a time of numbers


def test_a_time_word_over_instants_is_no_duration() -> None:
    docs = [
        {"job": r["flow"], "status": r["state"], "ExecutionTime": r["start"].isoformat()} for r in _runs()
    ]
    fields = infer_mapping(docs).fields
    assert fields["duration"] is None and fields["start"] == "ExecutionTime"


def test_a_compound_name_in_a_question_finds_the_key_that_holds_it() -> None:
    keys = frozenset(
        {"payments_recon_dtsx", "wf_ledger_close", "orders_ingest", "orders_ingest_retry", "kyc"}
    )
    values = GroupValues({"pipeline": keys}, {})
    assert values.named_in("Why did payments_recon fail yesterday?") == {"pipeline": ("payments_recon_dtsx",)}
    assert values.named_in("pourquoi ledger_close a échoué") == {"pipeline": ("wf_ledger_close",)}
    # an exact key is what was asked, not every key that contains it
    assert values.named_in("orders_ingest failures") == {"pipeline": ("orders_ingest",)}
    # one word is too loose to stand for a longer name
    assert values.named_in("ledger failures") == {}


def test_a_flow_named_by_no_field_name_is_found_by_its_values_and_an_arn_is_named_by_its_tail() -> None:
    arn = "arn:aws:states:eu-west-3:123456789012"
    docs = [
        {
            "executionArn": f"{arn}:execution:{r['flow']}:{r['i']:08x}",
            "stateMachineArn": f"{arn}:stateMachine:{r['flow']}",
            "name": f"{r['i']:08x}-5f00-4000-8000-000000000000",
            "status": r["state"].upper(),
            "startDate": r["start"].isoformat(),
        }
        for r in _runs()
    ]
    found = infer_mapping(docs)
    # "machine" in the name does not make an ARN a host: no host is written with colons
    assert found.fields["host"] is None
    assert found.fields["pipeline"] == "stateMachineArn"
    assert 0 < found.confidence["pipeline"] < 0.5  # values only: said with a low confidence
    assert flow_name(f"{arn}:stateMachine:ledger_close") == "ledger_close"
    assert flow_name("data/ledger_close") == "ledger_close"
    assert flow_name("ledger_close #42") == "ledger_close"
    assert flow_name("LEDGER CLOSE") == "LEDGER CLOSE"


def test_no_flow_is_guessed_where_nothing_ran() -> None:
    # tickets: no status, so no field is taken for a flow on its values alone
    docs = [
        {"ref": f"INC{i:05d}", "team": f"team_{i % 3}", "opened": (T0 + timedelta(hours=i)).isoformat()}
        for i in range(30)
    ]
    assert infer_mapping(docs).fields["pipeline"] is None


def test_an_error_message_is_the_text_failed_runs_carry() -> None:
    docs = []
    for r in _runs():
        failed = r["state"] == "failed"
        docs.append(
            {
                "traitement": {"nom": r["flow"]},
                "etat": "KO" if failed else "OK",
                "debut": r["start"].isoformat(),
                "anomalie": {"libelle": f"Lost executor {r['i']} on host-{r['i']}: heartbeat timed out"}
                if failed
                else None,
                # text on every run says nothing about failures
                "commentaire": f"lancé par l'ordonnanceur, lot numéro {r['i']} de la nuit",
            }
        )
    found = infer_mapping(docs)
    assert found.fields["error"] == "anomalie.libelle"


def test_a_day_and_its_time_of_day_in_two_fields_are_read_together() -> None:
    docs = [
        {
            "Traitement": r["flow"].upper(),
            "Statut": "En erreur" if r["state"] == "failed" else "Terminé",
            "DateDebut": r["start"].strftime("%Y-%m-%d"),
            "HeureDebut": r["start"].strftime("%H:%M:%S"),
            "DateFin": (r["start"] + timedelta(minutes=5)).strftime("%Y-%m-%d"),
            "HeureFin": (r["start"] + timedelta(minutes=5)).strftime("%H:%M:%S"),
        }
        for r in _runs()
    ]
    fields = infer_mapping(docs).fields
    assert (fields["start"], fields["end"]) == ("DateDebut+HeureDebut", "DateFin+HeureFin")
    flat = docs[3]
    assert field_value(flat, fields["start"]) == f"{flat['DateDebut']} {flat['HeureDebut']}"
    assert field_value({"DateDebut": "2026-11-25"}, "DateDebut+HeureDebut") == "2026-11-25"
    assert field_value({"a+b": 1}, "a+b") == 1  # a field literally named so
    mapping = FieldMapping.of(fields)
    extract = extract_document(
        {"_id": "x", **flat}, "vtom", mapping, load_vocabulary(), zone=ZoneInfo("Europe/Paris")
    )
    run = next(n for n in extract.nodes if n.label == NodeLabel.RUN)
    local = datetime.fromisoformat(f"{flat['DateDebut']}T{flat['HeureDebut']}").replace(
        tzinfo=ZoneInfo("Europe/Paris")
    )
    assert run.props["started_at"] == parse_instant(local)


def test_a_host_by_its_values_and_keys_or_text_are_no_environment_or_duration() -> None:
    docs = [
        {
            "fullDisplayName": f"{r['flow']} #{r['i']}",
            "result": "FAILURE" if r["state"] == "failed" else "SUCCESS",
            "timestamp": int(r["start"].timestamp() * 1000),
            "builtOn": f"prdbatch{1 + r['i'] % 3:02d}",  # no host word in the name
            "sha": f"{r['i'] * 7919:040x}",  # written like a host name, but a hash
            "runtimeEnvironmentId": "0001TL25000000000003",  # a key, not an environment or a duration
        }
        for r in _runs()
    ]
    fields = infer_mapping(docs).fields
    assert fields["host"] == "builtOn"
    assert fields["environment"] is None and fields["duration"] is None

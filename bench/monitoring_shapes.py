"""Monitoring exports of tools flowrag was not written against, in the shapes their own APIs
document, measured four ways, with plain vector and BM25 baselines beside the retrieval figure:

- **mapping**: of the concepts an export has (flow, status, start, end, duration, host, error
  message), the share inferred to the right field, without overrides;
- **statuses**: the share of runs whose status class (FAILED, SUCCESS…) is right;
- **aggregate answers**: questions in French and English, four paraphrases of each of four kinds
  (yesterday's failures by flow, failures since Monday, the flow failing most, flows that never
  failed), asked end to end; an answer is exact when its groups and counts equal the figures
  computed here from the facts (in Europe/Paris days), each group named as the tool writes the
  flow (ledger_close.dtsx, wf_ledger_close); the "why" questions say the bare flow name;
- **why, recall@5**: "why did <flow> fail yesterday?", a hit when one of the first five citations
  is one of that flow's failed runs of the day; the vector and BM25 (bm25s) baselines rank the
  runs' own documents, flattened to text.

Times written without an offset are read in the team's zone (Europe/Paris), as
``FLOWRAG_TIMEZONE`` sets it for an ingestion.

The shapes are split: **dev** shapes are the ones looked at when something is changed in flowrag;
**test** shapes are reported only. Messages are real Spark and Hadoop log lines
(../shared/data/loghub), the flows and times a seeded story: six flows over 14 days, one of them
never failing, one failing most.

python bench/monitoring_shapes.py [--split dev|test|all] [--questions dev|test] [--details]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import bm25s
import numpy as np
from _common import machine

from flowrag.answer.service import Answerer
from flowrag.extract.mapping import flow_name, infer_mapping
from flowrag.extract.monitoring import flatten
from flowrag.graph.embedded import EmbeddedStore
from flowrag.ingest.monitoring import ingest_documents
from flowrag.ingest.writer import IngestReport
from flowrag.models.embeddings import CachedEmbedder, make_embedder
from flowrag.models.nlp import NLP
from flowrag.models.vocabulary import load_vocabulary, normalise_name
from flowrag.settings import EmbeddingSettings, LLMSettings, Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "loghub"
TZ = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=TZ)  # a Wednesday morning in Paris
FLOWS = ["ledger_close", "orders_ingest", "risk_scoring", "kyc_sync", "fx_rates_load", "payments_recon"]
NEVER_FAILS = "fx_rates_load"
FAILS_MOST = "orders_ingest"


def _messages() -> list[str]:
    out = []
    for system in ("Spark", "Hadoop"):
        with (SHARED / f"{system}_2k.log_structured.csv").open(encoding="utf-8") as handle:
            out += [r["Content"] for r in csv.DictReader(handle) if r["Level"] in ("WARN", "ERROR", "FATAL")]
    return out


def facts(n: int = 240) -> list[dict[str, Any]]:
    """The runs as plain facts, the same story for every shape."""
    rng = random.Random(7)
    messages = _messages()
    out = []
    for i in range(n):
        flow = FLOWS[i % len(FLOWS)]
        rate = 0.0 if flow == NEVER_FAILS else 0.45 if flow == FAILS_MOST else 0.15
        start = NOW - timedelta(
            days=rng.randrange(0, 14), hours=rng.randrange(0, 20), minutes=rng.randrange(60)
        )
        seconds = rng.randrange(30, 3000)
        failed = rng.random() < rate
        out.append(
            {
                "i": i,
                "flow": flow,
                "failed": failed,
                "start": start.astimezone(UTC),
                "end": (start + timedelta(seconds=seconds)).astimezone(UTC),
                "seconds": seconds,
                "host": f"prdbatch{1 + i % 4:02d}",
                "message": rng.choice(messages) if failed else "",
            }
        )
    return out


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


# -- the shapes: (documents, the field each concept is in) -------------------------------------
Shape = Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], dict[str, str]]]


def databricks(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Jobs API 2.1 runs/list."""
    docs = [
        {
            "_id": f"run-{f['i']}",
            "job_id": 1000 + FLOWS.index(f["flow"]),
            "run_id": 50_000 + f["i"],
            "run_name": f["flow"],
            "state": {
                "life_cycle_state": "TERMINATED",
                "result_state": "FAILED" if f["failed"] else "SUCCESS",
                "state_message": f["message"],
            },
            "start_time": _ms(f["start"]),
            "end_time": _ms(f["end"]),
            "execution_duration": f["seconds"] * 1000,
            "cluster_instance": {"cluster_id": "0923-164208-meows279", "spark_context_id": str(f["i"])},
        }
        for f in fs
    ]
    truth = {"pipeline": "run_name", "status": "state.result_state", "start": "start_time", "end": "end_time"}
    return docs, truth | {"duration": "execution_duration", "error": "state.state_message"}


def glue(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """AWS Glue GetJobRuns."""
    docs = [
        {
            "_id": f"jr_{f['i']:08x}",
            "Id": f"jr_{f['i']:08x}",
            "JobName": f["flow"],
            "JobRunState": "FAILED" if f["failed"] else "SUCCEEDED",
            "ErrorMessage": f["message"] or None,
            "StartedOn": f["start"].isoformat(timespec="milliseconds"),
            "CompletedOn": f["end"].isoformat(timespec="milliseconds"),
            "ExecutionTime": f["seconds"],
            "WorkerType": "G.1X",
            "GlueVersion": "4.0",
        }
        for f in fs
    ]
    truth = {"pipeline": "JobName", "status": "JobRunState", "start": "StartedOn", "end": "CompletedOn"}
    return docs, truth | {"duration": "ExecutionTime", "error": "ErrorMessage"}


def jenkins(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Jenkins /job/<name>/api/json?tree=builds[...], one collection for every job's builds."""
    docs = [
        {
            "_id": f"{f['flow']}-{f['i']}",
            "fullDisplayName": f"{f['flow']} #{f['i']}",
            "number": f["i"],
            "result": "FAILURE" if f["failed"] else "SUCCESS",
            "timestamp": _ms(f["start"]),
            "duration": f["seconds"] * 1000,
            "builtOn": f["host"],
            "url": f"https://ci.bank.lan/job/{f['flow']}/{f['i']}/",
        }
        for f in fs
    ]
    truth = {"pipeline": "fullDisplayName", "status": "result", "start": "timestamp", "duration": "duration"}
    return docs, truth | {"host": "builtOn"}


def kubernetes(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """batch/v1 Job objects (kubectl get jobs -o json)."""
    docs = []
    for f in fs:
        condition = (
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": f["message"]}
            if f["failed"]
            else {"type": "Complete", "status": "True"}
        )
        docs.append(
            {
                "_id": f"job-{f['i']}",
                "metadata": {
                    "name": f"{f['flow'].replace('_', '-')}-{29_000_000 + f['i']}",
                    "namespace": "etl",
                    "labels": {"app": f["flow"]},
                },
                "status": {
                    "startTime": f["start"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "completionTime": f["end"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "failed" if f["failed"] else "succeeded": 1,
                    "conditions": [condition],
                },
            }
        )
    truth = {"pipeline": "metadata.labels.app", "status": "status.conditions.0.type"}
    return docs, truth | {
        "start": "status.startTime",
        "end": "status.completionTime",
        "error": "status.conditions.0.message",
    }


def dagster(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Dagster GraphQL runsOrError results."""
    docs = [
        {
            "_id": f"{f['i']:032x}",
            "runId": f"{f['i']:032x}",
            "jobName": f["flow"],
            "status": "FAILURE" if f["failed"] else "SUCCESS",
            "startTime": f["start"].timestamp(),
            "endTime": f["end"].timestamp(),
            "tags": [{"key": "dagster/agent_id", "value": "agent-7"}],
        }
        for f in fs
    ]
    return docs, {"pipeline": "jobName", "status": "status", "start": "startTime", "end": "endTime"}


def ssis(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """SQL Server SSISDB catalog.executions (status 4 = failed, 7 = succeeded)."""
    docs = [
        {
            "_id": 90_000 + f["i"],
            "execution_id": 90_000 + f["i"],
            "folder_name": "ETL",
            "project_name": "Finance",
            "package_name": f"{f['flow']}.dtsx",
            "status": 4 if f["failed"] else 7,
            "start_time": f["start"].astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S.%f0 %z")[:-2] + ":00",
            "end_time": f["end"].astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S.%f0 %z")[:-2] + ":00",
            "server_name": f["host"].upper(),
        }
        for f in fs
    ]
    truth = {"pipeline": "package_name", "status": "status", "start": "start_time", "end": "end_time"}
    return docs, truth | {"host": "server_name"}


def oozie(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Oozie REST /v1/jobs workflows."""
    docs = [
        {
            "_id": f"{f['i']:07d}-261125000000-oozie-oozi-W",
            "id": f"{f['i']:07d}-261125000000-oozie-oozi-W",
            "appName": f["flow"],
            "status": "KILLED" if f["failed"] else "SUCCEEDED",
            "startTime": f["start"].strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "endTime": f["end"].strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "user": "etl",
        }
        for f in fs
    ]
    return docs, {"pipeline": "appName", "status": "status", "start": "startTime", "end": "endTime"}


def autosys(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """AutoSys job run history (autorep -r), local times."""
    docs = [
        {
            "_id": f"ar-{f['i']}",
            "job_name": f["flow"].upper(),
            "status": "FAILURE" if f["failed"] else "SUCCESS",
            "last_start": f["start"].astimezone(TZ).strftime("%m/%d/%Y %H:%M:%S"),
            "last_end": f["end"].astimezone(TZ).strftime("%m/%d/%Y %H:%M:%S"),
            "exit_code": 1 if f["failed"] else 0,
            "machine": f["host"],
        }
        for f in fs
    ]
    truth = {"pipeline": "job_name", "status": "status", "start": "last_start", "end": "last_end"}
    return docs, truth | {"host": "machine"}


def informatica(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """PowerCenter repository view REP_WFLOW_RUN (RUN_STATUS_CODE 1 = succeeded, 3 = failed)."""
    docs = [
        {
            "_id": 70_000 + f["i"],
            "WORKFLOW_NAME": f"wf_{f['flow']}",
            "SERVER_NAME": "IS_PROD",
            "RUN_STATUS_CODE": 3 if f["failed"] else 1,
            "RUN_ERR_MSG": f["message"],
            "START_TIME": f["start"].astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "END_TIME": f["end"].astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "USER_NAME": "etl",
        }
        for f in fs
    ]
    truth = {
        "pipeline": "WORKFLOW_NAME",
        "status": "RUN_STATUS_CODE",
        "start": "START_TIME",
        "end": "END_TIME",
    }
    return docs, truth | {"error": "RUN_ERR_MSG"}


def prefect(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Prefect 2 flow runs as the UI exports them."""
    docs = [
        {
            "_id": f"{f['i']:08x}-0000-4000-8000-000000000000",
            "name": f"run-{f['i']}",
            "flow_name": f["flow"],
            "state": {"type": "FAILED" if f["failed"] else "COMPLETED", "message": f["message"] or None},
            "start_time": f["start"].isoformat(),
            "end_time": f["end"].isoformat(),
            "total_run_time": float(f["seconds"]),
        }
        for f in fs
    ]
    truth = {"pipeline": "flow_name", "status": "state.type", "start": "start_time", "end": "end_time"}
    return docs, truth | {"duration": "total_run_time", "error": "state.message"}


def data_factory(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Azure Data Factory pipelineRuns/queryByFactory results."""
    docs = [
        {
            "_id": f"{f['i']:08x}-adf0-4000-8000-000000000000",
            "runId": f"{f['i']:08x}-adf0-4000-8000-000000000000",
            "pipelineName": f["flow"],
            "status": "Failed" if f["failed"] else "Succeeded",
            "message": f["message"],
            "runStart": f["start"].strftime("%Y-%m-%dT%H:%M:%S.%f") + "3Z",
            "runEnd": f["end"].strftime("%Y-%m-%dT%H:%M:%S.%f") + "3Z",
            "durationInMs": f["seconds"] * 1000,
            "invokedBy": {"name": "nightly", "invokedByType": "ScheduleTrigger"},
            "isLatest": True,
        }
        for f in fs
    ]
    truth = {"pipeline": "pipelineName", "status": "status", "start": "runStart", "end": "runEnd"}
    return docs, truth | {"duration": "durationInMs", "error": "message"}


def airflow(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Airflow REST API /dags/~/dagRuns (several dates per run: the start is start_date)."""
    docs = []
    for f in fs:
        logical = (f["start"] - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        docs.append(
            {
                "_id": f"{f['flow']}__scheduled__{logical.isoformat()}__{f['i']}",
                "dag_id": f["flow"],
                "dag_run_id": f"scheduled__{logical.isoformat()}",
                "state": "failed" if f["failed"] else "success",
                "logical_date": logical.isoformat(),
                "start_date": f["start"].isoformat(),
                "end_date": f["end"].isoformat(),
                "data_interval_start": logical.isoformat(),
                "data_interval_end": (logical + timedelta(days=1)).isoformat(),
                "run_type": "scheduled",
                "external_trigger": False,
                "conf": {},
                "note": None,
            }
        )
    return docs, {"pipeline": "dag_id", "status": "state", "start": "start_date", "end": "end_date"}


def rundeck(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Rundeck API /project/<p>/executions (the start in both epoch ms and ISO text)."""
    docs = [
        {
            "_id": 40_000 + f["i"],
            "id": 40_000 + f["i"],
            "status": "failed" if f["failed"] else "succeeded",
            "project": "finance",
            "user": "etl",
            "job": {"id": f"{FLOWS.index(f['flow']):08x}-rd", "name": f["flow"], "group": "nightly"},
            "date-started": {"unixtime": _ms(f["start"]), "date": f["start"].strftime("%Y-%m-%dT%H:%M:%SZ")},
            "date-ended": {"unixtime": _ms(f["end"]), "date": f["end"].strftime("%Y-%m-%dT%H:%M:%SZ")},
            ("failedNodes" if f["failed"] else "successfulNodes"): [f["host"]],
        }
        for f in fs
    ]
    return docs, {
        "pipeline": "job.name",
        "status": "status",
        "start": "date-started.unixtime|date-started.date",
        "end": "date-ended.unixtime|date-ended.date",
    }


def control_m(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Control-M Automation API /run/jobs/status statuses (compact local times)."""
    docs = [
        {
            "_id": f"IN01:{f['i']:05x}",
            "jobId": f"IN01:{f['i']:05x}",
            "folderId": "IN01:0001",
            "numberOfRuns": 1,
            "name": f["flow"].upper(),
            "folder": "FINANCE_NIGHTLY",
            "type": "Command",
            "status": "Ended Not OK" if f["failed"] else "Ended OK",
            "held": False,
            "deleted": False,
            "startTime": f["start"].astimezone(TZ).strftime("%Y%m%d%H%M%S"),
            "endTime": f["end"].astimezone(TZ).strftime("%Y%m%d%H%M%S"),
            "ctm": "IN01",
            "host": f["host"],
            "application": "FIN",
            "subApplication": "BATCH",
        }
        for f in fs
    ]
    truth = {"pipeline": "name", "status": "status", "start": "startTime", "end": "endTime"}
    return docs, truth | {"host": "host"}


def suivi_traitements(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """An in-house French collection: nested, local times written day first, OK / KO."""
    docs = [
        {
            "_id": f"{0x65A0_0000 + f['i']:08x}{'0' * 16}",
            "traitement": {"nom": f["flow"], "application": "FINANCE"},
            "execution": {
                "debut": f["start"].astimezone(TZ).strftime("%d/%m/%Y %H:%M:%S"),
                "fin": f["end"].astimezone(TZ).strftime("%d/%m/%Y %H:%M:%S"),
                "etat": "KO" if f["failed"] else "OK",
            },
            "serveur": f["host"],
            "anomalie": {"libelle": f["message"]} if f["failed"] else None,
        }
        for f in fs
    ]
    truth = {"pipeline": "traitement.nom", "status": "execution.etat", "start": "execution.debut"}
    return docs, truth | {"end": "execution.fin", "host": "serveur", "error": "anomalie.libelle"}


def step_functions(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """AWS Step Functions describe-execution as the CLI prints it (the flow is in an ARN)."""
    arn = "arn:aws:states:eu-west-3:123456789012"
    docs = []
    for f in fs:
        uid = f"{f['i']:08x}-5f00-4000-8000-000000000000"
        docs.append(
            {
                "_id": uid,
                "executionArn": f"{arn}:execution:{f['flow']}:{uid}",
                "stateMachineArn": f"{arn}:stateMachine:{f['flow']}",
                "name": uid,
                "status": "FAILED" if f["failed"] else "SUCCEEDED",
                "startDate": f["start"].astimezone(TZ).isoformat(timespec="microseconds"),
                "stopDate": f["end"].astimezone(TZ).isoformat(timespec="microseconds"),
                **({"error": "States.TaskFailed", "cause": f["message"]} if f["failed"] else {}),
            }
        )
    truth = {"pipeline": "stateMachineArn", "status": "status", "start": "startDate", "end": "stopDate"}
    return docs, truth | {"error": "cause"}


def gitlab(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """GitLab /projects/:id/pipelines/:id, the exporter adding the project (five dates each)."""
    docs = []
    for f in fs:
        created = f["start"] - timedelta(seconds=40)
        docs.append(
            {
                "_id": 300_000 + f["i"],
                "id": 300_000 + f["i"],
                "iid": f["i"],
                "project": {"id": 40 + FLOWS.index(f["flow"]), "name": f["flow"]},
                "status": "failed" if f["failed"] else "success",
                "source": "schedule",
                "ref": "main",
                "sha": f"{f['i'] * 7919:040x}",
                "created_at": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "updated_at": f["end"].isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "started_at": f["start"].isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "finished_at": f["end"].isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "duration": f["seconds"],
                "queued_duration": 40.0,
                "web_url": f"https://gitlab.bank.lan/data/{f['flow']}/-/pipelines/{300_000 + f['i']}",
                "user": {"name": "ETL Bot", "username": "etl-bot"},
            }
        )
    truth = {"pipeline": "project.name", "status": "status", "start": "started_at", "end": "finished_at"}
    return docs, truth | {"duration": "duration"}


def iics(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Informatica Cloud activityLog entries (state 1 = success, 2 = warning, 3 = failed)."""
    docs = [
        {
            "_id": f"0001TL0B000000{f['i']:06d}",
            "id": f"0001TL0B000000{f['i']:06d}",
            "type": "MTT_ACTIVITY_LOG",
            "objectName": f"mt_{f['flow']}",
            "runId": f["i"],
            "agentId": "0001TL08000000000002",
            "runtimeEnvironmentId": "0001TL25000000000003",
            "startTime": f["start"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "endTime": f["end"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "state": 3 if f["failed"] else 1,
            "failedSourceRows": 0,
            "successSourceRows": 1200,
            "failedTargetRows": 1200 if f["failed"] else 0,
            "successTargetRows": 0 if f["failed"] else 1200,
            "errorMsg": f["message"] or None,
            "startedBy": "etl",
        }
        for f in fs
    ]
    truth = {"pipeline": "objectName", "status": "state", "start": "startTime", "end": "endTime"}
    return docs, truth | {"error": "errorMsg"}


def vtom(fs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A French scheduler's job history (VTOM-like): local day and time in separate fields."""
    docs = []
    for f in fs:
        start, end = f["start"].astimezone(TZ), f["end"].astimezone(TZ)
        docs.append(
            {
                "_id": f"PROD/COMPTA/{f['flow'].upper()}/{f['i']}",
                "Environnement": "PROD",
                "Application": "COMPTA",
                "Traitement": f["flow"].upper(),
                "Statut": "En erreur" if f["failed"] else "Terminé",
                "DateDebut": start.strftime("%Y-%m-%d"),
                "HeureDebut": start.strftime("%H:%M:%S"),
                "DateFin": end.strftime("%Y-%m-%d"),
                "HeureFin": end.strftime("%H:%M:%S"),
                "CodeRetour": 8 if f["failed"] else 0,
                "Machine": f["host"],
            }
        )
    truth = {"pipeline": "Traitement", "status": "Statut", "start": "DateDebut+HeureDebut"}
    return docs, truth | {"end": "DateFin+HeureFin", "host": "Machine"}


SHAPES: dict[str, tuple[str, Shape]] = {
    "databricks_runs": ("dev", databricks),
    "glue_job_runs": ("dev", glue),
    "jenkins_builds": ("dev", jenkins),
    "k8s_jobs": ("dev", kubernetes),
    "dagster_runs": ("dev", dagster),
    "ssis_executions": ("test", ssis),
    "oozie_workflows": ("test", oozie),
    "autosys_history": ("test", autosys),
    "infa_wflow_runs": ("test", informatica),
    "prefect_flow_runs": ("test", prefect),
    # added after the first report of the test shapes, and measured only once, so that mechanisms
    # built from that report's misses are measured on shapes that did not inspire them
    "adf_pipeline_runs": ("test", data_factory),
    "airflow_dag_runs": ("test", airflow),
    "rundeck_executions": ("test", rundeck),
    "controlm_jobs": ("test", control_m),
    # a third batch, written on 2026-12-02 before flowrag ever read it, with the "test" questions
    "suivi_traitements": ("test", suivi_traitements),
    "sfn_executions": ("test", step_functions),
    "gitlab_pipelines": ("test", gitlab),
    "iics_activity_log": ("test", iics),
    "vtom_historique": ("test", vtom),
}

# four paraphrases of each kind, French and English: the dev questions, looked at when flowrag changes
QUESTIONS = {
    "yesterday": [
        "Quels flux ont échoué hier ?",
        "Liste des traitements en erreur hier",
        "Which flows failed yesterday?",
        "Show me yesterday's failed jobs",
    ],
    "week": [
        "Combien d'échecs depuis lundi ?",
        "Nombre d'exécutions en échec cette semaine",
        "How many failures since Monday?",
        "How many runs failed this week?",
    ],
    "most": [
        "Quel flux échoue le plus ?",
        "Quelle chaîne a le plus d'échecs ?",
        "Which flow fails the most?",
        "Which job had the most failed runs?",
    ],
    "never": [
        "Quels flux n'ont jamais échoué ?",
        "Y a-t-il des traitements qui n'ont jamais planté ?",
        "Which flows never failed?",
        "Are there jobs with no failure at all?",
    ],
}
WHY = ["Pourquoi {flow} a-t-il échoué hier ?", "Why did {flow} fail yesterday?"]
# the test questions: other paraphrases, written on 2026-12-02 and reported only
TEST_QUESTIONS = {
    "yesterday": [
        "Qu'est-ce qui a planté hier ?",
        "Les jobs KO d'hier",
        "What broke yesterday?",
        "List the runs that failed yesterday by flow",
    ],
    "week": [
        "Combien de traitements ont échoué depuis le début de la semaine ?",
        "Total des échecs cette semaine",
        "Number of failed executions since Monday",
        "Count of failures this week",
    ],
    "most": [
        "Quel est le flux le plus souvent en échec ?",
        "Quel traitement plante le plus souvent ?",
        "What is the most frequently failing pipeline?",
        "Top failing job",
    ],
    "never": [
        "Quels traitements n'ont eu aucun échec ?",
        "Liste des flux sans aucun échec",
        "Which pipelines have never failed?",
        "Jobs that have not failed even once",
    ],
}
TEST_WHY = ["Quelle est la cause de l'échec de {flow} hier ?", "What caused the {flow} failure yesterday?"]


def expected(fs: list[dict[str, Any]], kind: str) -> Any:
    yesterday = (NOW - timedelta(days=1)).date()
    monday = NOW.date() - timedelta(days=NOW.weekday())
    local = [(f, f["start"].astimezone(TZ).date()) for f in fs]
    if kind == "yesterday":
        return dict(Counter(f["flow"] for f, d in local if f["failed"] and d == yesterday))
    if kind == "week":
        return sum(1 for f, d in local if f["failed"] and d >= monday)
    if kind == "most":
        return Counter(f["flow"] for f in fs if f["failed"]).most_common(1)[0][0]
    return {NEVER_FAILS}


def exact(kind: str, result: Any, want: Any, key_of: Callable[[str], str]) -> bool:
    agg = result.aggregate
    if result.route != "aggregate" or agg is None:
        return False
    groups = {g["key"]: g["count"] for g in agg["groups"]}
    if kind == "yesterday":
        return groups == {key_of(k): v for k, v in want.items()}
    if kind == "week":
        return int(agg["total"]) == want
    if kind == "most":
        return bool(agg["groups"]) and agg["groups"][0]["key"] == key_of(want)
    return set(groups) == {key_of(k) for k in want}


async def measure(
    name: str, shape: Shape, embedder: Any, nlp: Any, details: bool, questions: str = "dev"
) -> dict[str, Any]:
    asked_set, why_set = (QUESTIONS, WHY) if questions == "dev" else (TEST_QUESTIONS, TEST_WHY)
    fs = facts()
    docs, truth = shape(fs)
    inferred = infer_mapping(docs[:200]).fields
    mapped = sum(1 for concept, paths in truth.items() if inferred.get(concept) in paths.split("|"))
    # a flow's group is named as the tool names it (ledger_close.dtsx, wf_ledger_close, LEDGER_CLOSE)
    written = {f["flow"]: str(flatten(d)[truth["pipeline"]]) for f, d in zip(fs, docs, strict=True)}

    def key_of(flow: str) -> str:
        return normalise_name(flow_name(written[flow]))

    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore.open(Path(tmp) / "graph")
        await store.migrate(embedder.dimension)
        report = IngestReport("mongo", name)
        await ingest_documents(store, embedder, load_vocabulary(), name, docs, report, timezone=str(TZ))
        runs = await store.find_nodes("Run", limit=10_000)
        by_ref = {str(r.props.get("doc_id")): r for r in runs}
        right = sum(
            1
            for f, d in zip(fs, docs, strict=True)
            if (r := by_ref.get(str(d["_id"]))) is not None
            and (r.props.get("status") == "FAILED") == f["failed"]
        )
        answerer = Answerer(store, embedder, nlp, LLMSettings(), timezone="Europe/Paris")
        hits = Counter[str]()
        asked = Counter[str]()
        misses = []
        for kind, phrasings in asked_set.items():
            want = expected(fs, kind)
            for question in phrasings:
                result = await answerer.ask(question, now=NOW)
                asked[kind] += 1
                if exact(kind, result, want, key_of):
                    hits[kind] += 1
                else:
                    groups = (result.aggregate or {}).get("groups", [])
                    misses.append(
                        f"{question} -> {result.route} {[(g['key'], g['count']) for g in groups][:6]}"
                    )
        # why: flows that failed yesterday
        yesterday = (NOW - timedelta(days=1)).date()
        why_hits = why_base = why_bm25 = why_n = 0
        failed_refs = {
            f["flow"]: {
                str(d["_id"])
                for f2, d in zip(fs, docs, strict=True)
                if f2["flow"] == f["flow"] and f2["failed"] and f2["start"].astimezone(TZ).date() == yesterday
            }
            for f in fs
        }
        # the baselines rank the documents themselves, flattened to text, whatever flowrag built
        texts = [
            (str(d["_id"]), "; ".join(f"{k}: {v}" for k, v in flatten(d).items() if v not in (None, "")))
            for d in docs
        ]
        vectors = np.asarray(embedder.embed_passages([t for _, t in texts]))
        bm25 = bm25s.BM25()
        bm25.index(
            bm25s.tokenize([t for _, t in texts], stopwords="en", show_progress=False), show_progress=False
        )
        for flow, refs in sorted(failed_refs.items()):
            if not refs:
                continue
            for template in why_set:
                question = template.format(flow=flow)
                why_n += 1
                result = await answerer.ask(question, now=NOW)
                cited = [c.provenance.split("/", 1)[-1] for c in result.citations[:5]]
                why_hits += bool(refs & set(cited))
                query = np.asarray(embedder.embed_queries([question]))[0]
                top = np.argsort(-(vectors @ query))[:5]
                why_base += bool(refs & {texts[j][0] for j in top})
                asked_tokens = bm25s.tokenize([question], stopwords="en", show_progress=False)
                found, _ = bm25.retrieve(asked_tokens, k=5, show_progress=False)
                why_bm25 += bool(refs & {texts[int(j)][0] for j in found[0]})
        await store.close()
    if details and misses:
        print(f"  {name}: inferred {dict((k, v) for k, v in inferred.items() if v)}")
        for m in misses:
            print(f"    miss: {m}")
    return {
        "mapping": (mapped, len(truth)),
        "status": (right, len(fs)),
        "answers": (sum(hits.values()), sum(asked.values())),
        "by_kind": {k: (hits[k], asked[k]) for k in asked_set},
        "why": (why_hits, why_n),
        "why_vector": (why_base, why_n),
        "why_bm25": (why_bm25, why_n),
        "runs": len(runs),
    }


def _pct(pair: tuple[int, int]) -> str:
    return f"{pair[0]}/{pair[1]} ({100 * pair[0] / max(1, pair[1]):.0f}%)"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--details", action="store_true", help="print each missed question")
    parser.add_argument("--shapes", help="comma-separated shape names (default: every shape of the split)")
    parser.add_argument(
        "--questions",
        choices=["dev", "test"],
        default="dev",
        help="which paraphrases to ask: dev (looked at when flowrag changes) or test (reported only)",
    )
    args = parser.parse_args()
    settings = Settings()
    embedder = CachedEmbedder(
        make_embedder(EmbeddingSettings(threads=2), settings.models_dir),
        settings.data_dir / "cache" / "embeddings.sqlite3",
    )
    nlp = NLP()
    print(f"machine: {machine()}; {args.questions} questions")
    print("| shape | split | mapping | statuses | aggregate answers exact | why recall@5 | vector | BM25 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    totals: dict[str, dict[str, list[int]]] = {}
    for name, (split, shape) in SHAPES.items():
        if args.split not in ("all", split) or (args.shapes and name not in args.shapes.split(",")):
            continue
        m = await measure(name, shape, embedder, nlp, args.details, args.questions)
        print(
            f"| {name} | {split} | {_pct(m['mapping'])} | {_pct(m['status'])} | {_pct(m['answers'])} "
            f"| {_pct(m['why'])} | {_pct(m['why_vector'])} | {_pct(m['why_bm25'])} |",
            flush=True,
        )
        t = totals.setdefault(
            split, {k: [0, 0] for k in ("mapping", "status", "answers", "why", "why_vector", "why_bm25")}
        )
        for key in t:
            t[key][0] += m[key][0]
            t[key][1] += m[key][1]
    for split, t in totals.items():
        print(
            f"| **all {split}** | | {_pct(tuple(t['mapping']))} | {_pct(tuple(t['status']))} "
            f"| {_pct(tuple(t['answers']))} | {_pct(tuple(t['why']))} | {_pct(tuple(t['why_vector']))} "
            f"| {_pct(tuple(t['why_bm25']))} |"
        )
    embedder.close()


if __name__ == "__main__":
    asyncio.run(main())

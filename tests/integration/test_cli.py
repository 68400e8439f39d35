"""The `flowrag` command as a user runs it: a subprocess, exit codes, clear errors, the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support.neo4j_server import Neo4jServer

FLOWRAG = [sys.executable, "-m", "flowrag"]


def run(
    args: list[str], data_dir: Path, timeout: int = 600, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "FLOWRAG_DATA_DIR": str(data_dir), "NO_COLOR": "1", "COLUMNS": "200", **env}
    return subprocess.run(
        [*FLOWRAG, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environ,
        check=False,
    )


def test_demo_answers_three_questions_in_french_with_citations(tmp_path: Path, models_dir: Path) -> None:
    # share the session's converted model so the test does not convert it twice
    (tmp_path / "models").symlink_to(models_dir, target_is_directory=True)
    result = run(["demo"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert out.count("? ") >= 3
    assert "Quels flows ont échoué hier et pourquoi ?" in out
    assert out.count("sources :") == 3
    assert "[1]" in out and "runs/run-" in out and "POST /vdbs/{vdbId}/refresh_by_snapshot" in out
    stats = run(["--store-path", str(tmp_path / "demo" / "graph"), "stats", "--json"], tmp_path)
    assert stats.returncode == 0, stats.stderr
    counts = json.loads(stats.stdout)
    assert counts["nodes"]["Endpoint"] == 22 and counts["nodes"]["Run"] == 160
    assert counts["relationships"]["TARGETS"] >= 3
    # the same store, questions one after another in one warm process; a bad one does not end it
    questions = (
        "Quels flows ont échoué hier ?\n\nWhich endpoint refreshes a VDB from a snapshot?\nexit\nignored\n"
    )
    graph = str(tmp_path / "demo" / "graph")
    shell = run(["--store-path", graph, "shell", "--source", "nowhere"], tmp_path, 300, questions)
    assert shell.returncode == 0, shell.stderr[-2000:]
    assert shell.stderr.count("unknown source 'nowhere'") == 2 and "Traceback" not in shell.stderr
    shell = run(["--store-path", graph, "shell"], tmp_path, 300, questions)
    assert shell.returncode == 0, shell.stderr[-2000:]
    assert shell.stdout.count("mode: ") == 2 and "ignored" not in shell.stdout  # exit ended it
    assert "POST /vdbs/{vdbId}/refresh_by_snapshot" in shell.stdout


def test_clear_errors_and_exit_codes(tmp_path: Path) -> None:
    empty = run(["ask", "Quels flows ont échoué hier ?"], tmp_path)
    assert empty.returncode == 1 and "is empty: nothing to answer from" in empty.stderr
    assert "flowrag demo" in empty.stderr and "Traceback" not in empty.stderr
    cypher = run(["cypher", "MATCH (n) RETURN n"], tmp_path)
    assert cypher.returncode == 1
    assert "does not run Cypher" in cypher.stderr and "Traceback" not in cypher.stderr
    unreachable = run(["--store", "neo4j", "--neo4j-uri", "bolt://127.0.0.1:9", "stats"], tmp_path)
    assert unreachable.returncode == 1
    assert "cannot reach Neo4j at bolt://127.0.0.1:9" in unreachable.stderr
    assert "docker compose up -d neo4j" in unreachable.stderr and "Traceback" not in unreachable.stderr
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("openapi: [")
    ingest = run(["ingest", "openapi", str(bad_spec)], tmp_path)
    assert ingest.returncode == 1 and "not valid YAML" in ingest.stderr


def test_ingest_code_from_a_directory_and_a_git_url(tmp_path: Path, models_dir: Path) -> None:
    (tmp_path / "models").symlink_to(models_dir, target_is_directory=True)
    repo = tmp_path / "tools"
    (repo / "ops").mkdir(parents=True)
    (repo / "ops" / "stop.sh").write_text('#!/bin/sh\ncurl -X POST "$DCT/v3/vdbs/$1/stop"\n')
    (repo / "Job.java").write_text("class Job { void run() {} }\n")
    first = run(["ingest", "code", str(repo), "--name", "tools", "--json"], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads(first.stdout)[0]
    assert report["scope"] == "tools" and report["read"] == 2 and report["created"] >= 5
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    cloned = run(["ingest", "code", f"file://{repo}", "--json"], tmp_path)
    assert cloned.returncode == 0, cloned.stderr[-2000:]
    assert json.loads(cloned.stdout)[0]["scope"] == "tools"  # the name comes from the URL
    again = json.loads(cloned.stdout)[0]
    assert again["created"] == again["updated"] == again["embedded"] == 0  # same content: no writes
    missing = run(["ingest", "code", str(tmp_path / "nope")], tmp_path)
    assert missing.returncode == 1 and "is not a directory or a git URL" in missing.stderr
    bad_url = run(["ingest", "code", f"file://{tmp_path}/nope.git"], tmp_path)
    assert bad_url.returncode == 1 and "git clone of" in bad_url.stderr and "Traceback" not in bad_url.stderr


def test_cypher_and_stats_on_neo4j(tmp_path: Path, neo4j_server: Neo4jServer) -> None:
    env = {"FLOWRAG_STORE__KIND": "neo4j", "FLOWRAG_STORE__NEO4J_URI": neo4j_server.bolt_uri}
    migrate = run(["migrate"], tmp_path, **env)
    assert migrate.returncode == 0, migrate.stderr
    rows = run(["cypher", "--json", "RETURN 1 + 1 AS two"], tmp_path, **env)
    assert rows.returncode == 0 and json.loads(rows.stdout) == [{"two": 2}]
    write = run(["cypher", "CREATE (n:Pipeline {name: 'x'})"], tmp_path, **env)
    assert write.returncode == 1 and "read-only" in write.stderr


def test_neo4j_browser_is_served(neo4j_server: Neo4jServer) -> None:
    response = httpx.get(f"{neo4j_server.http_url}/browser/", timeout=30)
    assert response.status_code == 200
    assert "Neo4j Browser" in response.text or "neo4j" in response.text.lower()


def test_ingest_mongo_with_a_mapping_override(tmp_path: Path, models_dir: Path, mongo_server: Any) -> None:
    """A collection whose flow field carries no name evidence becomes runs through --map; the
    inferred mapping (status found from its values) is in the report."""
    from pymongo import MongoClient

    (tmp_path / "models").symlink_to(models_dir, target_is_directory=True)
    client: Any = MongoClient(mongo_server.uri)
    client.drop_database("cli_map")
    client.cli_map.jobs.insert_many(
        [{"_id": i, "x": {"k1": f"nightly_{i % 2}"}, "c7": "KO" if i % 3 == 0 else "OK"} for i in range(6)]
    )
    base = ["ingest", "mongo", "--uri", mongo_server.uri, "--db", "cli_map", "--json"]
    preview = run(["inspect", "mongo", "--uri", mongo_server.uri, "--db", "cli_map", "--json"], tmp_path)
    assert preview.returncode == 0, preview.stderr[-2000:]
    assert json.loads(preview.stdout) == [
        {
            "collection": "jobs",
            "sampled": 6,
            "mapping": {"status": "c7"},
            "confidence": {"status": 0.4},
            "ambiguous": {},
            "runs": 0,
            "records_only": 6,
            "statuses": {},
            "status_values": {},
            "unclassified_status_values": [],
            "dates": None,
        }
    ]
    overridden = run(
        [
            "inspect",
            "mongo",
            "--uri",
            mongo_server.uri,
            "--db",
            "cli_map",
            "--map",
            "jobs.pipeline=x.k1",
            "--json",
        ],
        tmp_path,
    )
    assert json.loads(overridden.stdout)[0]["statuses"] == {"FAILED": 2, "SUCCESS": 4}
    assert not (tmp_path / "graph").exists()  # inspect never opens the store
    plain = run(base, tmp_path)
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert json.loads(plain.stdout)[0]["read"] == 6
    assert json.loads(plain.stdout)[0]["mapping"] == {"status": "c7 (0.40)"}  # from its values alone
    stats = run(["stats", "--json"], tmp_path)
    assert json.loads(stats.stdout)["nodes"].get("Run", 0) == 0  # records only: no flow field
    mapped = run([*base, "--full", "--map", "jobs.pipeline=x.k1"], tmp_path)
    assert mapped.returncode == 0, mapped.stderr[-2000:]
    counts = json.loads(run(["stats", "--json"], tmp_path).stdout)["nodes"]
    assert counts["Run"] == 6 and counts["Pipeline"] == 2
    bad = run([*base, "--map", "jobs.colour=x"], tmp_path)
    assert bad.returncode == 1 and "unknown concept 'colour'" in bad.stderr and "Traceback" not in bad.stderr
    bad_filter = run([*base, "--filter", "jobs={nope"], tmp_path)
    assert bad_filter.returncode == 1 and "not JSON" in bad_filter.stderr
    bad_env = run(base, tmp_path, FLOWRAG_MONGO__MAPPINGS='{"jobs": {"colour": "x"}}')
    assert bad_env.returncode == 1 and "unknown mapping concept(s) colour" in bad_env.stderr
    client.drop_database("cli_map")
    client.close()


def test_status_codes_and_date_order_are_read_from_the_values(
    tmp_path: Path, models_dir: Path, mongo_server: Any
) -> None:
    """A PowerCenter-like collection: numeric status codes without a 0 (1 succeeded, 3 failed
    with a message, 5 neither) and month-first local times. inspect shows what the values say,
    the ingestion classifies the runs by it and reads the times in FLOWRAG_TIMEZONE."""
    from pymongo import MongoClient

    (tmp_path / "models").symlink_to(models_dir, target_is_directory=True)
    client: Any = MongoClient(mongo_server.uri)
    client.drop_database("cli_codes")
    codes = [3 if i % 4 == 0 else 5 if i == 7 else 1 for i in range(24)]
    client.cli_codes.wflow_runs.insert_many(
        [
            {
                "_id": i,
                "WORKFLOW_NAME": f"wf_load_{i % 3}",
                "RUN_STATUS_CODE": code,
                "RUN_ERR_MSG": "ORA-01555: snapshot too old" if code == 3 else "",
                "START_TIME": f"11/{13 + i % 15:02d}/2026 23:30:00",
            }
            for i, code in enumerate(codes)
        ]
    )
    env = {"FLOWRAG_TIMEZONE": "Europe/Paris"}
    preview = run(
        ["inspect", "mongo", "--uri", mongo_server.uri, "--db", "cli_codes", "--json"], tmp_path, **env
    )
    assert preview.returncode == 0, preview.stderr[-2000:]
    found = json.loads(preview.stdout)[0]
    assert found["mapping"]["status"] == "RUN_STATUS_CODE" and found["mapping"]["start"] == "START_TIME"
    assert {v: r.split(" ")[0] for v, r in found["status_values"].items()} == {"1": "SUCCESS", "3": "FAILED"}
    assert found["unclassified_status_values"] == ["5"]
    assert found["dates"] == "month first"
    assert found["statuses"] == {"SUCCESS": codes.count(1), "FAILED": codes.count(3), "5": 1}
    ingest = run(
        ["ingest", "mongo", "--uri", mongo_server.uri, "--db", "cli_codes", "--json"], tmp_path, **env
    )
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    report = json.loads(ingest.stdout)[0]
    assert report["mapping"]["status 3"].startswith("FAILED (an error message on 100%")
    assert any("status values 5 of RUN_STATUS_CODE" in e for e in report["errors"])
    exported = run(["export", str(tmp_path / "graph.jsonl")], tmp_path, **env)
    assert exported.returncode == 0, exported.stderr[-2000:]
    lines = [json.loads(line) for line in (tmp_path / "graph.jsonl").read_text().splitlines()[1:]]
    nodes = [line["node"] for line in lines if "node" in line]
    runs = {int(n["props"]["doc_id"]): n["props"] for n in nodes if n["label"] == "Run"}
    assert [runs[i]["status"] for i in range(24)] == [{1: "SUCCESS", 3: "FAILED", 5: "5"}[c] for c in codes]
    # 23:30 in Paris (UTC+1 in November) is 22:30 UTC the same day
    assert [runs[i]["started_at"] for i in range(24)] == [
        f"2026-11-{13 + i % 15:02d}T22:30:00Z" for i in range(24)
    ]
    # the reading the report asked for, set later, applies to the kept mapping (--full: read again)
    given = {**env, "FLOWRAG_MONGO__STATUS_VALUES": '{"wflow_runs": {"5": "cancelled"}}'}
    again = run(
        ["ingest", "mongo", "--uri", mongo_server.uri, "--db", "cli_codes", "--full", "--json"],
        tmp_path,
        **given,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)[0]["mapping"]["status 5"] == "CANCELLED (set)"
    assert run(["export", str(tmp_path / "graph.jsonl")], tmp_path, **env).returncode == 0
    lines = [json.loads(line) for line in (tmp_path / "graph.jsonl").read_text().splitlines()[1:]]
    statuses = {
        int(n["node"]["props"]["doc_id"]): n["node"]["props"]["status"]
        for n in lines
        if n.get("node", {}).get("label") == "Run"
    }
    assert [statuses[i] for i in range(24)] == [{1: "SUCCESS", 3: "FAILED", 5: "CANCELLED"}[c] for c in codes]
    client.drop_database("cli_codes")
    client.close()


def test_report_prints_saves_and_sends_once(tmp_path: Path) -> None:
    import asyncio

    from flowrag.graph.embedded import EmbeddedStore
    from tests.support import report_data as data

    async def seed() -> None:
        store = EmbeddedStore.open(tmp_path / "graph")
        await store.migrate(384)
        await data.load(store)
        await store.close()

    asyncio.run(seed())
    env = {"FLOWRAG_TIMEZONE": data.TZ, "FLOWRAG_STORE__PATH": str(tmp_path / "graph")}
    as_json = run(["report", "--date", data.DAY.isoformat(), "--format", "json"], tmp_path, **env)
    assert as_json.returncode == 0, as_json.stderr
    facts = json.loads(as_json.stdout)
    assert facts["totals"] == data.expected()["totals"]
    assert {f["pipeline"]: f["count"] for f in facts["failures"]} == data.expected()["flows"]
    nowhere = run(["report", "--date", data.DAY.isoformat(), "--send"], tmp_path, **env)
    assert nowhere.returncode == 1 and "no report channel is configured" in nowhere.stderr
    assert "FLOWRAG_REPORT__FOLDER" in nowhere.stderr and "Traceback" not in nowhere.stderr
    env["FLOWRAG_REPORT__FOLDER"] = str(tmp_path / "out")
    sent = run(["report", "--date", data.DAY.isoformat(), "--send"], tmp_path, **env)
    assert sent.returncode == 0, sent.stderr
    assert "files: sent" in sent.stderr
    assert (
        (tmp_path / "out" / f"flowrag-report-{data.DAY}.md")
        .read_text()
        .startswith("# Rapport flowrag du 24/11/2026")
    )
    again = run(["report", "--date", data.DAY.isoformat(), "--send"], tmp_path, **env)
    assert again.returncode == 0 and "files: skipped" in again.stderr
    resent = run(["report", "--date", data.DAY.isoformat(), "--send", "--resend"], tmp_path, **env)
    assert resent.returncode == 0 and "files: sent" in resent.stderr
    html = run(
        [
            "report",
            "--date",
            data.DAY.isoformat(),
            "--format",
            "html",
            "-o",
            str(tmp_path / "r.html"),
            "--language",
            "en",
        ],
        tmp_path,
        **env,
    )
    assert html.returncode == 0 and "flowrag report for 2026-11-24" in (tmp_path / "r.html").read_text()
    week = run(
        ["report", "--date", data.DAY.isoformat(), "--days", "7", "--collection", "runs", "--language", "en"],
        tmp_path,
        **env,
    )
    assert week.returncode == 0, week.stderr
    assert week.stdout.startswith("# flowrag report for 2026-11-18 to 2026-11-24 (runs)")
    for args, code, message in (
        (["--format", "pdf"], 2, "unknown format 'pdf'"),
        (["--date", "2026-13-01"], 1, "'2026-13-01' is not a day"),
        (["--date", "2999-01-01"], 1, "has not started yet"),
        (["--channel", "slack"], 2, "--channel and --resend go with --send"),
        (["--send", "--channel", "slack"], 1, "slack not configured"),
        (["--language", "de"], 2, "unknown language 'de'"),
        (["--send", "--days", "7"], 2, "--days and --collection build a report to print"),
        (["--days", "0"], 2, "Invalid value for '--days'"),
    ):
        bad = run(["report", *args], tmp_path, **env)
        assert bad.returncode == code and message in bad.stderr and "Traceback" not in bad.stderr, (
            args,
            bad.stderr,
        )
    bad_schedule = run(["serve"], tmp_path, FLOWRAG_REPORT__SCHEDULE="every morning", **env)
    assert bad_schedule.returncode == 1 and "FLOWRAG_REPORT__SCHEDULE 'every morning'" in bad_schedule.stderr


def test_ingest_delphix_reads_the_key_from_the_environment_and_reports(
    tmp_path: Path, models_dir: Path
) -> None:
    """The command a user runs: the key from FLOWRAG_DELPHIX__API_KEY (not on the command line),
    a report, then one line for a wrong key and for an unknown kind (exit 1/2, no traceback)."""
    from datetime import UTC, datetime

    from flowrag.cli import _DCT_KINDS
    from flowrag.extract.delphix import LISTINGS
    from tests.support.fake_dct import API_KEY, FakeDct, make_estate, serve

    assert tuple(x.name for x in LISTINGS) == _DCT_KINDS  # the help text names the real listings
    (tmp_path / "models").symlink_to(models_dir, target_is_directory=True)
    with serve(FakeDct(make_estate(datetime.now(UTC)))) as url:
        ok = run(
            ["ingest", "delphix", "--url", url, "--name", "dct-paris", "--json"],
            tmp_path,
            FLOWRAG_DELPHIX__API_KEY=API_KEY,
        )
        assert ok.returncode == 0, ok.stderr[-2000:]
        report = json.loads(ok.stdout)[0]
        assert report["source"] == "delphix" and report["scope"] == "dct-paris" and report["created"] > 100
        assert API_KEY not in ok.stdout + ok.stderr
        wrong = run(["ingest", "delphix", "--url", url], tmp_path, FLOWRAG_DELPHIX__API_KEY="1.wrong")
        assert wrong.returncode != 0 and "refused the API key (HTTP 401)" in wrong.stderr
        assert "Traceback" not in wrong.stderr and "1.wrong" not in wrong.stderr
        kind = run(
            ["ingest", "delphix", "--url", url, "--kinds", "vdbs,vdbz"],
            tmp_path,
            FLOWRAG_DELPHIX__API_KEY=API_KEY,
        )
        assert kind.returncode != 0 and "unknown Delphix object kind 'vdbz'" in kind.stderr
    nourl = run(["ingest", "delphix"], tmp_path, FLOWRAG_DELPHIX__API_KEY=API_KEY)
    assert nourl.returncode != 0 and "no DCT address" in nourl.stderr

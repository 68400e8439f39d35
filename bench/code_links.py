"""Link recall and precision of code ingestion on real public API clients nobody here wrote.

For each client of eval/code_links/clients.yaml: its spec and its repository (at the commit
given) are ingested into a fresh embedded store; every HttpCall that TARGETS an Endpoint is compared
with the call sites checked by hand. A hand-checked site is found when an HttpCall of its file
targets its operation (each HttpCall answers one site). Precision counts every linked HttpCall of
the repository, in any file but the client's excluded test files: one not matching a checked site
is wrong.

Goal (code issue): recall >= 0.90, precision >= 0.95.

FLOWRAG_EXTERNAL_DIR=~/flowrag-external python bench/code_links.py
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml
from _common import ROOT, report

from flowrag.graph.port import all_nodes
from flowrag.ingest.code import ingest_code
from flowrag.ingest.openapi import ingest_openapi
from flowrag.runtime import Runtime
from flowrag.schema import NodeLabel
from flowrag.settings import Settings, StoreKind


async def measure(client: dict[str, Any], spec: Path, tmp: Path) -> dict[str, Any]:
    settings = Settings()
    settings.store.kind = StoreKind.EMBEDDED
    settings.store.path = tmp / client["dir"]
    rt = await Runtime.open(settings)
    try:
        await ingest_openapi(rt.store, rt.embedder, str(spec), "conduit")
        t = time.perf_counter()
        ingested = await ingest_code(rt.store, rt.embedder, str(external() / client["dir"]), client["dir"])
        seconds = time.perf_counter() - t
        calls = await all_nodes(rt.store, NodeLabel.HTTP_CALL.value)
        hood = await rt.store.neighbours([c.uid for c in calls], ["TARGETS"], 10)
        endpoints = {
            n.uid: f"{n.props['method']} {n.props['path']}" for n in hood.nodes if n.label == "Endpoint"
        }
        targets: dict[str, set[str]] = defaultdict(set)
        for edge in hood.edges:
            if edge.end in endpoints:
                targets[edge.start].add(endpoints[edge.end])
        excluded = tuple(client.get("exclude", ()))
        linked = [
            c
            for c in calls
            if targets.get(c.uid) and not any(fnmatch(str(c.props["path"]), g) for g in excluded)
        ]
        by_file: dict[str, list[Any]] = defaultdict(list)
        for call in linked:
            by_file[str(call.props["path"])].append(call)
        found, truth, right, misses = 0, 0, 0, []
        for path, sites in client["sites"].items():
            pool = sorted(by_file.get(path, []), key=lambda c: int(c.props.get("line", 0)))
            for site in sites:
                truth += 1
                options = {s.strip() for s in site.split("|")}
                hit = next((c for c in pool if targets[c.uid] & options), None)
                if hit is None:
                    misses.append(f"{path}: {site}")
                    continue
                found += 1
                pool.remove(hit)
                right += targets[hit.uid] <= options  # linked to the right operation only
        return {
            "calls": len(calls),
            "linked": len(linked),
            "recall": found / truth if truth else 0.0,
            "precision": right / len(linked) if linked else 0.0,
            "truth": truth,
            "found": found,
            "misses": misses,
            "wrong": [
                f"{c.props['path']}:{c.props.get('line')} {c.name} -> {sorted(targets[c.uid])}"
                for c in linked
                if str(c.props["path"]) not in client["sites"]
            ][:10],
            "seconds": seconds,
            "files": ingested.read,
        }
    finally:
        await rt.close()


def external() -> Path:
    value = os.environ.get("FLOWRAG_EXTERNAL_DIR")
    if not value:
        sys.exit("set FLOWRAG_EXTERNAL_DIR to the folder holding conduit.yml and the client clones")
    return Path(value).expanduser()


def main() -> None:
    plan = yaml.safe_load((ROOT / "eval" / "code_links" / "clients.yaml").read_text("utf-8"))
    spec = external() / plan["spec"]
    rows = []
    with tempfile.TemporaryDirectory() as name:
        for client in plan["clients"]:
            where = external() / client["dir"]
            head = subprocess.run(
                ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
            ).stdout.strip()
            if head != client["commit"]:
                sys.exit(f"{where} is at {head or '?'}, the sites were checked at {client['commit']}")
            m = asyncio.run(measure(client, spec, Path(name)))
            rows += [
                (f"{client['repo']} ({client['language']})", f"{m['files']} files, {m['seconds']:.1f} s"),
                ("  HTTP calls / linked to the spec", f"{m['calls']} / {m['linked']}"),
                ("  link recall (goal >= 0.90)", f"{m['recall']:.2f} ({m['found']}/{m['truth']})"),
                ("  link precision (goal >= 0.95)", f"{m['precision']:.2f}"),
            ]
            rows += [("  missed", miss) for miss in m["misses"]]
            rows += [("  linked outside the checked files", w) for w in m["wrong"]]
    report("Code links on real public clients", rows)


if __name__ == "__main__":
    main()

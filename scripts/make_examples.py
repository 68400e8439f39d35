"""Derive the bundled example data from ../shared/data (run once; output is committed).

- flowrag/examples/data/log_messages.json: real WARN/ERROR/FATAL messages of the loghub Spark and
  Hadoop logs (https://github.com/logpai/loghub), used as error messages of generated runs.
- flowrag/examples/data/dct-subset.yaml: the operations of the Delphix DCT spec (v3.10.0,
  Apache-2.0) that the example code calls, with every schema they reference.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "flowrag" / "examples" / "data"

DCT_PATHS = {
    "/vdbs": ["get"],
    "/vdbs/search": ["post"],
    "/vdbs/{vdbId}": ["get"],
    "/vdbs/{vdbId}/refresh_by_snapshot": ["post"],
    "/vdbs/{vdbId}/refresh_by_timestamp": ["post"],
    "/vdbs/{vdbId}/refresh_from_bookmark": ["post"],
    "/vdbs/{vdbId}/rollback_by_snapshot": ["post"],
    "/vdbs/{vdbId}/snapshots": ["get", "post"],
    "/vdbs/{vdbId}/start": ["post"],
    "/vdbs/{vdbId}/stop": ["post"],
    "/vdbs/provision_by_snapshot": ["post"],
    "/dsources": ["get"],
    "/dsources/{dsourceId}/snapshots": ["get", "post"],
    "/snapshots/{snapshotId}": ["get"],
    "/bookmarks": ["get", "post"],
    "/environments": ["get"],
    "/jobs/{jobId}": ["get"],
    "/vdbs/{vdbId}/enable": ["post"],
    "/vdbs/{vdbId}/disable": ["post"],
}


def log_messages() -> list[dict[str, str]]:
    out = []
    for name, tech in (("Spark", "Spark"), ("Hadoop", "Hadoop")):
        rows = csv.DictReader((SHARED / "loghub" / f"{name}_2k.log_structured.csv").open(encoding="utf-8"))
        seen = set()
        for row in rows:
            if row["Level"] in ("WARN", "ERROR", "FATAL") and row["EventId"] not in seen:
                seen.add(row["EventId"])
                out.append(
                    {
                        "technology": tech,
                        "level": row["Level"],
                        "component": row["Component"],
                        "message": row["Content"],
                    }
                )
    return out


def refs(node: object, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def dct_subset() -> dict[str, object]:
    spec = yaml.safe_load((SHARED / "delphix" / "dct-openapi.yaml").read_text("utf-8"))
    paths = {}
    for path, methods in DCT_PATHS.items():
        item = spec["paths"][path]
        paths[path] = {k: v for k, v in item.items() if k in methods or k == "parameters"}
    found: set[str] = set()
    refs(paths, found)
    components: dict[str, dict[str, object]] = {}
    todo = list(found)
    while todo:
        ref = todo.pop()
        _, _, section, name = ref.split("/", 3)
        target = spec["components"][section][name]
        bucket = components.setdefault(section, {})
        if name in bucket:
            continue
        bucket[name] = target
        more: set[str] = set()
        refs(target, more)
        todo.extend(more - found)
        found |= more
    for section in ("securitySchemes",):
        if section in spec.get("components", {}):
            components[section] = spec["components"][section]
    return {k: v for k, v in spec.items() if k not in ("paths", "components")} | {
        "paths": paths,
        "components": components,
    }


def main() -> None:
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} not found")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "log_messages.json").write_text(json.dumps(log_messages(), indent=1, ensure_ascii=False))
    (OUT / "dct-subset.yaml").write_text(yaml.safe_dump(dct_subset(), sort_keys=False, allow_unicode=True))


if __name__ == "__main__":
    main()

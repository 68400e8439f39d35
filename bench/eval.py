"""Evaluation sets through flowrag, the one-vector-per-document baseline and BM25 in the same run,
each on a fresh embedded store built from its corpus: recall@5, MRR, no-answer accuracy, wrongful
abstention, per language. The test split is reported (tune on dev, never on test). The external
sets (eval/external/, public specs nobody here wrote) run when FLOWRAG_EXTERNAL_DIR points at
their material. A thin wrapper over `flowrag eval --ingest` for run_all.

python bench/eval.py [--k 5] [--split test|dev|all]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, report

VECTOR, BM25 = "vector (1 per document)", "BM25 (bm25s)"


def run(gold: Path, k: int, split: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "flowrag", "--store-path", f"{tmp}/graph", "eval", str(gold)]
        cmd += ["--ingest", "--k", str(k), "--split", split, "--json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"flowrag eval {gold.name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    sets = [ROOT / "eval" / "gold.yaml"]
    if os.environ.get("FLOWRAG_EXTERNAL_DIR"):
        sets += sorted((ROOT / "eval" / "external").glob("*.yaml"))
    for gold in sets:
        data = run(gold, args.k, args.split)
        ours = data["flowrag"]
        base = data["baselines"]
        assert isinstance(ours, dict) and isinstance(base, dict)
        vec, bm25 = base.get(VECTOR, {}), base.get(BM25, {})

        systems = (ours, vec, bm25)

        def triple(
            key: str, fmt: str = "{:.3f}", part: str | None = None, systems: tuple[dict, ...] = systems
        ) -> str:
            def one(s: dict[str, object]) -> str:
                holder = s.get(part) if part else s
                value = holder.get(key) if isinstance(holder, dict) else None
                return "-" if value is None else fmt.format(value)

            return " / ".join(one(s) for s in systems)

        rows = [
            ("questions", str(ours["questions"])),
            (f"recall@{args.k} flowrag / vector / BM25", triple("recall_at_k")),
            ("MRR flowrag / vector / BM25", triple("mrr")),
            ("no-answer accuracy flowrag", f"{ours['no_answer_accuracy']:.3f}"),
            ("wrongful abstention flowrag", f"{ours['wrongful_abstention']:.3f}"),
            ("median ms / question flowrag", f"{ours['median_ms']:.0f}"),
        ]
        for language in sorted(ours["by_language"]):
            rows.append(
                (
                    f"  {language}: recall@{args.k} flowrag / vector / BM25",
                    triple(language, part="by_language"),
                )
            )
        for category in sorted(ours["by_category"]):
            rows.append(
                (
                    f"  {category}: recall@{args.k} flowrag / vector / BM25",
                    triple(category, part="by_category"),
                )
            )
        rows.append(("misses", ", ".join(ours["misses"]) or "-"))
        report(f"Evaluation: eval/{gold.relative_to(ROOT / 'eval')} ({args.split} split)", rows)


if __name__ == "__main__":
    main()

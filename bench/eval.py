"""The gold set (eval/gold.yaml) through flowrag and the one-vector-per-document baseline, on a
fresh embedded store built from the gold file's corpus: recall@5, MRR, citation precision,
no-answer accuracy, per category. A thin wrapper over `flowrag eval --ingest` for run_all.

python bench/eval.py [--k 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

from _common import ROOT, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "flowrag", "--store-path", f"{tmp}/graph", "eval"]
        cmd += [str(ROOT / "eval" / "gold.yaml"), "--ingest", "--k", str(args.k), "--json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"flowrag eval failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    data = json.loads(proc.stdout)
    ours, base = data["flowrag"], data.get("baseline") or {}

    def pair(key: str, fmt: str = "{:.3f}") -> str:
        theirs = fmt.format(base[key]) if key in base else "-"
        return f"{fmt.format(ours[key])} / {theirs}"

    rows = [
        ("questions", str(ours["questions"])),
        (f"recall@{args.k} flowrag / baseline", pair("recall_at_k")),
        ("MRR flowrag / baseline", pair("mrr")),
        ("citation precision flowrag / baseline", pair("citation_precision")),
        ("no-answer accuracy flowrag / baseline", pair("no_answer_accuracy")),
        ("false no-answer flowrag / baseline", pair("false_no_answer", "{}")),
        ("median ms / question flowrag", f"{ours['median_ms']:.0f}"),
    ]
    for category, value in sorted(ours["by_category"].items()):
        theirs = base.get("by_category", {}).get(category)
        rows.append(
            (
                f"  {category}: recall@{args.k}",
                f"{value:.3f} / {theirs:.3f}" if theirs is not None else f"{value:.3f}",
            )
        )
    rows.append(("misses", ", ".join(ours["misses"]) or "-"))
    report(f"Evaluation: {ROOT.name}/eval/gold.yaml, flowrag vs one-vector-per-document baseline", rows)


if __name__ == "__main__":
    main()

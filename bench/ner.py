"""NER throughput (spaCy FR/EN + domain ruler), docs/s, on monitoring-style and question texts.

python bench/ner.py [--docs 2000]
"""

from __future__ import annotations

import argparse
import time

from _common import median, report

from flowrag.examples.monitoring import generate_runs
from flowrag.models.nlp import NLP


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    docs = []
    for i, run in enumerate(generate_runs(args.docs, seed=5)):
        if i % 2:
            docs.append(
                f"Le flux {run['pipeline']} ({run['technology']}) est {run['status']} sur {run['host']}: "
                f"{run.get('error_message', 'aucune erreur')}"
            )
        else:
            docs.append(
                f"Pipeline {run['pipeline']} on {run['host']} finished {run['status']}; "
                f"{run.get('error_message', 'no error')}"
            )
    nlp = NLP()
    nlp.entities_many(docs[:10])  # load both pipelines
    rates = []
    entities = 0
    for _ in range(args.runs):
        t0 = time.perf_counter()
        out = nlp.entities_many(docs)
        rates.append(len(docs) / (time.perf_counter() - t0))
        entities = sum(len(e) for e in out)
    report(
        "NER: spaCy fr_core_news_sm + en_core_web_sm with domain ruler",
        [
            ("documents", f"{len(docs):,} (half French, half English)"),
            ("docs/s (median)", f"{median(rates):,.0f}"),
            ("entities found", f"{entities:,}"),
            ("runs", str(args.runs)),
        ],
    )


if __name__ == "__main__":
    main()

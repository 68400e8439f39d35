"""Evaluation: gold sets and their splits, the corpus a gold set names (also the demo's), the
baselines run beside flowrag (one vector per document, BM25) and the scores (recall@k, MRR,
no-answer accuracy, wrongful abstention, per language and category)."""

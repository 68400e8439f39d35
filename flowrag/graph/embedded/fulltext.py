"""Full-text on the embedded store (SQLite FTS5): the query a user's text becomes, and which
words are too common to rank by. Matching and BM25 ranking stay in SQLite."""

from __future__ import annotations

import re
import sqlite3
import unicodedata

__all__ = ["FTS_TOKEN", "fold", "fts_query", "prune_common"]

FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def fold(term: str) -> str:
    """A token as FTS5's unicode61 tokenizer stores it (lowercase, diacritics removed)."""
    return "".join(c for c in unicodedata.normalize("NFKD", term.lower()) if not unicodedata.combining(c))


# A single word in more than this share of the rows (and at least _COMMON_MIN rows) is dropped from
# an OR query: its BM25 weight is near zero, yet ranking every row that contains it is what made a
# search on a 100k-node graph take 100-300 ms ("status" is in every monitoring record).
_COMMON_SHARE = 0.05
_COMMON_MIN = 5000


def fts_query(text: str) -> str:
    """An FTS5 query from free text: each whitespace-separated chunk becomes a quoted phrase of
    its word tokens (``orders_qa`` -> "orders qa", ``/v3/vdbs/{vdbId}/refresh`` ->
    "v3 vdbs vdbid refresh"), OR-ed. Quoting makes every user string a literal."""
    phrases = []
    for chunk in text.split():
        tokens = FTS_TOKEN.findall(chunk)
        if tokens:
            phrases.append('"' + " ".join(t.replace('"', "") for t in tokens) + '"')
    return " OR ".join(dict.fromkeys(phrases))


def prune_common(conn: sqlite3.Connection, query: str) -> tuple[str, bool]:
    """Drop very common single words from an OR query; (query, rank by BM25?). When every
    word is common the query is kept and not ranked (any k matches: ranking them all would
    cost a scan of most of the index for a near-zero score difference)."""
    phrases = query.split(" OR ")
    singles = {p: fold(p.strip('"')) for p in phrases if " " not in p}
    if not singles:
        return query, True
    top = conn.execute("SELECT max(id) FROM nodes").fetchone()[0] or 0
    limit = max(_COMMON_MIN, int(top * _COMMON_SHARE))
    if top <= limit:
        return query, True
    terms = sorted(set(singles.values()))
    try:
        counts = dict(
            conn.execute(
                f"SELECT term, doc FROM fts_vocab WHERE term IN ({','.join('?' * len(terms))})", terms
            ).fetchall()
        )
    except sqlite3.OperationalError:  # a store from before fts_vocab
        return query, True
    common = {p for p, term in singles.items() if counts.get(term, 0) > limit}
    kept = [p for p in phrases if p not in common]
    if kept:
        return " OR ".join(kept), True
    return query, False

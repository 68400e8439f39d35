"""The ``flowrag`` command (composition root for the terminal). One Typer app (cli/base.py); each
module registers one group of commands on it."""

from __future__ import annotations

import sys

from flowrag.cli import answers, ingest, serve, store  # noqa: F401  (they register their commands)
from flowrag.cli.answers import _ingest_corpus
from flowrag.cli.base import _DCT_KINDS, app, err
from flowrag.errors import FlowragError

__all__ = ["_DCT_KINDS", "_ingest_corpus", "app", "main"]


def main() -> None:
    try:
        app()
    except FlowragError as exc:  # pragma: no cover - run_async handles these
        err.print(f"error: {exc}")
        sys.exit(1)

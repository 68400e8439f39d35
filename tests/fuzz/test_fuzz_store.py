"""Re-ingesting a damaged version of a stored spec (mutated structure, truncated or corrupted
bytes) over the real embedded store: a rejected input leaves every node and hash as it was, and
an accepted one never removes more than the shrink guard allows. After each input the original
spec is ingested again, so every example starts from the same store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowrag.errors import FlowragError
from flowrag.graph.embedded import EmbeddedStore
from flowrag.ingest.openapi import MAX_SHRINK, ingest_openapi
from tests.fuzz.stats import examples, tried
from tests.fuzz.test_fuzz_inputs import _text, dct_sample, mutated_specs

SOURCE = "openapi"


class _Stored:
    def __init__(self, root: Path, embedder: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.store = EmbeddedStore.open(root / "graph")
        self.embedder = embedder
        self.original = root / "dct-sample.yaml"
        self.original.write_text(_text(dct_sample(), True))
        self.candidate = root / "dct-sample-next.yaml"
        self.run(self.store.migrate(embedder.dimension))
        self.run(ingest_openapi(self.store, embedder, str(self.original), "dct"))
        self.baseline = self.snapshot()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def snapshot(self) -> dict[str, str]:
        uids = self.run(self.store.scope_uids(SOURCE, "dct"))
        return dict(self.run(self.store.existing_hashes(sorted(uids))))

    def attempt(self, raw: bytes) -> None:
        self.candidate.write_bytes(raw)
        try:
            self.run(ingest_openapi(self.store, self.embedder, str(self.candidate), "dct"))
        except FlowragError:
            after = self.snapshot()
            assert after == self.baseline, (
                f"data lost: a rejected input changed {len(set(after) ^ set(self.baseline))} nodes"
            )
        else:
            kept = set(self.snapshot()) & set(self.baseline)
            removed = len(self.baseline) - len(kept)
            assert removed <= MAX_SHRINK * len(self.baseline), (
                f"data lost: {removed} of {len(self.baseline)} nodes removed"
            )
            self.run(ingest_openapi(self.store, self.embedder, str(self.original), "dct", allow_shrink=True))
            assert self.snapshot() == self.baseline


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, cached_embedder: Any) -> Iterator[_Stored]:
    state = _Stored(tmp_path_factory.mktemp("fuzz-store"), cached_embedder)
    yield state
    state.run(state.store.close())
    state.loop.close()


@settings(max_examples=examples(25), deadline=None)
@given(doc=mutated_specs())
def test_a_mutated_spec_never_loses_stored_nodes(stored: _Stored, doc: Any) -> None:
    tried()
    stored.attempt(_text(doc, True).encode())


@settings(max_examples=examples(25), deadline=None)
@given(cut=st.floats(0.0, 1.0), junk=st.binary(min_size=0, max_size=8), at=st.floats(0.0, 1.0))
def test_a_truncated_or_corrupted_spec_never_loses_stored_nodes(
    stored: _Stored, cut: float, junk: bytes, at: float
) -> None:
    tried()
    raw = bytearray(stored.original.read_bytes())
    where = int(at * (len(raw) - 1))
    raw[where : where + len(junk)] = junk
    stored.attempt(bytes(raw[: max(1, int(cut * len(raw)))]))

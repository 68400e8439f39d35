"""Jobs stop when asked, past their time limit and over their memory limit, and the work really
stops: its threads too. The real code ingester on a generated tree and the real model show it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flowrag.api.jobs import JobManager
from flowrag.cancel import JobStopped, StopToken, checkpoint, resident_mb, running_under
from flowrag.graph.embedded import EmbeddedStore
from flowrag.ingest.code import ingest_code
from tests.conftest import TEST_DIMENSION


@pytest.fixture
async def jobs_store(tmp_path: Path) -> AsyncIterator[EmbeddedStore]:
    store = EmbeddedStore.open(tmp_path / "graph")
    await store.migrate(TEST_DIMENSION)
    yield store
    await store.close()


async def _finished(jobs: JobManager, job_id: str, within: float = 60) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        job = await jobs.get(job_id)
        if job is not None and job.state not in ("QUEUED", "RUNNING"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} still running after {within} s")


class _Spinner:
    """Work in a thread that counts its steps, with a checkpoint at each one."""

    def __init__(self) -> None:
        self.steps = 0
        self.started = threading.Event()

    def spin(self) -> None:
        self.started.set()
        while True:
            checkpoint()
            self.steps += 1
            time.sleep(0.001)

    async def __call__(self, progress: Any) -> list[Any]:
        await asyncio.to_thread(self.spin)
        return []


async def test_cancel_stops_the_thread_not_only_the_task(jobs_store: EmbeddedStore) -> None:
    jobs = JobManager(jobs_store)
    spinner = _Spinner()
    job = await jobs.start("spin", {}, spinner)
    await asyncio.to_thread(spinner.started.wait, 10)
    state = await jobs.cancel(job.id)
    assert state is not None and state.state == "CANCELLED" and state.message == "cancelled"
    steps = spinner.steps
    await asyncio.sleep(0.3)
    assert spinner.steps == steps  # nothing runs after cancel returned


async def test_time_and_memory_limits_fail_the_job_with_the_reason(jobs_store: EmbeddedStore) -> None:
    timed = JobManager(jobs_store, timeout_s=0.3)
    job = await timed.start("spin", {}, _Spinner())
    done = await _finished(timed, job.id)
    assert done.state == "FAILED" and "time limit" in done.message
    assert resident_mb() is not None  # Linux: the memory limit can be measured
    hungry = JobManager(jobs_store, max_memory_mb=1)
    job = await hungry.start("spin", {}, _Spinner())
    done = await _finished(hungry, job.id)
    assert done.state == "FAILED" and "over the job memory limit of 1 MB" in done.message


async def test_a_time_limit_holds_while_the_work_waits_without_checkpoints(jobs_store: EmbeddedStore) -> None:
    async def sleeper(progress: Any) -> list[Any]:
        await asyncio.sleep(60)  # an I/O wait: no checkpoint runs
        return []

    jobs = JobManager(jobs_store, timeout_s=0.2, stop_grace_s=0.2)
    job = await jobs.start("sleep", {}, sleeper)
    done = await _finished(jobs, job.id, within=10)
    assert done.state == "FAILED" and "time limit" in done.message


async def test_jobs_over_the_running_limit_wait_queued_and_can_be_cancelled_there(
    jobs_store: EmbeddedStore,
) -> None:
    jobs = JobManager(jobs_store, max_running=1)
    first, second = _Spinner(), _Spinner()
    running = await jobs.start("spin", {}, first)
    waiting = await jobs.start("spin", {}, second)
    await asyncio.to_thread(first.started.wait, 10)
    await asyncio.sleep(0.1)
    assert (await jobs.get(waiting.id)).state == "QUEUED"  # type: ignore[union-attr]
    state = await jobs.cancel(waiting.id)
    assert state is not None and state.state == "CANCELLED" and not second.started.is_set()
    assert (await jobs.cancel(running.id)).state == "CANCELLED"  # type: ignore[union-attr]


def test_a_stop_is_not_swallowed_by_per_item_error_handlers() -> None:
    token = StopToken()
    token.cancel("cancelled")
    with running_under(token), pytest.raises(JobStopped):
        try:
            checkpoint()
        except Exception:  # what an ingester does to record a bad file and go on
            pytest.fail("JobStopped was caught as an ordinary error")


class _Counting:
    """The real model, counting the texts it has actually encoded."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.model_id, self.dimension, self.texts = inner, inner.model_id, inner.dimension, 0
        self.working = threading.Event()

    def embed_passages(self, texts: Any) -> Any:
        vectors = self.inner.embed_passages(texts)
        self.texts += len(texts)
        self.working.set()
        return vectors

    def embed_queries(self, texts: Any) -> Any:
        return self.inner.embed_queries(texts)


async def test_cancelling_a_real_code_ingest_stops_reading_and_embedding(
    jobs_store: EmbeddedStore, embedder: Any, tmp_path: Path
) -> None:
    from flowrag.models.embeddings import CachedEmbedder

    model = _Counting(embedder)
    cached = CachedEmbedder(model, None)
    tree = tmp_path / "repo"
    for i in range(600):  # ~1,800 distinct texts: a minute of embedding on two cores
        package = tree / f"pkg{i % 20}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"mod{i}.py").write_text(
            f'"""Module {i} of the settlement batch."""\n\n'
            f"def load_{i}(path):\n    '''Read ledger {i} from path.'''\n    return open(path).read()\n\n"
            f"def post_{i}(rows):\n    '''Post {i} rows to the ledger.'''\n    return len(rows) * {i}\n"
        )
    await asyncio.to_thread(model.embed_passages, ["the model loaded before the clock starts"])
    model.working.clear()
    jobs = JobManager(jobs_store)
    job = await jobs.start(
        "code", {}, lambda progress: _one(ingest_code(jobs_store, cached, str(tree), "r", progress))
    )
    before = model.texts
    model.working.clear()
    assert await asyncio.to_thread(model.working.wait, 120)  # the model is working on this tree
    started = time.monotonic()
    state = await jobs.cancel(job.id)
    took = time.monotonic() - started
    assert state is not None and state.state == "CANCELLED"
    assert took < 15, f"cancel took {took:.1f} s"  # one chunk of texts, not the whole batch
    embedded, written = model.texts, len(await jobs_store.scope_uids("code", "r"))
    await asyncio.sleep(1.5)
    assert (model.texts, len(await jobs_store.scope_uids("code", "r"))) == (embedded, written)
    assert embedded - before < 1800  # it stopped before the end


async def _one(coroutine: Any) -> list[Any]:
    return [await coroutine]

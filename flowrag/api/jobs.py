"""Background ingestion jobs: run on the server loop (heavy parts go to threads), state kept in the
graph store as `Job` nodes, progress pushed to subscribers. A restarted server marks jobs that were
running as INTERRUPTED (the ingesters' checkpoints make a re-run resume).

Each job runs under a ``StopToken``: ``cancel`` sets it and the work, threads included, stops at its
next checkpoint (every file, page, batch, reference, 64 embedded texts); the same token trips on
the job time limit and the server memory limit. At most ``max_running`` jobs run at once, the
others wait QUEUED."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from flowrag.cancel import JobStopped, StopToken, running_under
from flowrag.graph.port import Filter, GraphStore
from flowrag.schema import NodeLabel, NodeRow
from flowrag.timeutil import now_iso

__all__ = ["TERMINAL", "JobManager", "JobState"]

from flowrag.ingest.writer import Progress

log = logging.getLogger(__name__)
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"})


@dataclass(frozen=True)
class JobState:
    id: str
    kind: str
    state: str  # QUEUED | RUNNING | SUCCEEDED | FAILED | CANCELLED | INTERRUPTED
    params: str  # JSON, secrets removed
    done: int = 0
    total: int | None = None
    message: str = ""
    report: str = ""  # JSON
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


def _row(job: JobState) -> NodeRow:
    return NodeRow(
        NodeLabel.JOB,
        job.id,
        "system",
        "jobs",
        job.id,
        name=f"{job.kind} {job.id}",
        text=job.message,
        props={
            "kind": job.kind,
            "state": job.state,
            "params": job.params,
            "done": job.done,
            "total": job.total,
            "report": job.report,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
        },
    )


def _from_props(key: str, text: str, props: dict[str, Any]) -> JobState:
    return JobState(
        key,
        str(props.get("kind", "")),
        str(props.get("state", "")),
        str(props.get("params", "{}")),
        int(props.get("done", 0) or 0),
        props.get("total"),
        text,
        str(props.get("report", "")),
        str(props.get("created_at", "")),
        str(props.get("updated_at", "")),
    )


class JobManager:
    def __init__(
        self,
        store: GraphStore,
        on_written: Callable[[], None] | None = None,
        *,
        timeout_s: float | None = None,
        max_memory_mb: float | None = None,
        max_running: int = 2,
        stop_grace_s: float = 30.0,
        on_reports: Callable[[list[Any]], None] | None = None,
    ) -> None:
        self._store = store
        self._on_written = on_written  # told after every job that may have written to the store
        self._on_reports = on_reports  # told the ingestion reports of every job that succeeded
        self._timeout_s = timeout_s
        self._max_memory_mb = max_memory_mb
        self._slots = asyncio.Semaphore(max_running)
        self._stop_grace_s = stop_grace_s
        self._tokens: dict[str, StopToken] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._states: dict[str, JobState] = {}
        self._listeners: dict[str, list[asyncio.Queue[JobState]]] = {}

    async def recover(self) -> int:
        """Mark jobs left RUNNING/QUEUED by a previous process as INTERRUPTED."""
        stale = await self._store.find_nodes(
            "Job", [Filter("state", "in", ["RUNNING", "QUEUED"])], limit=10_000
        )
        for node in stale:
            job = _from_props(node.key, node.text, node.props)
            await self._save(
                replace(job, state="INTERRUPTED", message="server restarted; run it again to resume")
            )
        return len(stale)

    async def _save(self, job: JobState) -> None:
        job = replace(job, updated_at=now_iso())
        self._states[job.id] = job
        await self._store.upsert_nodes([_row(job)])
        for queue in self._listeners.get(job.id, []):
            queue.put_nowait(job)

    async def get(self, job_id: str) -> JobState | None:
        if job_id in self._states:
            return self._states[job_id]
        found = await self._store.get_nodes([f"Job:{job_id}"])
        return _from_props(found[0].key, found[0].text, found[0].props) if found else None

    async def recent(self, limit: int = 50) -> list[JobState]:
        nodes = await self._store.find_nodes("Job", order_by="created_at", descending=True, limit=limit)
        return [self._states.get(n.key) or _from_props(n.key, n.text, n.props) for n in nodes]

    async def start(
        self, kind: str, params: dict[str, Any], work: Callable[[Progress], Awaitable[list[Any]]]
    ) -> JobState:
        job = JobState(uuid.uuid4().hex[:12], kind, "QUEUED", json.dumps(params, default=str))
        await self._save(job)
        self._tokens[job.id] = StopToken()  # limits start counting when the job leaves the queue
        self._tasks[job.id] = asyncio.create_task(self._run(job, work), name=f"flowrag-job-{job.id}")
        return job

    async def _run(self, job: JobState, work: Callable[[Progress], Awaitable[list[Any]]]) -> None:
        try:
            async with self._slots:
                queued = self._tokens[job.id]
                if queued.stopped:
                    raise JobStopped(queued.reason)
                token = StopToken(self._timeout_s, self._max_memory_mb)
                self._tokens[job.id] = token
                with running_under(token):
                    await self._work(job, token, work)
        except (JobStopped, asyncio.CancelledError):
            await self._save(replace(job, state="CANCELLED", message="cancelled before it started"))
        finally:
            self._tokens.pop(job.id, None)
            self._tasks.pop(job.id, None)

    async def _work(
        self, job: JobState, token: StopToken, work: Callable[[Progress], Awaitable[list[Any]]]
    ) -> None:
        job = replace(job, state="RUNNING", message="started")
        await self._save(job)
        pending: list[asyncio.Task[None]] = []

        def progress(scope: str, done: int, total: int | None) -> None:
            nonlocal job
            job = replace(job, done=done, total=total, message=f"{scope}: {done}/{total if total else '?'}")
            pending.append(asyncio.ensure_future(self._save(job)))

        try:
            # the time limit also holds when the work waits on I/O between checkpoints
            limit = self._timeout_s + self._stop_grace_s if self._timeout_s else None
            reports = await asyncio.wait_for(work(progress), limit)
            await asyncio.gather(*pending)
            summary = [r.as_dict() for r in reports]
            if self._on_reports is not None:
                self._on_reports(list(reports))
            done = sum(r.read for r in reports)
            job = replace(
                job,
                state="SUCCEEDED",
                done=done,
                total=done,
                report=json.dumps(summary),
                message=f"done: {done} items read",
            )
        except JobStopped as exc:
            await asyncio.gather(*pending, return_exceptions=True)
            timed_out = "time limit" in exc.reason or "memory limit" in exc.reason
            job = replace(job, state="FAILED" if timed_out else "CANCELLED", message=exc.reason)
        except TimeoutError:
            token.cancel(f"stopped after {self._timeout_s:g} s (the job time limit)")
            job = replace(job, state="FAILED", message=token.reason)
        except asyncio.CancelledError:
            token.cancel()
            job = replace(job, state="CANCELLED", message="cancelled")
        except Exception as exc:
            log.warning("job %s failed: %s", job.id, exc)
            job = replace(job, state="FAILED", message=str(getattr(exc, "message", exc))[:2000])
        finally:
            if self._on_written is not None:
                self._on_written()
        await self._save(job)

    async def cancel(self, job_id: str) -> JobState | None:
        """Stop the job and return once its work has stopped (its threads included); a job stuck
        past ``stop_grace_s`` in a call with no checkpoint is abandoned to that call's own timeout."""
        task, token = self._tasks.get(job_id), self._tokens.get(job_id)
        if task is not None and token is not None:
            token.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), self._stop_grace_s)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return await self.get(job_id)

    async def follow(self, job_id: str) -> AsyncIterator[JobState]:
        """Current state, then every update until a terminal state."""
        queue: asyncio.Queue[JobState] = asyncio.Queue()
        self._listeners.setdefault(job_id, []).append(queue)
        try:
            current = await self.get(job_id)
            if current is None:
                return
            yield current
            if current.state in TERMINAL:
                return
            while True:
                job = await queue.get()
                yield job
                if job.state in TERMINAL:
                    return
        finally:
            self._listeners[job_id].remove(queue)

    def states(self) -> list[JobState]:
        """Every job this process knows (its own since start, and those recovered)."""
        return list(self._states.values())

    async def shutdown(self) -> None:
        for job_id in list(self._tasks):
            await self.cancel(job_id)

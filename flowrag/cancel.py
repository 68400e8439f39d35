"""Cooperative stopping of long work (ingestion jobs): a token held in a context variable, so the
ingesters' threads (``asyncio.to_thread`` copies the context) see it too, and ``checkpoint()``
calls at every file, page, batch and reference. A stopped job raises ``JobStopped``, a
``BaseException`` like ``KeyboardInterrupt``, so the per-item ``except Exception`` handlers that
record a bad file and go on cannot swallow it."""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["JobStopped", "StopToken", "checkpoint", "resident_mb", "running_under"]


class JobStopped(BaseException):
    """The job was cancelled, ran past its time limit, or the process went over its memory limit."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_mb() -> float | None:
    """This process's resident memory (Linux /proc), or None where it cannot be read."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * _PAGE / 1e6


class StopToken:
    """Set by ``cancel()``; also trips by itself past ``timeout_s`` or over ``max_memory_mb``."""

    def __init__(self, timeout_s: float | None = None, max_memory_mb: float | None = None) -> None:
        self._event = threading.Event()
        self._reason = ""
        self._deadline = time.monotonic() + timeout_s if timeout_s else None
        self._timeout_s = timeout_s
        self._max_memory_mb = max_memory_mb
        self._last_memory_check = 0.0

    def cancel(self, reason: str = "cancelled") -> None:
        if not self._event.is_set():
            self._reason = reason
            self._event.set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    @property
    def reason(self) -> str:
        return self._reason

    def check(self) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            self.cancel(f"stopped after {self._timeout_s:g} s (the job time limit)")
        if self._max_memory_mb and not self._event.is_set():
            now = time.monotonic()
            if now - self._last_memory_check > 0.2:  # reading /proc costs ~20 µs; not on every item
                self._last_memory_check = now
                used = resident_mb()
                if used is not None and used > self._max_memory_mb:
                    self.cancel(
                        f"stopped: the server used {used:.0f} MB, over the job memory limit "
                        f"of {self._max_memory_mb:g} MB"
                    )
        if self._event.is_set():
            raise JobStopped(self._reason)


_current: contextvars.ContextVar[StopToken | None] = contextvars.ContextVar("flowrag_stop", default=None)


def checkpoint() -> None:
    """Raise ``JobStopped`` if the work running in this context was asked to stop."""
    token = _current.get()
    if token is not None:
        token.check()


@contextlib.contextmanager
def running_under(token: StopToken) -> Iterator[StopToken]:
    """Work started inside (coroutines, and threads they start) stops at its next checkpoint."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)

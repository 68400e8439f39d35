"""The fuzz suite's counters (a module of its own: pytest may import a conftest twice)."""

from __future__ import annotations

import os
import sys
from collections import Counter

SCALE = float(os.environ.get("FLOWRAG_FUZZ_EXAMPLES", "1"))
RANDOM = os.environ.get("FLOWRAG_FUZZ_RANDOM") == "1"
TRIED: Counter[str] = Counter()
OUTCOMES: dict[str, Counter[str]] = {}


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


def tried() -> None:
    """Count one input for the calling test."""
    TRIED[sys._getframe(1).f_code.co_name] += 1  # inspect.stack() would read every source file

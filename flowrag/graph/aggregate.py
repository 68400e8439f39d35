"""Typed aggregates over runs: the question "quelle technologie échoue le plus depuis lundi" becomes
a :class:`RunQuery` (filters, a group, an order, a negation) that each store runs in one query —
SQL on the embedded store, Cypher on Neo4j — and answers with :class:`RunGroup` rows.

The groups are Run properties that hold the key of the node they name (``pipeline`` is a
Pipeline key, ``technology`` a Technology key, ``error_template`` an Error key…), so an answer
can cite the group's node as well as its runs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from flowrag.errors import PlanError
from flowrag.timeutil import to_iso

__all__ = [
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "ORDERS",
    "RunAggregate",
    "RunGroup",
    "RunQuery",
    "day_bounds",
]

# Run property -> label of the node whose key it holds (status has no node)
DIMENSION_LABELS: dict[str, str | None] = {
    "pipeline": "Pipeline",
    "technology": "Technology",
    "host": "Host",
    "environment": "Environment",
    "collection": "Collection",
    "error_template": "Error",
    "status": None,
}
DIMENSIONS = tuple(DIMENSION_LABELS)
GROUPS = (*DIMENSIONS, "day")
Order = Literal["most", "least", "last", "first", "longest"]
ORDERS: tuple[Order, ...] = ("most", "least", "last", "first", "longest")


@dataclass(frozen=True)
class RunQuery:
    """Which runs are counted, within which scope, grouped how.

    ``statuses`` pick the counted runs (empty = every run). ``start``/``end`` (UTC ISO, end
    exclusive) and ``where`` (dimension -> allowed keys) bound the scope. With ``negate`` the
    answer is the groups that have runs in scope but none counted ("flows that never failed")."""

    statuses: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    group_by: str = "pipeline"
    negate: bool = False
    order: Order = "most"
    limit: int = 10
    day_offset_minutes: int = 0  # group_by="day": days of this UTC offset (the team's zone)
    latest: int = 3  # uids of each group's most recent counted runs to return (0: counts only)

    def __post_init__(self) -> None:
        if self.group_by not in GROUPS:
            raise PlanError(f"cannot group runs by {self.group_by!r}", hint=f"groups are {', '.join(GROUPS)}")
        for dim, _ in self.where:
            if dim not in DIMENSIONS:
                raise PlanError(f"cannot filter runs by {dim!r}", hint=f"filters are {', '.join(DIMENSIONS)}")
        if self.order not in ORDERS:
            raise PlanError(f"unknown order {self.order!r}", hint=f"orders are {', '.join(ORDERS)}")
        if not 1 <= self.limit <= 1000:
            raise PlanError(f"limit {self.limit} is out of range", hint="use 1..1000")
        if not 0 <= self.latest <= 10:
            raise PlanError(f"latest {self.latest} is out of range", hint="use 0..10")
        if self.negate and self.group_by == "day":
            raise PlanError("days without runs are not stored", hint="group by a dimension")

    @property
    def scoped(self) -> bool:
        """Bounded by more than the statuses (a window or a dimension filter)."""
        return bool(self.start or self.end or self.where)

    def shifted(self, start: str, end: str) -> RunQuery:
        """The same question over another window (comparison with the previous period)."""
        return replace(self, start=start, end=end)


@dataclass(frozen=True)
class RunGroup:
    key: str
    count: int  # counted runs in the group (0 for a negated query)
    first: str | None = None  # earliest counted run's start (negated: any run in scope)
    last: str | None = None
    mean_duration_s: float | None = None
    max_duration_s: float | None = None
    latest: tuple[str, ...] = ()  # uids of the most recent counted runs (at most query.latest)
    runs: int | None = None  # negated queries: runs in scope in the group, when the store knows it


@dataclass(frozen=True)
class RunAggregate:
    total: int  # counted runs in scope (every group, before the limit)
    group_count: int  # groups that qualify (before the limit)
    groups: tuple[RunGroup, ...] = field(default_factory=tuple)


def day_bounds(day: str, offset_minutes: int) -> tuple[str, str]:
    """UTC bounds of the local day ``YYYY-MM-DD`` at this UTC offset."""
    start = datetime.fromisoformat(day) - timedelta(minutes=offset_minutes)
    return to_iso(start), to_iso(start + timedelta(days=1))

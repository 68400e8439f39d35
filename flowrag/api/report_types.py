"""GraphQL types of the morning report (``report`` query, ``sendReport`` mutation)."""

from __future__ import annotations

import strawberry

from flowrag.report.facts import Report
from flowrag.report.render import to_markdown
from flowrag.report.service import Delivery

__all__ = ["DailyReport", "ReportDelivery", "SendReportResult"]


@strawberry.type
class StatusCount:
    status: str
    count: int


@strawberry.type
class TechnologyCount:
    technology: str
    count: int


@strawberry.type(description="Failing runs of one flow with one error template.")
class ReportCause:
    template_id: str
    template: str = strawberry.field(description="the normalised error shape")
    message: str = strawberry.field(description="the latest run's own message (excerpt)")
    count: int
    hosts: list[str]
    citations: list[str] = strawberry.field(description="collection/_id of the latest runs")


@strawberry.type
class ReportFlow:
    pipeline: str
    name: str
    technology: str
    count: int
    first: str = strawberry.field(description="first failing run's start (UTC)")
    last: str
    hosts: list[str]
    causes: list[ReportCause]
    citations: list[str]


@strawberry.type(description="An error template whose first failing run is on the report's day.")
class ReportNewError:
    template_id: str
    template: str
    message: str
    count: int
    first: str
    pipelines: list[str]
    citation: str


@strawberry.type(description="A flow or technology whose failures moved against the previous days.")
class ReportTrend:
    dimension: str = strawberry.field(description="pipeline or technology")
    key: str
    name: str
    today: int
    mean: float = strawberry.field(
        description="failures per period (a day by default) over the previous periods"
    )
    sd: float
    direction: str = strawberry.field(description="up, down, new or recovered")


@strawberry.type
class ReportStreak:
    pipeline: str
    days: int = strawberry.field(description="consecutive days with failures, ending on the report's day")
    since: str


@strawberry.type(description="A Delphix object a failing run's message names after its kind.")
class ReportDelphixObject:
    kind: str
    name: str
    pipelines: list[str]
    citations: list[str]


@strawberry.type(description="Code that implements a failing flow.")
class ReportCode:
    pipeline: str
    label: str
    name: str
    provenance: str


@strawberry.type
class ReportDay:
    day: str
    counts: list[StatusCount]


@strawberry.type(description="The outcome of one channel's delivery.")
class ReportDelivery:
    channel: str
    status: str = strawberry.field(description="sent, failed or skipped (already sent)")
    attempts: int
    detail: str = strawberry.field(description="where it went, or why it did not")
    at: str

    @classmethod
    def of(cls, d: Delivery) -> ReportDelivery:
        return cls(channel=d.channel, status=d.status, attempts=d.attempts, detail=d.detail, at=d.at)


def _counts(counts: dict[str, int]) -> list[StatusCount]:
    return [StatusCount(status=k, count=v) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]


@strawberry.type(
    description="The morning report of one local day (or of the days ending on it), built from the store."
)
class DailyReport:
    day: str = strawberry.field(description="the report's last local day (its only one by default)")
    first_day: str = strawberry.field(description="the period's first local day")
    days: int = strawberry.field(description="local days in the period")
    collections: list[str] = strawberry.field(description="the collections counted (empty: all)")
    timezone: str
    language: str
    start: str = strawberry.field(description="UTC start of the period")
    end: str
    generated_at: str
    totals: list[StatusCount] = strawberry.field(description="the day's runs by status")
    failing_flows: int
    failures: list[ReportFlow]
    new_errors: list[ReportNewError]
    trends: list[ReportTrend]
    streaks: list[ReportStreak]
    technologies: list[TechnologyCount]
    delphix: list[ReportDelphixObject]
    code: list[ReportCode]
    chart: list[ReportDay] = strawberry.field(description="runs per day by status")
    synthesis: str
    synthesis_by: str = strawberry.field(description="llm or rule")
    notes: list[str]
    markdown: str
    deliveries: list[ReportDelivery] = strawberry.field(description="what each channel has received so far")

    @classmethod
    def of(cls, r: Report, deliveries: dict[str, Delivery]) -> DailyReport:
        return cls(
            day=r.day,
            first_day=r.first_day,
            days=r.days,
            collections=list(r.collections),
            timezone=r.timezone,
            language=r.language,
            start=r.start,
            end=r.end,
            generated_at=r.generated_at,
            totals=_counts(r.totals),
            failing_flows=r.failing_flows,
            failures=[
                ReportFlow(
                    pipeline=f.pipeline,
                    name=f.name,
                    technology=f.technology,
                    count=f.count,
                    first=f.first,
                    last=f.last,
                    hosts=list(f.hosts),
                    causes=[
                        ReportCause(
                            template_id=c.template_id,
                            template=c.template,
                            message=c.message,
                            count=c.count,
                            hosts=list(c.hosts),
                            citations=list(c.citations),
                        )
                        for c in f.causes
                    ],
                    citations=list(f.citations),
                )
                for f in r.failures
            ],
            new_errors=[
                ReportNewError(
                    template_id=e.template_id,
                    template=e.template,
                    message=e.message,
                    count=e.count,
                    first=e.first,
                    pipelines=list(e.pipelines),
                    citation=e.citation,
                )
                for e in r.new_errors
            ],
            trends=[
                ReportTrend(
                    dimension=t.dimension,
                    key=t.key,
                    name=t.name,
                    today=t.today,
                    mean=t.mean,
                    sd=t.sd,
                    direction=t.direction,
                )
                for t in r.trends
            ],
            streaks=[ReportStreak(pipeline=s.pipeline, days=s.days, since=s.since) for s in r.streaks],
            technologies=[TechnologyCount(technology=t, count=c) for t, c in r.technologies],
            delphix=[
                ReportDelphixObject(
                    kind=o.kind, name=o.name, pipelines=list(o.pipelines), citations=list(o.citations)
                )
                for o in r.delphix
            ],
            code=[
                ReportCode(pipeline=c.pipeline, label=c.label, name=c.name, provenance=c.provenance)
                for c in r.code
            ],
            chart=[ReportDay(day=d.day, counts=_counts(d.counts)) for d in r.chart],
            synthesis=r.synthesis,
            synthesis_by=r.synthesis_by,
            notes=list(r.notes),
            markdown=to_markdown(r),
            deliveries=[ReportDelivery.of(d) for d in deliveries.values()],
        )


@strawberry.type
class SendReportResult:
    report: DailyReport
    deliveries: list[ReportDelivery] = strawberry.field(description="this call's outcome per channel")

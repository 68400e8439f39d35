"""The GraphQL mutations (ingestion jobs, reports, sessions) and subscriptions (askStream,
jobProgress)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from flowrag.api.enums import SourceName, values
from flowrag.api.queries import _allowed, _report_service, _translate
from flowrag.api.report_types import DailyReport, ReportDelivery, SendReportResult
from flowrag.api.types import (
    Answer,
    AskEvent,
    Context,
    IsReader,
    IsWriter,
    Job,
)
from flowrag.errors import FlowragError


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[IsWriter])
    async def ingest_open_api(self, info: Info[Context, None], location: str, name: str | None = None) -> Job:
        from flowrag.ingest.openapi import ingest_openapi

        rt = info.context.runtime
        policy = _allowed(info, location)

        async def work(progress: Any) -> list[Any]:
            report = await ingest_openapi(rt.store, rt.embedder, location, name, policy=policy)
            progress(report.scope, report.read, report.read)
            return [report]

        return Job.of(await info.context.jobs.start("openapi", {"location": location, "name": name}, work))

    @strawberry.mutation(
        permission_classes=[IsWriter],
        description="Build and deliver a day's report to the configured channels (all by default) "
        "that do not have it yet; resend sends again.",
    )
    async def send_report(
        self,
        info: Info[Context, None],
        date: str | None = None,
        channels: list[str] | None = None,
        resend: bool = False,
    ) -> SendReportResult:
        service = _report_service(info)
        try:
            day = service.day(date)
            built, deliveries = await service.send(day, channels, resend=resend)
        except FlowragError as exc:
            raise _translate(exc) from None
        return SendReportResult(
            report=DailyReport.of(built, await service.deliveries(day)),
            deliveries=[ReportDelivery.of(d) for d in deliveries],
        )

    @strawberry.mutation(
        permission_classes=[IsWriter],
        description="Sync the live Delphix estate through the DCT v3 API (a background job). The "
        "API key is the server's FLOWRAG_DELPHIX__API_KEY, never an argument; the URL defaults to "
        "FLOWRAG_DELPHIX__URL and must pass the server's source policy.",
    )
    async def ingest_delphix(
        self,
        info: Info[Context, None],
        url: str | None = None,
        name: str | None = None,
        since: str | None = None,
        kinds: list[str] | None = None,
    ) -> Job:
        from flowrag.ingest.delphix import DctOptions, ingest_delphix

        rt = info.context.runtime
        try:
            options = DctOptions.from_settings(
                rt.settings.delphix, url=url, name=name, since=since, kinds=tuple(kinds or ())
            )
            options.listings()
        except FlowragError as exc:
            raise _translate(exc) from None
        policy = _allowed(info, options.base)

        async def work(progress: Any) -> list[Any]:
            return [await ingest_delphix(rt.store, rt.embedder, options, policy=policy, progress=progress)]

        params = {
            "url": options.url,
            "name": options.scope,
            "since": options.since,
            "kinds": list(options.kinds),
        }
        return Job.of(await info.context.jobs.start("delphix", params, work))

    @strawberry.mutation(permission_classes=[IsWriter])
    async def ingest_code(self, info: Info[Context, None], location: str, name: str | None = None) -> Job:
        from flowrag.ingest.code import ingest_code

        rt = info.context.runtime
        _allowed(info, location)

        async def work(progress: Any) -> list[Any]:
            return [await ingest_code(rt.store, rt.embedder, location, name, progress)]

        return Job.of(await info.context.jobs.start("code", {"location": location, "name": name}, work))

    @strawberry.mutation(permission_classes=[IsWriter])
    async def ingest_mongo(
        self,
        info: Info[Context, None],
        uri: str,
        db: str,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        limit: int | None = None,
        full: bool = False,
    ) -> Job:
        from flowrag.ingest.monitoring import MongoOptions, ingest_mongo

        rt = info.context.runtime
        _allowed(info, uri, mongo=True)
        # the same mappings, filters and codes as `flowrag ingest mongo`
        options = MongoOptions.from_settings(
            uri,
            db,
            rt.settings.mongo,
            timezone=rt.settings.timezone,
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
            limit=limit,
            full=full,
        )

        async def work(progress: Any) -> list[Any]:
            return await ingest_mongo(rt.store, rt.embedder, rt.vocabulary, options, progress, nlp=rt.nlp)

        safe_uri = uri.split("@", 1)[-1]  # never store credentials in the job record
        return Job.of(await info.context.jobs.start("mongo", {"uri": safe_uri, "db": db, "full": full}, work))

    @strawberry.mutation(permission_classes=[IsWriter])
    async def ingest_html(self, info: Info[Context, None], location: str, site: str | None = None) -> Job:
        from flowrag.ingest.html import ingest_html

        rt = info.context.runtime
        policy = _allowed(info, location)

        async def work(progress: Any) -> list[Any]:
            report = await ingest_html(rt.store, rt.embedder, location, site, policy=policy)
            progress(report.scope, report.read, report.read)
            return [report]

        return Job.of(await info.context.jobs.start("html", {"location": location, "site": site}, work))

    @strawberry.mutation(permission_classes=[IsWriter])
    async def cancel_job(self, info: Info[Context, None], id: strawberry.ID) -> Job | None:
        state = await info.context.jobs.cancel(str(id))
        return Job.of(state) if state else None


@strawberry.type
class Subscription:
    @strawberry.subscription(permission_classes=[IsReader])
    async def job_progress(self, info: Info[Context, None], id: strawberry.ID) -> AsyncGenerator[Job, None]:
        async for state in info.context.jobs.follow(str(id)):
            yield Job.of(state)

    @strawberry.subscription(permission_classes=[IsReader])
    async def ask_stream(
        self,
        info: Info[Context, None],
        question: str,
        sources: list[SourceName] | None = None,
        collections: list[str] | None = None,
        session_id: str | None = None,
        top_k: int = 8,
        language: str | None = None,
    ) -> AsyncGenerator[AskEvent, None]:
        """``ask``, with the answer's tokens pushed as the LLM writes them."""
        from flowrag.answer.service import AnswerResult

        rt = info.context.runtime
        stream = rt.answerer.ask_stream(
            question,
            sources=tuple(values(sources)),
            collections=tuple(collections or ()),
            session_id=session_id,
            top_k=max(1, min(top_k, 50)),
            language=language,
        )
        try:
            async for item in stream:
                if isinstance(item, AnswerResult):
                    yield AskEvent(answer=Answer.of(item))
                else:
                    yield AskEvent(token=item)
        except FlowragError as exc:
            raise _translate(exc) from exc

"""Descriptions of the GraphQL fields and arguments whose definitions do not carry one inline,
keyed by their GraphQL names (``Type.field``, ``Type.field(argument)``). :func:`describe` writes
them into a built schema, so introspection, GraphiQL and ``docs/schema.graphql`` show them; a
unit test asserts that every field and argument of the schema has a description, and that every
entry here names one (a renamed field cannot leave a stale entry behind)."""

from __future__ import annotations

from typing import Any

__all__ = ["DESCRIPTIONS", "describe"]

_PAGE = {
    "first": "page size (1 to 500, default 50)",
    "after": "the endCursor of the previous page",
}
_ASK = {
    "question": "the question, in French or English",
    "sources": "search only these sources (default: the ones the question points to, else all)",
    "collections": "monitoring collections to search (default: all)",
    "sessionId": "an earlier answer's sessionId: the question follows up on it",
    "topK": "evidence nodes to answer from (default 8, kept within 1 to 50)",
    "language": "fr or en for the answer (default: the question's)",
}

DESCRIPTIONS: dict[str, str] = {
    # answers
    "Answer.question": "the question as asked",
    "Answer.citations": "the evidence the answer cites, in the order of its [n] marks",
    "Answer.plan": "what the answer path did with the question: route, window, filters, figures",
    "AnswerPlan.language": "fr or en, the language the question was read in",
    "AnswerPlan.windowStart": "UTC start of the time window the question names, if any",
    "AnswerPlan.windowEnd": "UTC end (exclusive) of that window",
    "AnswerPlan.windowPhrase": "the words that named the window ('hier', 'since Monday')",
    "AnswerPlan.timezone": "the IANA zone the window's days are in (FLOWRAG_TIMEZONE)",
    "AnswerPlan.statuses": "run status classes the question asks about (FAILED…)",
    "AnswerPlan.sources": "the sources searched: mongo, openapi, code, html, delphix",
    "AnswerPlan.collections": "the monitoring collections searched (empty: all)",
    "AnswerPlan.answerTypes": "the node labels the question asks for (Endpoint, Pipeline…)",
    "AskEvent.token": "a piece of the answer's text, as the LLM writes it",
    "AskEvent.answer": "the complete answer, in the stream's last event",
    "Citation.uid": "the cited node's uid (open it with node or neighbourhood)",
    "Citation.label": "the cited node's label",
    "Citation.score": "its retrieval score (higher is closer to the question)",
    "ScoredNode.node": "the node found",
    "RunAggregatePlan.statuses": "the status classes counted",
    "RunAggregatePlan.groupBy": "the dimension grouped by: pipeline, technology, host, environment, "
    "collection, template, status or day",
    "RunAggregatePlan.order": "most, least, latest or first",
    "RunAggregatePlan.measure": "count, last, first or duration",
    "RunAggregatePlan.limit": "groups returned at most",
    "RunAggregatePlan.total": "runs counted over all groups",
    "RunAggregatePlan.groupCount": "groups found before the limit",
    "RunAggregatePlan.groups": "the groups, in the asked order",
    "EstateWalkPlan.statuses": "the job or object states asked about",
    # graph
    "Node.name": "the name shown for it (a pipeline's, an endpoint's method and path…)",
    "Edge.props": "the relationship's properties (for example, how a link was made)",
    "Edge.startNode": "the node the relationship leaves",
    "Edge.endNode": "the node it reaches",
    "Subgraph.nodes": "the nodes reached, the start node first",
    "Subgraph.edges": "the relationships between them",
    "NodeConnection.nodes": "this page's nodes",
    "NodeConnection.pageInfo": "how to ask for the next page",
    "NodeConnection.total": "nodes matching, over all pages",
    "PageInfo.endCursor": "pass it as after to get the next page",
    "PageInfo.hasNextPage": "whether another page follows",
    "Count.name": "a node label or relationship type",
    "Count.count": "how many the store holds",
    "StatusCount.status": "a run status class",
    "StatusCount.count": "runs with it",
    "TechnologyCount.technology": "a technology (Spark, Kafka…)",
    "TechnologyCount.count": "failed runs of its flows",
    "Sources.nodes": "nodes per label",
    "Sources.relationships": "relationships per type",
    "Sources.collections": "the monitoring collections ingested",
    "Sources.specs": "the OpenAPI specs ingested",
    "Sources.repositories": "the code repositories ingested",
    "CollectionMapping.collection": "the collection's name",
    # jobs
    "Job.id": "the job's id (for job, cancelJob and jobProgress)",
    "Job.createdAt": "when it was queued (UTC)",
    "Job.updatedAt": "its last change of state or progress (UTC)",
    # the morning report
    "DailyReport.timezone": "the IANA zone of the report's days",
    "DailyReport.language": "fr or en",
    "DailyReport.end": "UTC end (exclusive) of the period",
    "DailyReport.generatedAt": "when the report was built (UTC)",
    "DailyReport.failingFlows": "flows with at least one failed run in the period",
    "DailyReport.failures": "the failing flows, most failures first",
    "DailyReport.newErrors": "error templates seen for the first time in the period",
    "DailyReport.trends": "flows and technologies whose failures moved against the previous periods",
    "DailyReport.streaks": "flows failing several days in a row",
    "DailyReport.technologies": "failed runs per technology",
    "DailyReport.delphix": "Delphix objects the failing runs' messages name",
    "DailyReport.code": "code that implements the failing flows",
    "DailyReport.synthesis": "the summary: the LLM's, or written by rule without one (see synthesisBy)",
    "DailyReport.notes": "what the reader should know (a source not ingested, an LLM not reached)",
    "DailyReport.markdown": "the whole report as Markdown, as it is sent",
    "ReportFlow.pipeline": "the flow's key",
    "ReportFlow.name": "the flow's name as its runs write it",
    "ReportFlow.technology": "its technology, when known",
    "ReportFlow.count": "its failed runs in the period",
    "ReportFlow.last": "its latest failing run's start (UTC)",
    "ReportFlow.hosts": "hosts its failing runs ran on",
    "ReportFlow.causes": "its failures grouped by error template",
    "ReportFlow.citations": "collection/_id of its failing runs",
    "ReportCause.templateId": "the error template's id",
    "ReportCause.count": "failed runs with this cause",
    "ReportCause.hosts": "hosts they ran on",
    "ReportNewError.templateId": "the error template's id",
    "ReportNewError.template": "the normalised error shape",
    "ReportNewError.message": "its first run's own message (excerpt)",
    "ReportNewError.count": "failed runs with it in the period",
    "ReportNewError.first": "its first failing run's start (UTC)",
    "ReportNewError.pipelines": "the flows it failed",
    "ReportNewError.citation": "collection/_id of its first run",
    "ReportTrend.key": "the flow's or technology's key",
    "ReportTrend.name": "its name",
    "ReportTrend.today": "its failures in the report's period",
    "ReportTrend.sd": "the standard deviation of its failures over the previous periods",
    "ReportStreak.pipeline": "the flow",
    "ReportStreak.since": "the streak's first local day",
    "ReportDelphixObject.kind": "dSource, VDB, environment, snapshot or bookmark",
    "ReportDelphixObject.name": "the object's name as the messages write it",
    "ReportDelphixObject.pipelines": "the failing flows whose messages name it",
    "ReportDelphixObject.citations": "collection/_id of those runs",
    "ReportCode.pipeline": "the failing flow",
    "ReportCode.label": "Function, Class, Route or File",
    "ReportCode.name": "the symbol's name",
    "ReportCode.provenance": "repository path and line",
    "ReportDay.day": "a local day (YYYY-MM-DD)",
    "ReportDay.counts": "that day's runs by status",
    "ReportDelivery.channel": "slack, teams, email or a webhook",
    "ReportDelivery.attempts": "tries made (with backoff)",
    "ReportDelivery.at": "when the last try ended (UTC)",
    "SendReportResult.report": "the report that was sent",
    # queries
    "Query.inspectMongo(uri)": "a mongodb:// URI (private hosts must be listed in FLOWRAG_API__ALLOWED_HOSTS)",
    "Query.inspectMongo(db)": "the database",
    "Query.inspectMongo(sample)": "documents sampled per collection (default 200)",
    "Query.inspectMongo(include)": "only these collections (default: all)",
    "Query.ask": "answer a question with citations from the graph (an LLM if configured, else extractive)",
    **{f"Query.ask({a})": d for a, d in _ASK.items()},
    "Query.search": "vector and full-text search over the graph's nodes, no answer",
    "Query.search(text)": "what to look for",
    "Query.search(labels)": "only nodes of these labels (default: all)",
    "Query.search(topK)": "results (1 to 100, default 10)",
    "Query.node": "one node by uid (null when the store has none)",
    "Query.node(id)": "the node's uid (Label:key)",
    "Query.neighbourhood": "a node and what its relationships reach",
    "Query.neighbourhood(id)": "the start node's uid",
    "Query.neighbourhood(depth)": "hops to follow: 1 or 2",
    "Query.neighbourhood(types)": "follow only these relationship types (default: all)",
    "Query.neighbourhood(cap)": "nodes returned at most (default 25)",
    "Query.report(date)": "the report's last local day, YYYY-MM-DD (default: yesterday)",
    "Query.report(language)": "fr or en (default: FLOWRAG_REPORT__LANGUAGE)",
    "Query.pipelines": "the flows the monitoring collections name, by name",
    "Query.pipelines(name)": "only flows whose name contains this",
    **{f"Query.pipelines({a})": d for a, d in _PAGE.items()},
    "Query.runs": "runs, latest first",
    "Query.runs(pipeline)": "only this flow's runs (its key)",
    "Query.runs(status)": "only runs of this status class",
    "Query.runs(from)": "runs started at or after this instant (ISO-8601)",
    "Query.runs(to)": "runs started before this instant (ISO-8601)",
    **{f"Query.runs({a})": d for a, d in _PAGE.items()},
    "Query.endpoints": "the OpenAPI operations ingested",
    "Query.endpoints(tag)": "only operations with this tag",
    "Query.endpoints(method)": "only this HTTP method",
    "Query.endpoints(path)": "only paths containing this",
    **{f"Query.endpoints({a})": d for a, d in _PAGE.items()},
    "Query.symbols": "code symbols of the ingested repositories",
    "Query.symbols(repo)": "only this repository",
    "Query.symbols(kind)": "Function (default), Class, Route, HttpCall or File",
    "Query.symbols(name)": "only symbols whose name contains this",
    **{f"Query.symbols({a})": d for a, d in _PAGE.items()},
    "Query.collections": "the monitoring collections ingested",
    "Query.sources": "what the store holds, per label, relationship type and source",
    "Query.job": "one ingestion job by id",
    "Query.job(id)": "the job's id",
    "Query.jobs": "ingestion jobs, latest first",
    "Query.jobs(first)": "jobs returned at most (default 50)",
    # mutations
    "Mutation.ingestOpenApi": "ingest an OpenAPI spec (a background job)",
    "Mutation.ingestOpenApi(location)": "a file path on the server, or an http(s) URL of an allowed host",
    "Mutation.ingestOpenApi(name)": "the spec's name in the graph (default: its title)",
    "Mutation.sendReport(date)": "the report's last local day, YYYY-MM-DD (default: yesterday)",
    "Mutation.sendReport(channels)": "only these configured channels (default: all)",
    "Mutation.sendReport(resend)": "send again to channels that already have this day's report",
    "Mutation.ingestDelphix(url)": "the DCT base URL (default: FLOWRAG_DELPHIX__URL)",
    "Mutation.ingestDelphix(name)": "the estate's name in the graph",
    "Mutation.ingestDelphix(since)": "only jobs and events after this instant (default: the checkpoint)",
    "Mutation.ingestDelphix(kinds)": "only these object kinds (default: all)",
    "Mutation.ingestCode": "ingest a code repository (a background job)",
    "Mutation.ingestCode(location)": "a folder on the server, or a git URL of an allowed host",
    "Mutation.ingestCode(name)": "the repository's name in the graph (default: the folder's)",
    "Mutation.ingestMongo": "ingest monitoring collections (a background job, incremental by _id)",
    "Mutation.ingestMongo(uri)": "a mongodb:// URI (the host must be allowed)",
    "Mutation.ingestMongo(db)": "the database",
    "Mutation.ingestMongo(include)": "only these collections (default: all)",
    "Mutation.ingestMongo(exclude)": "not these collections",
    "Mutation.ingestMongo(limit)": "documents per collection at most",
    "Mutation.ingestMongo(full)": "read everything again and delete what the source no longer has",
    "Mutation.ingestHtml": "ingest HTML documentation pages (a background job)",
    "Mutation.ingestHtml(location)": "a folder or file on the server, or an http(s) URL of an allowed host",
    "Mutation.ingestHtml(site)": "the site's name in the graph",
    "Mutation.cancelJob": "cancel a queued or running job (it stops at its next batch)",
    "Mutation.cancelJob(id)": "the job's id",
    # subscriptions
    "Subscription.jobProgress": "a job's state and progress until it ends",
    "Subscription.jobProgress(id)": "the job's id",
    "Subscription.askStream": "ask, with the answer's text streamed as the LLM writes it",
    **{f"Subscription.askStream({a})": d for a, d in _ASK.items()},
}


def describe(schema: Any) -> list[str]:
    """Write :data:`DESCRIPTIONS` into a built schema (a ``strawberry.Schema``) where a field or
    argument has none. Returns the entries that name nothing in the schema."""
    core = schema._schema
    used: set[str] = set()
    for name, kind in core.type_map.items():
        if name.startswith("__") or not hasattr(kind, "fields"):
            continue
        for field_name, definition in kind.fields.items():
            key = f"{name}.{field_name}"
            if key in DESCRIPTIONS:
                used.add(key)
                definition.description = definition.description or DESCRIPTIONS[key]
            for arg_name, argument in getattr(definition, "args", {}).items():
                arg_key = f"{key}({arg_name})"
                if arg_key in DESCRIPTIONS:
                    used.add(arg_key)
                    argument.description = argument.description or DESCRIPTIONS[arg_key]
    return sorted(set(DESCRIPTIONS) - used)

"""`flowrag inspect …` and `flowrag ingest …`: every source, with progress and a report per scope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from flowrag.cli.base import (
    _DCT_KINDS,
    _bar_callback,
    _print_previews,
    _print_reports,
    _progress,
    _with_runtime,
    err,
    ingest_app,
    inspect_app,
    run_async,
    state,
)
from flowrag.errors import ConfigError


@inspect_app.command("mongo")
def inspect_mongo_cmd(
    uri: Annotated[str, typer.Option(help="MongoDB URI, e.g. mongodb://host:27017")],
    db: Annotated[str, typer.Option(help="Database name.")],
    include: Annotated[str, typer.Option(help="Comma-separated collections (default: all).")] = "",
    sample: Annotated[int, typer.Option(help="Documents sampled per collection.")] = 200,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="Overrides to preview: collection.concept=field.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the previews as JSON.")] = False,
) -> None:
    """Show, per collection, which field holds each concept (with its confidence) and how many
    documents would become runs. Reads a sample; writes nothing."""
    from flowrag.ingest.inspect import inspect_mongo
    from flowrag.ingest.monitoring import parse_overrides

    overrides = {k: dict(v) for k, v in state.settings.mongo.mappings.items()}
    for collection, override in parse_overrides(mapping or ()).items():
        overrides.setdefault(collection, {}).update(override)
    names = [n for n in include.split(",") if n]
    previews = run_async(lambda: inspect_mongo(uri, db, sample, names, overrides))
    _print_previews(previews, as_json)


@inspect_app.command("json")
def inspect_json_cmd(
    path: Annotated[Path, typer.Argument(help="A monitoring dump file or folder (as for `ingest json`).")],
    sample: Annotated[int, typer.Option(help="Documents sampled per collection.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the previews as JSON.")] = False,
) -> None:
    """The same preview for a dump (mongoexport JSON Lines, arrays, Extended JSON, folders)."""
    from flowrag.ingest.inspect import inspect_dump

    _print_previews(run_async(lambda: inspect_dump(path, sample)), as_json)


@ingest_app.command("mongo")
def ingest_mongo_cmd(
    uri: Annotated[str, typer.Option(help="MongoDB URI, e.g. mongodb://host:27017")],
    db: Annotated[str, typer.Option(help="Database name.")],
    include: Annotated[str, typer.Option(help="Comma-separated collections to read (default: all).")] = "",
    exclude: Annotated[str, typer.Option(help="Comma-separated collections to skip.")] = "",
    limit: Annotated[int | None, typer.Option(help="Read at most N documents per collection.")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read everything and remove deleted documents.")
    ] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Field mapping override, repeatable: collection.concept=field "
            "(e.g. jobs.pipeline=job.name; empty field = ignore). Adds to FLOWRAG_MONGO__MAPPINGS.",
        ),
    ] = None,
    query: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help='Query for one collection, repeatable: collection=JSON (e.g. runs={"env": "prod"}).',
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest every collection of a MongoDB database (incremental, resumable)."""
    from flowrag.ingest.monitoring import MongoOptions, ingest_mongo, parse_overrides

    filters: dict[str, Any] = {}
    for item in query or ():
        collection, sep, text = item.partition("=")
        try:
            parsed = json.loads(text) if sep else None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--filter {item!r}: not JSON ({exc})") from exc
        if not collection or not isinstance(parsed, dict):
            raise ConfigError(
                f"bad --filter {item!r}", hint='write collection=JSON object, e.g. runs={"env": "prod"}'
            )
        filters[collection] = parsed
    options = MongoOptions.from_settings(
        uri,
        db,
        state.settings.mongo,
        timezone=state.settings.timezone,
        mappings=parse_overrides(mapping or ()),
        filters=filters,
        include=tuple(c for c in include.split(",") if c),
        exclude=tuple(c for c in exclude.split(",") if c),
        limit=limit,
        full=full,
    )

    async def go(rt: Any) -> Any:
        with _progress() as bar:
            return await ingest_mongo(
                rt.store, rt.embedder, rt.vocabulary, options, _bar_callback(bar), nlp=rt.nlp
            )

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("json")
def ingest_json_cmd(
    path: Annotated[
        Path,
        typer.Argument(
            help="A monitoring dump: mongoexport JSON Lines or --jsonArray (Extended JSON), "
            'a {"collection": \\[documents…]} file, or a folder with one file per collection.'
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion reports as JSON.")] = False,
) -> None:
    """Ingest a monitoring dump read from files (no MongoDB needed)."""
    from flowrag.ingest.monitoring import ingest_json_dump

    async def go(rt: Any) -> Any:
        with _progress() as bar:
            return await ingest_json_dump(
                rt.store,
                rt.embedder,
                rt.vocabulary,
                path,
                _bar_callback(bar),
                nlp=rt.nlp,
                warning_codes=frozenset(rt.settings.mongo.warning_codes),
                timezone=rt.settings.timezone,
                status_values=rt.settings.mongo.status_values,
            )

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("openapi")
def ingest_openapi_cmd(
    location: Annotated[str, typer.Argument(help="OpenAPI/Swagger file or URL (JSON or YAML).")],
    name: Annotated[str | None, typer.Option(help="Spec name (graph scope), e.g. delphix-dct.")] = None,
    ca_bundle: Annotated[Path | None, typer.Option(help="CA bundle for servers with an internal CA.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds for URL fetches.")] = 30.0,
    allow_shrink: Annotated[
        bool,
        typer.Option("--allow-shrink", help="Accept a re-ingest that removes most of the spec's nodes."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion report as JSON.")] = False,
) -> None:
    """Ingest an OpenAPI 3.x / Swagger 2.0 spec (Delphix DCT first)."""
    from flowrag.ingest.openapi import ingest_openapi

    async def go(rt: Any) -> Any:
        with err.status(f"ingesting {location}"):
            report = await ingest_openapi(
                rt.store, rt.embedder, location, name, ca_bundle, timeout, allow_shrink=allow_shrink
            )
            rt.store_changed()
            return [report]

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("delphix")
def ingest_delphix_cmd(
    url: Annotated[
        str | None, typer.Option(help="DCT address, e.g. https://dct.example.com (FLOWRAG_DELPHIX__URL).")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            help="DCT API key; prefer FLOWRAG_DELPHIX__API_KEY (an option shows in the process list)."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Estate name (graph scope); default: the DCT host.")
    ] = None,
    ca_bundle: Annotated[
        Path | None, typer.Option(help="CA bundle for a DCT signed by an internal CA.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Window of jobs and snapshots: 7d, 24h, a date.")] = None,
    kinds: Annotated[
        str | None,
        typer.Option(help="Comma-separated listings to read (default all): " + ", ".join(_DCT_KINDS) + "."),
    ] = None,
    allow_shrink: Annotated[
        bool, typer.Option("--allow-shrink", help="Accept a sync that removes most of the estate's objects.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion report as JSON.")] = False,
) -> None:
    """Ingest the live Delphix estate through the DCT v3 API: engines, environments and hosts,
    dSources, VDBs, groups, snapshots, bookmarks, jobs of the window, masking jobs."""
    from flowrag.ingest.delphix import DctOptions, ingest_delphix

    async def go(rt: Any) -> Any:
        options = DctOptions.from_settings(
            rt.settings.delphix,
            url=url,
            api_key=api_key,
            name=name,
            ca_bundle=ca_bundle,
            since=since,
            kinds=tuple(k.strip() for k in (kinds or "").split(",") if k.strip()),
            allow_shrink=allow_shrink,
        )
        with _progress() as bar:
            report = await ingest_delphix(rt.store, rt.embedder, options, progress=_bar_callback(bar))
        rt.store_changed()
        return [report]

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("code")
def ingest_code_cmd(
    location: Annotated[str, typer.Argument(help="A repository directory or a git URL (cloned with git).")],
    name: Annotated[
        str | None, typer.Option(help="Repository name (graph scope); default: folder name.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest a source-code repository (Python, Java, Kotlin, Scala, C#, Go, JS/TS, shell, SQL,
    YAML/JSON/TOML, Markdown): symbols, routes, HTTP calls, imports; incremental per file."""
    from flowrag.ingest.code import ingest_code

    async def go(rt: Any) -> Any:
        with _progress() as bar:
            return [await ingest_code(rt.store, rt.embedder, location, name, _bar_callback(bar))]

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)


@ingest_app.command("html")
def ingest_html_cmd(
    location: Annotated[str, typer.Argument(help="An HTML page, a directory of pages, or a URL.")],
    site: Annotated[str | None, typer.Option(help="Site name (graph scope).")] = None,
    ca_bundle: Annotated[Path | None, typer.Option(help="CA bundle for servers with an internal CA.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest HTML documentation pages, chunked by heading."""
    from flowrag.ingest.html import ingest_html

    async def go(rt: Any) -> Any:
        with err.status(f"ingesting {location}"):
            return [await ingest_html(rt.store, rt.embedder, location, site, ca_bundle)]

    _print_reports(run_async(lambda: _with_runtime(go)), as_json)

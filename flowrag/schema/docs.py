"""Generated documentation: the ontology page (from the ontology) and the configuration reference
(from the settings model). `flowrag docs` writes them; a test fails when they drift."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from flowrag.schema.ontology import BASE_LABEL, ONTOLOGY, PROVENANCE, PROVENANCE_PROPERTIES, SOURCE_LABELS

__all__ = ["BROWSER_QUERIES", "browser_guide", "browser_style", "configuration_markdown", "ontology_markdown"]


def ontology_markdown() -> str:
    lines = [
        "# Ontology",
        "",
        "Generated from `flowrag/schema/ontology.py` by `flowrag docs` — do not edit by hand.",
        "",
        f"Every node carries the label `{BASE_LABEL}` (unique `uid` = `Label:key`) and the provenance "
        f"properties {', '.join(f'`{p}`' for p in PROVENANCE_PROPERTIES)}.",
        "",
        "| provenance property | meaning |",
        "| --- | --- |",
        *(f"| `{name}` | {meaning} |" for name, meaning in PROVENANCE.items()),
        "",
        "## Node labels",
        "",
        "| label | key property | embedded (vector index) | full-text properties | range-indexed | description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for spec in ONTOLOGY.labels:
        lines.append(
            f"| `{spec.label.value}` | `{spec.key}` | {'yes' if spec.embedded else ''} | "
            f"{', '.join(f'`{p}`' for p in spec.fulltext)} | {', '.join(f'`{p}`' for p in spec.indexed)} | "
            f"{spec.description}{' (system)' if spec.system else ''} |"
        )
    lines += ["", "## Relationship types", "", "| type | from | to | meaning |", "| --- | --- | --- | --- |"]
    for rel in ONTOLOGY.relationships:
        start = ", ".join(label.value for label in rel.start)
        end = "any" if len(rel.end) > 10 else ", ".join(label.value for label in rel.end)
        lines.append(f"| `{rel.type.value}` | {start} | {end} | {rel.description} |")
    return "\n".join(lines) + "\n"


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += _rows(annotation, f"{prefix}{name.upper()}__")
            continue
        default = field.get_default(call_default_factory=True)
        shown = (
            "(secret)"
            if "Secret" in str(annotation)
            else f"`{default}`"
            if default not in (None, "", [])
            else ""
        )
        if name == "data_dir":
            shown = "`~/.local/share/flowrag`"
        if name == "timezone":
            shown = "the machine's zone"
        rows.append(f"| `{prefix}{name.upper()}` | {shown} | {field.description or ''} |")
    return rows


def configuration_markdown() -> str:
    from flowrag.settings import Settings

    lines = [
        "# Configuration",
        "",
        "Generated from `flowrag/settings.py` by `flowrag docs` — do not edit by hand. Every setting is an",
        "environment variable (or a line of `.env`); nested sections use `__`.",
        "",
        "| variable | default | meaning |",
        "| --- | --- | --- |",
        *_rows(Settings, "FLOWRAG_"),
    ]
    return "\n".join(lines) + "\n"


# one hue family per source, so a graph in Neo4j Browser reads by where things come from
_SOURCE_COLOURS: dict[str, tuple[str, ...]] = {
    "mongo": ("#1f6feb", "#388bfd", "#58a6ff", "#79c0ff", "#0b4a9e", "#2f81f7", "#6ca4f8", "#a5d6ff"),
    "code": ("#1a7f37", "#2da44e", "#4ac26b", "#6fdd8b", "#116329", "#3fb950", "#8ddb8c"),
    "openapi": ("#bc4c00", "#e16f24", "#fb8f44", "#fdac54", "#953800", "#d18616"),
    "html": ("#8250df", "#a475f9"),
    "delphix": (
        "#0e7c86",
        "#13a3b0",
        "#1bc4d2",
        "#5fd8e2",
        "#095c63",
        "#0a9396",
        "#4fb3bf",
        "#94d2bd",
        "#2a9d8f",
    ),
}
_SUPPORT_DIAMETER, _ANSWER_DIAMETER = "40px", "58px"


def browser_style() -> str:
    """A Neo4j Browser style (GRASS, for `:style`): each domain label coloured by its source,
    captioned by its name, answers drawn larger than the nodes that support them."""
    # no comment line: Browser's GRASS parser rejects the whole style when it holds one (tested)
    lines = [
        "node { diameter: 40px; color: #A5ABB6; border-color: #9AA1AC; border-width: 2px;",
        "  text-color-internal: #FFFFFF; font-size: 10px; caption: '{name}'; }",
        "relationship { color: #A5ABB6; shaft-width: 1px; font-size: 8px; padding: 3px;",
        "  text-color-external: #000000; text-color-internal: #FFFFFF; caption: '<type>'; }",
        f"node.{BASE_LABEL} {{ color: #A5ABB6; caption: '{{name}}'; }}",
    ]
    for source, labels in SOURCE_LABELS.items():
        palette = _SOURCE_COLOURS[source]
        for i, label in enumerate(labels):
            spec = ONTOLOGY.label(label)
            colour = palette[i % len(palette)]
            size = _SUPPORT_DIAMETER if spec.support else _ANSWER_DIAMETER
            lines.append(
                f"node.{label.value} {{ color: {colour}; border-color: {colour}; diameter: {size}; "
                f"text-color-internal: #FFFFFF; caption: '{{name}}'; }}"
            )
    return "\n".join(lines) + "\n"


#: saved queries of the Neo4j Browser guide: (title, what it shows, Cypher)
BROWSER_QUERIES: tuple[tuple[str, str, str], ...] = (
    (
        "Failed runs of the last day and their errors",
        "each failed run, its flow and its error template",
        "MATCH (r:Run {status: 'FAILED'})-[:OF]->(p:Pipeline) WHERE r.started_at >= toString(datetime() - duration('P1D'))\n"
        "OPTIONAL MATCH (r)-[:FAILED_WITH]->(e:Error) RETURN r, p, e LIMIT 100",
    ),
    (
        "Code that calls a documented Delphix endpoint",
        "functions, their HTTP calls and the DCT operations they target",
        "MATCH (f:Function)-[:MAKES]->(c:HttpCall)-[:TARGETS]->(e:Endpoint)-[:ACTS_ON]->(k:DelphixKind {name: 'VDB'})\n"
        "RETURN f, c, e, k LIMIT 100",
    ),
    (
        "The operations that act on VDBs, and what they need first",
        "endpoints, their prerequisite operations (NEEDS) and the kinds they act on",
        "MATCH (e:Endpoint)-[:ACTS_ON]->(:DelphixKind {name: 'VDB'}) OPTIONAL MATCH (e)-[n:NEEDS]->(first:Endpoint)\n"
        "RETURN e, n, first LIMIT 100",
    ),
    (
        "VDBs not refreshed for 7 days",
        "the live estate: each stale VDB, its environment and its parent",
        "MATCH (v:Vdb) WHERE v.refreshed_at IS NULL OR v.refreshed_at < toString(datetime() - duration('P7D'))\n"
        "OPTIONAL MATCH (v)-[h:HOSTED_ON]->(env:DelphixEnvironment) OPTIONAL MATCH (v)-[p:PROVISIONED_FROM]->(src)\n"
        "RETURN v, h, env, p, src LIMIT 100",
    ),
    (
        "The flows that depend on a VDB, and the DCT jobs on it",
        "a VDB by name: flows whose name contains it, jobs that acted on it, their documented operation",
        "MATCH (v:Vdb {name_key: 'orders_qa'}) OPTIONAL MATCH (p:Pipeline)-[d:DEPENDS_ON]->(v)\n"
        "OPTIONAL MATCH (j:DelphixJob)-[a:ACTS_ON]->(v) OPTIONAL MATCH (j)-[o:DOCUMENTED_AS]->(e:Endpoint)\n"
        "RETURN v, p, d, j, a, o, e LIMIT 100",
    ),
    (
        "What an incident names",
        "free-text records and the flows, hosts, technologies and Delphix objects they mention",
        "MATCH (r:Record {free_text: true})-[m:MENTIONS]->(x) RETURN r, m, x LIMIT 100",
    ),
)


def browser_guide() -> str:
    """The Neo4j Browser page: how to connect, the style, the saved queries."""
    lines = [
        "# flowrag in Neo4j Browser",
        "",
        "Generated by `flowrag docs` — do not edit by hand.",
        "",
        "1. Point flowrag at Neo4j (`FLOWRAG_STORE__KIND=neo4j`, `FLOWRAG_STORE__NEO4J_URI=bolt://…`) and",
        "   ingest; without Docker, `scripts/neo4j/run` starts the tests' Neo4j 5.26 with its Browser at",
        "   http://127.0.0.1:7474/browser/.",
        "2. Style: drag [neo4j-browser.grass](neo4j-browser.grass) (generated from the ontology) onto the Browser window, or run",
        "   `:style ` followed by the file's text in the editor. Each label is coloured by its source —",
        "   monitoring blue, code green,",
        "   API documentation orange, HTML purple, the live Delphix estate teal — and captioned by its",
        f"   name; every node also carries `{BASE_LABEL}` (the uid constraint), drawn grey.",
        "3. Every answer's `cypher` (CLI `--json`, GraphQL `cypher`, the web page's \"Ouvrir dans Neo4j",
        '   Browser") opens its evidence subgraph. The queries below are worth saving as favourites',
        "   (the star in the editor).",
        "",
    ]
    for title, shows, cypher in BROWSER_QUERIES:
        lines += [f"## {title}", "", f"Shows {shows}.", "", "```cypher", cypher, "```", ""]
    return "\n".join(lines)

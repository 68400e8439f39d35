"""OpenAPI 3.x / Swagger 2.0 -> ApiSpec, Endpoint, Parameter, Schema, Tag and Delphix kinds.

Pure: takes the parsed document (a dict) and returns rows plus a list of problems found (broken
``$ref``s, operations without responses…) so a partial spec ingests what is valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowrag.extract.api_steps import Operation, prerequisites, produced_resources
from flowrag.models.vocabulary import identifier_words
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid

__all__ = ["DELPHIX_KINDS", "SpecExtract", "delphix_operation", "extract_spec", "path_kinds"]

SOURCE = "openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# URL segment / schema-name stem -> Delphix object kind
DELPHIX_KINDS: dict[str, str] = {
    "vdbs": "VDB",
    "vdb": "VDB",
    "dsources": "DSource",
    "dsource": "DSource",
    "snapshots": "Snapshot",
    "snapshot": "Snapshot",
    "bookmarks": "Bookmark",
    "bookmark": "Bookmark",
    "environments": "Environment",
    "environment": "Environment",
    "engines": "Engine",
    "engine": "Engine",
    "jobs": "Job",
    "job": "Job",
    "vdb-groups": "VDBGroup",
    "vdbgroup": "VDBGroup",
    "vdb_group": "VDBGroup",
    "timeflows": "Timeflow",
    "timeflow": "Timeflow",
    "masking-jobs": "MaskingJob",
    "maskingjob": "MaskingJob",
    "hosts": "Host",
    "repositories": "Repository",
    "templates": "Template",
    "sources": "Source",
}
_OPERATIONS = (
    ("refresh", "refresh"),
    ("rollback", "rollback"),
    ("rewind", "rollback"),
    ("provision", "provision"),
    ("snapshot", "snapshot"),
    ("enable", "enable"),
    ("disable", "disable"),
    ("start", "start"),
    ("stop", "stop"),
    ("lock", "lock"),
    ("unlock", "unlock"),
    ("switch_timeflow", "switch_timeflow"),
    ("delete", "delete"),
    ("search", "search"),
    ("undo", "undo"),
    ("upgrade", "upgrade"),
)
_RESPONSE = re.compile(r"(Response|Result)$")
_BY = re.compile(r"(?:by|from)_(snapshot|bookmark|timestamp|location)")
_REF_KIND = re.compile(
    r"^(snapshot|bookmark|engine|environment|dsource|vdb|timeflow|source|job|vdb_group)_ids?$"
)


def path_kinds(path: str) -> list[str]:
    """Kinds named by the path's collection segments: /vdbs/{vdbId}/snapshots -> [VDB, Snapshot]."""
    kinds = []
    for segment in path.strip("/").split("/"):
        kind = DELPHIX_KINDS.get(segment.lower())
        if kind and kind not in kinds:
            kinds.append(kind)
    return kinds


def delphix_operation(method: str, path: str, operation_id: str) -> str:
    last = [s for s in path.strip("/").split("/") if not s.startswith("{")]
    tail = last[-1].lower() if last else ""
    for needle, op in _OPERATIONS:
        if tail.startswith(needle) or (needle in operation_id.lower() and needle not in {"start", "stop"}):
            if needle == "snapshot" and method == "get":
                break
            return op
    if method == "post":
        return "create" if not path.rstrip("/").endswith("}") else "action"
    return {"get": "read", "put": "update", "patch": "update", "delete": "delete"}.get(method, method)


@dataclass
class SpecExtract:
    nodes: list[NodeRow] = field(default_factory=list)
    rels: list[RelRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    operations: int = 0
    paths: int = 0


class _Resolver:
    def __init__(self, doc: Mapping[str, Any], problems: list[str]) -> None:
        self.doc = doc
        self.problems = problems

    def resolve(self, node: Any, seen: frozenset[str] = frozenset()) -> Any:
        """Follow a local ``$ref`` chain (cycle-safe); broken refs become ``{}`` and a problem."""
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                return {}
            seen = seen | {ref}
            target = self.lookup(ref)
            if target is None:
                return {}
            node = target
        return node

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            self.problems.append(f"unresolved external $ref {ref} (resolve relative files before extraction)")
            return None
        node: Any = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                self.problems.append(f"broken $ref {ref}")
                return None
            node = node[part]
        return node


def _schema_name(ref: Any) -> str:
    return str(ref).rsplit("/", 1)[-1]


# what a part of a spec of the wrong type raises in the extractor (a list where an object goes,
# a number where a string goes …)
_SHAPE_ERRORS = (TypeError, AttributeError, ValueError, KeyError, IndexError)


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:120]}".replace("\n", " ")


def _pointer(path: Any) -> str:
    """A path key as a JSON pointer token."""
    return str(path).replace("~", "~0").replace("/", "~1")


def _refs(node: Any, out: list[str], depth: int = 0) -> None:
    """Schema names referenced anywhere below ``node`` (not following them)."""
    if depth > 30:
        return
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and ("/schemas/" in ref or ref.startswith("#/definitions/")):
            name = _schema_name(ref)
            if name not in out:
                out.append(name)
        for value in node.values():
            _refs(value, out, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out, depth + 1)


def _properties(schema: Any, resolver: _Resolver, depth: int = 0) -> dict[str, Any]:
    schema = resolver.resolve(schema)
    if not isinstance(schema, Mapping) or depth > 5:
        return {}
    props: dict[str, Any] = {}
    for part in schema.get("allOf", []) or []:
        props.update(_properties(part, resolver, depth + 1))
    for key in ("oneOf", "anyOf"):
        for part in schema.get(key, []) or []:
            for name, value in _properties(part, resolver, depth + 1).items():
                props.setdefault(name, value)
    props.update(schema.get("properties", {}) or {})
    return props


def _describe_props(
    props: Mapping[str, Any], resolver: _Resolver, required: set[str], limit: int = 25
) -> str:
    parts = []
    for name, raw in list(props.items())[:limit]:
        kind = ""
        if isinstance(raw, Mapping):
            if "$ref" in raw:
                kind = _schema_name(raw["$ref"])
            else:
                kind = str(raw.get("type", ""))
                if kind == "array" and isinstance(raw.get("items"), Mapping):
                    items = raw["items"]
                    kind = f"array of {_schema_name(items['$ref']) if '$ref' in items else items.get('type', '')}"
            desc = (
                resolver.resolve(raw).get("description", "")
                if isinstance(resolver.resolve(raw), Mapping)
                else ""
            )
        else:
            desc = ""
        flag = " (required)" if name in required else ""
        parts.append(f"{name}: {kind}{flag}" + (f" — {str(desc)[:100]}" if desc else ""))
    more = f"; … {len(props) - limit} more" if len(props) > limit else ""
    return "; ".join(parts) + more


def _schemas_section(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    if "components" in doc and isinstance(doc["components"], Mapping):
        return doc["components"].get("schemas", {}) or {}
    return doc.get("definitions", {}) or {}


def extract_spec(doc: Mapping[str, Any], name: str) -> SpecExtract:
    """Rows for the spec. A schema or an operation of the wrong shape is skipped and named in
    ``problems`` by its JSON pointer; a top level of the wrong shape gives no rows and one problem."""
    try:
        return _extract_spec(doc, name)
    except _SHAPE_ERRORS as exc:
        out = SpecExtract()
        out.problems.append(
            f"#: the spec's top level (info, servers, tags, components) is not valid ({_why(exc)})"
        )
        return out


def _extract_spec(doc: Mapping[str, Any], name: str) -> SpecExtract:
    out = SpecExtract()
    if not isinstance(doc, Mapping) or not ("openapi" in doc or "swagger" in doc):
        out.problems.append("not an OpenAPI/Swagger document (no 'openapi' or 'swagger' field)")
        return out
    resolver = _Resolver(doc, out.problems)
    info = doc.get("info", {}) or {}
    version = str(info.get("version", "0"))
    title = str(info.get("title", name))
    servers = [str(s.get("url", "")) for s in doc.get("servers", []) or [] if isinstance(s, Mapping)]
    if "swagger" in doc:
        servers = [str(doc.get("basePath", ""))]
    base_path = servers[0] if servers and servers[0].startswith("/") else ""
    spec_key = name
    spec_uid = make_uid(NodeLabel.API_SPEC, spec_key)
    security = list(
        (doc.get("components", {}) or {}).get("securitySchemes", {})
        or doc.get("securityDefinitions", {})
        or {}
    )
    out.nodes.append(
        NodeRow(
            NodeLabel.API_SPEC,
            spec_key,
            SOURCE,
            name,
            f"{name}@{version}",
            name=f"{title} {version}",
            text=f"{title} version {version}. {str(info.get('description', ''))[:1000]}",
            props={
                "title": title,
                "version": version,
                "servers": servers,
                "auth_schemes": security,
                "base_path": base_path,
            },
        )
    )
    kinds_seen: set[str] = set()

    def kind_node(kind: str) -> str:
        if kind not in kinds_seen:
            kinds_seen.add(kind)
            out.nodes.append(
                NodeRow(
                    NodeLabel.DELPHIX_KIND,
                    kind,
                    SOURCE,
                    "_shared",
                    kind,
                    name=kind,
                    text=f"Delphix object kind {kind}",
                )
            )
        return make_uid(NodeLabel.DELPHIX_KIND, kind)

    tags_seen: set[str] = set()

    def rollback(mark: tuple[int, int]) -> None:
        """Forget what a skipped schema or operation had added."""
        del out.nodes[mark[0] :], out.rels[mark[1] :]
        kinds_seen.intersection_update(n.key for n in out.nodes if n.label is NodeLabel.DELPHIX_KIND)
        tags_seen.intersection_update(n.name for n in out.nodes if n.label is NodeLabel.TAG)

    for tag in doc.get("tags", []) or []:
        if isinstance(tag, Mapping) and tag.get("name"):
            tags_seen.add(str(tag["name"]))
            key = f"{name}:{tag['name']}"
            out.nodes.append(
                NodeRow(
                    NodeLabel.TAG,
                    key,
                    SOURCE,
                    name,
                    key,
                    name=str(tag["name"]),
                    text=f"{tag['name']}: {tag.get('description', '')}",
                )
            )
            out.rels.append(RelRow(RelType.DEFINES, spec_uid, make_uid(NodeLabel.TAG, key)))

    schemas = _schemas_section(doc)
    for schema_name, raw in schemas.items():
        mark = (len(out.nodes), len(out.rels))
        try:
            schema = resolver.resolve(raw)
            if not isinstance(schema, Mapping):
                out.problems.append(f"schema {schema_name} is not an object")
                continue
            key = f"{name}:{schema_name}"
            uid = make_uid(NodeLabel.SCHEMA, key)
            props = _properties(schema, resolver)
            required = set(schema.get("required", []) or [])
            text = (
                f"Schema {schema_name} ({identifier_words(schema_name)}): {str(schema.get('description', ''))[:600]} "
                f"Properties: {_describe_props(props, resolver, required)}"
            )
            out.nodes.append(
                NodeRow(
                    NodeLabel.SCHEMA,
                    key,
                    SOURCE,
                    name,
                    f"{name}#/schemas/{schema_name}",
                    name=schema_name,
                    text=text,
                    # a short text to embed: the model's cost grows with tokens, 850 long texts of the
                    # DCT spec would take minutes on 2 cores; name, purpose and field names carry the meaning
                    embed_text=f"Schema {schema_name}: {str(schema.get('description', ''))[:240]} "
                    f"Fields: {', '.join(list(props)[:30])}",
                    props={"spec": name, "properties": sorted(props)[:200]},
                    # response wrappers (…Response, …Result: 191 of 433 DCT schemas) are reached from
                    # their endpoint (RETURNS) and by full-text; not embedding them keeps the DCT spec
                    # under 30 s on 2 cores, and payload (…Parameters) schemas stay embedded
                    embed=not _RESPONSE.search(schema_name),
                )
            )
            out.rels.append(RelRow(RelType.DEFINES, spec_uid, uid))
            for part in schema.get("allOf", []) or []:
                if isinstance(part, Mapping) and "$ref" in part:
                    out.rels.append(
                        RelRow(
                            RelType.EXTENDS,
                            uid,
                            make_uid(NodeLabel.SCHEMA, f"{name}:{_schema_name(part['$ref'])}"),
                        )
                    )
            referenced: list[str] = []
            _refs(props, referenced)
            for other in referenced:
                if other != schema_name:
                    out.rels.append(
                        RelRow(RelType.REFERENCES, uid, make_uid(NodeLabel.SCHEMA, f"{name}:{other}"))
                    )
            stem = re.sub(r"(Parameters|Response|Request|Spec|Entity)$", "", schema_name).lower()
            if stem in DELPHIX_KINDS:
                out.rels.append(RelRow(RelType.REPRESENTS, uid, kind_node(DELPHIX_KINDS[stem])))
        except _SHAPE_ERRORS as exc:  # a part of the wrong type: skipped, named by its pointer
            rollback(mark)
            out.problems.append(f"#/components/schemas/{schema_name}: skipped ({_why(exc)})")

    paths = doc.get("paths", {}) or {}
    out.paths = len(paths)
    operations: list[Operation] = []
    for path, item in paths.items():
        item = resolver.resolve(item)
        if not isinstance(item, Mapping):
            out.problems.append(f"path {path} is not an object")
            continue
        shared_params = list(item.get("parameters", []) or [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            mark = (len(out.nodes), len(out.rels))
            try:
                out.operations += 1
                upper = method.upper()
                key = f"{name}:{upper} {path}"
                uid = make_uid(NodeLabel.ENDPOINT, key)
                op_id = str(op.get("operationId", ""))
                tags = [str(t) for t in op.get("tags", []) or []]
                params = []
                for raw in [*shared_params, *(op.get("parameters", []) or [])]:
                    param = resolver.resolve(raw)
                    if not isinstance(param, Mapping) or "name" not in param:
                        continue
                    pname, where = str(param["name"]), str(param.get("in", ""))
                    pkey = f"{key}:{where}:{pname}"
                    params.append(
                        f"{pname} ({where}{', required' if param.get('required') else ''})"
                        + (f": {str(param.get('description', ''))[:80]}" if param.get("description") else "")
                    )
                    out.nodes.append(
                        NodeRow(
                            NodeLabel.PARAMETER,
                            pkey,
                            SOURCE,
                            name,
                            pkey,
                            name=pname,
                            text=f"{pname} in {where} of {upper} {path}",
                            props={"in": where, "required": bool(param.get("required"))},
                        )
                    )
                    out.rels.append(RelRow(RelType.HAS_PARAMETER, uid, make_uid(NodeLabel.PARAMETER, pkey)))
                body_refs: list[str] = []
                body_props: dict[str, Any] = {}
                body = resolver.resolve(op.get("requestBody", {}))
                if isinstance(body, Mapping):
                    for media in (body.get("content", {}) or {}).values():
                        if isinstance(media, Mapping) and "schema" in media:
                            _refs(media["schema"], body_refs)
                            body_props.update(_properties(media["schema"], resolver))
                for raw in [*shared_params, *(op.get("parameters", []) or [])]:  # Swagger 2 body params
                    param = resolver.resolve(raw)
                    if isinstance(param, Mapping) and param.get("in") == "body" and "schema" in param:
                        _refs(param["schema"], body_refs)
                        body_props.update(_properties(param["schema"], resolver))
                resp_refs: list[str] = []
                resp_array = False
                for code, resp in (op.get("responses", {}) or {}).items():
                    resp = resolver.resolve(resp)
                    if isinstance(resp, Mapping) and str(code).startswith("2"):
                        _refs(resp.get("content", resp.get("schema", {})), resp_refs)
                        resp_array = resp_array or _is_array(resp, resolver)
                made, lists = produced_resources(resp_refs, schemas, resp_array)
                operations.append(Operation(uid, upper, str(path), tuple(body_props), made, lists))
                operation = delphix_operation(method, path, op_id)
                kinds = path_kinds(path)
                by = _BY.search(path.rsplit("/", 1)[-1])
                extra = []
                if by and by.group(1) in ("snapshot", "bookmark"):
                    extra.append(DELPHIX_KINDS[by.group(1)])
                for prop in body_props:
                    match = _REF_KIND.match(prop.lower())
                    kind = (
                        DELPHIX_KINDS.get(match.group(1)) or DELPHIX_KINDS.get(match.group(1) + "s")
                        if match
                        else None
                    )
                    if kind:
                        extra.append(kind)
                text = (
                    f"{upper} {path} ({op_id}: {identifier_words(op_id)}). {op.get('summary', '')} "
                    f"{str(op.get('description', ''))[:800]} "
                    f"Tags: {', '.join(tags) or '-'}. Operation: {operation}"
                    + (f" on {', '.join(kinds)}" if kinds else "")
                    + ". "
                    + (f"Parameters: {'; '.join(params)}. " if params else "")
                    + (
                        f"Request body ({', '.join(body_refs) or 'inline'}): {_describe_props(body_props, resolver, set())}. "
                        if body_props or body_refs
                        else ""
                    )
                    + (f"Returns: {', '.join(resp_refs)}." if resp_refs else "")
                )
                out.nodes.append(
                    NodeRow(
                        NodeLabel.ENDPOINT,
                        key,
                        SOURCE,
                        name,
                        f"{upper} {path}@{version}",
                        name=f"{upper} {path}",
                        text=text.strip(),
                        embed_text=(
                            f"{upper} {path} ({op_id}). {op.get('summary', '')} {str(op.get('description', ''))[:200]} "
                            f"Operation: {operation} {' '.join(kinds)}. "
                            + (
                                f"Body: {', '.join(body_refs)}: {', '.join(list(body_props)[:20])}. "
                                if body_props
                                else ""
                            )
                            + (f"Returns: {', '.join(resp_refs[:3])}." if resp_refs else "")
                        ).strip(),
                        props={
                            "method": upper,
                            "path": path,
                            "full_path": f"{base_path}{path}",
                            "operation_id": op_id,
                            "summary": str(op.get("summary", ""))[:300],
                            "tags": tags,
                            "deprecated": bool(op.get("deprecated", False)),
                            "spec": name,
                            "version": version,
                            "operation": operation,
                        },
                    )
                )
                out.rels.append(RelRow(RelType.DEFINES, spec_uid, uid))
                for tag in tags:
                    tkey = f"{name}:{tag}"
                    if tag not in tags_seen:
                        tags_seen.add(tag)
                        out.nodes.append(NodeRow(NodeLabel.TAG, tkey, SOURCE, name, tkey, name=tag, text=tag))
                        out.rels.append(RelRow(RelType.DEFINES, spec_uid, make_uid(NodeLabel.TAG, tkey)))
                    out.rels.append(RelRow(RelType.TAGGED, uid, make_uid(NodeLabel.TAG, tkey)))
                for ref in body_refs:
                    out.rels.append(RelRow(RelType.ACCEPTS, uid, make_uid(NodeLabel.SCHEMA, f"{name}:{ref}")))
                for ref in resp_refs:
                    out.rels.append(RelRow(RelType.RETURNS, uid, make_uid(NodeLabel.SCHEMA, f"{name}:{ref}")))
                for i, kind in enumerate(kinds):
                    role = (
                        "target"
                        if i == len(kinds) - 1
                        or (
                            operation in {"refresh", "rollback", "start", "stop", "enable", "disable"}
                            and i == 0
                        )
                        else "scope"
                    )
                    out.rels.append(
                        RelRow(RelType.ACTS_ON, uid, kind_node(kind), {"operation": operation, "role": role})
                    )
                for kind in dict.fromkeys(extra):
                    if kind not in kinds:
                        out.rels.append(
                            RelRow(
                                RelType.ACTS_ON,
                                uid,
                                kind_node(kind),
                                {"operation": operation, "role": "source"},
                            )
                        )
            except _SHAPE_ERRORS as exc:
                rollback(mark)
                out.problems.append(f"#/paths/{_pointer(path)}/{method}: skipped ({_why(exc)})")
    for consumer, producer, param in prerequisites(operations):
        out.rels.append(RelRow(RelType.NEEDS, consumer, producer, {"input": param}))
    return out


def _is_array(response: Mapping[str, Any], resolver: _Resolver) -> bool:
    """The success response's body is a JSON array (OpenAPI 3 content or Swagger 2 schema)."""
    bodies = [response.get("schema")]
    content = response.get("content")
    if isinstance(content, Mapping):
        bodies += [m.get("schema") for m in content.values() if isinstance(m, Mapping)]
    return any(
        isinstance(schema, Mapping) and schema.get("type") == "array"
        for schema in (resolver.resolve(b) for b in bodies if b is not None)
    )

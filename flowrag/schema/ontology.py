"""The ontology as data: node labels, relationship types, keys, indexes, provenance.

This module is the single source of truth. Migrations (constraints, vector and full-text indexes),
writers (which properties identify a node), the GraphQL types and ``docs/ontology.md`` are all
derived from it. It imports no I/O library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from flowrag.errors import OntologyError

__all__ = [
    "BASE_LABEL",
    "DELPHIX_OBJECTS",
    "ONTOLOGY",
    "PROVENANCE",
    "PROVENANCE_PROPERTIES",
    "SOURCE_LABELS",
    "LabelSpec",
    "NodeLabel",
    "Ontology",
    "RelSpec",
    "RelType",
    "make_uid",
    "safe_identifier",
]

#: Every flowrag node also carries this label, so one uniqueness constraint on ``uid`` serves
#: lookups by id whatever the domain label is.
BASE_LABEL = "FlowragNode"

#: Properties every node carries (set by the writer, never by an extractor's free-form props),
#: with what each means (the GraphQL field descriptions and docs/ontology.md are generated from it).
PROVENANCE: dict[str, str] = {
    "source": "which ingester wrote it: mongo, code, openapi, html, delphix or system",
    "scope": "the unit its source is synchronised by: a collection, a repository, a spec, a DCT estate",
    "source_id": "where exactly it came from: collection/_id, path:line, METHOD /path, a DCT object path",
    "content_hash": "hash of the extracted content; an unchanged hash means no write and no embedding",
    "first_seen": "ISO-8601 UTC, set on creation",
    "last_seen": "ISO-8601 UTC, set whenever the content is (re)written",
}
PROVENANCE_PROPERTIES: tuple[str, ...] = tuple(PROVENANCE)


class NodeLabel(StrEnum):
    # monitoring (MongoDB)
    COLLECTION = "Collection"
    RECORD = "Record"
    PIPELINE = "Pipeline"
    RUN = "Run"
    TECHNOLOGY = "Technology"
    ERROR = "Error"
    HOST = "Host"
    ENVIRONMENT = "Environment"
    # code
    REPOSITORY = "Repository"
    FILE = "File"
    CLASS = "Class"
    FUNCTION = "Function"
    ROUTE = "Route"
    HTTP_CALL = "HttpCall"
    DOC_CHUNK = "DocChunk"
    # API documentation
    API_SPEC = "ApiSpec"
    ENDPOINT = "Endpoint"
    SCHEMA = "Schema"
    TAG = "Tag"
    PARAMETER = "Parameter"
    DELPHIX_KIND = "DelphixKind"
    DOC_PAGE = "DocPage"
    DOC_SECTION = "DocSection"
    # the live Delphix estate (DCT API): instances of the kinds the API documentation declares
    DELPHIX_ENGINE = "DelphixEngine"
    DELPHIX_ENVIRONMENT = "DelphixEnvironment"
    DSOURCE = "DSource"
    VDB = "Vdb"
    VDB_GROUP = "VdbGroup"
    SNAPSHOT = "Snapshot"
    BOOKMARK = "Bookmark"
    DELPHIX_JOB = "DelphixJob"
    MASKING_JOB = "MaskingJob"
    # retrieval index: the corpus vocabulary, embedded word by word (cross-lingual bridge)
    TERM = "Term"
    # system state kept in the store (not domain data)
    CHECKPOINT = "Checkpoint"
    SESSION = "Session"
    MESSAGE = "Message"
    JOB = "Job"
    REPORT = "Report"


class RelType(StrEnum):
    HAS_RECORD = "HAS_RECORD"  # Collection -> Record
    DESCRIBES = "DESCRIBES"  # Record -> Run
    OF = "OF"  # Run -> Pipeline
    USES = "USES"  # Pipeline -> Technology
    FAILED_WITH = "FAILED_WITH"  # Run -> Error
    RAN_ON = "RAN_ON"  # Run -> Host
    IN_ENVIRONMENT = "IN_ENVIRONMENT"  # Run -> Environment
    MENTIONS = "MENTIONS"  # Record/DocSection -> any named entity
    CONTAINS = "CONTAINS"  # Repository -> File -> Class -> Function
    IMPORTS = "IMPORTS"  # File -> File
    CALLS = "CALLS"  # Function -> Function
    SERVES = "SERVES"  # Function -> Route
    MAKES = "MAKES"  # Function -> HttpCall
    TARGETS = "TARGETS"  # HttpCall -> Endpoint
    CALLS_ENDPOINT = "CALLS_ENDPOINT"  # Function -> Endpoint (directly or through its callees)
    IMPLEMENTS = "IMPLEMENTS"  # Route -> Endpoint, File/Function -> Pipeline
    DEFINES = "DEFINES"  # ApiSpec -> Endpoint | Schema | Tag
    TAGGED = "TAGGED"  # Endpoint -> Tag
    HAS_PARAMETER = "HAS_PARAMETER"  # Endpoint -> Parameter
    ACCEPTS = "ACCEPTS"  # Endpoint -> Schema (request body)
    RETURNS = "RETURNS"  # Endpoint -> Schema (response)
    REFERENCES = "REFERENCES"  # Schema -> Schema (property type)
    EXTENDS = "EXTENDS"  # Schema -> Schema (allOf)
    ACTS_ON = "ACTS_ON"  # Endpoint -> DelphixKind {operation}
    REPRESENTS = "REPRESENTS"  # Schema -> DelphixKind
    NEEDS = "NEEDS"  # Endpoint -> Endpoint {input}: the producer yields an id the consumer needs
    SECTION_OF = "SECTION_OF"  # DocSection -> DocPage
    IN_SESSION = "IN_SESSION"  # Message -> Session
    INSTANCE_OF = "INSTANCE_OF"  # Vdb | DSource | … -> DelphixKind
    PROVISIONED_FROM = "PROVISIONED_FROM"  # Vdb -> DSource | Vdb (parent dataset)
    HOSTED_ON = "HOSTED_ON"  # Vdb -> DelphixEnvironment -> Host
    ON_ENGINE = "ON_ENGINE"  # DSource | Vdb | DelphixEnvironment -> DelphixEngine
    SNAPSHOT_OF = "SNAPSHOT_OF"  # Snapshot | Bookmark -> Vdb | DSource
    IN_GROUP = "IN_GROUP"  # Vdb -> VdbGroup
    DEPENDS_ON = "DEPENDS_ON"  # Pipeline -> Vdb | DSource | DelphixEnvironment (named by the flow)
    DOCUMENTED_AS = "DOCUMENTED_AS"  # DelphixJob -> Endpoint (the documented operation it runs)


@dataclass(frozen=True)
class LabelSpec:
    label: NodeLabel
    key: str  # the property that identifies a node of this label within the label
    description: str
    embedded: bool = False  # carries an embedding and sits in a vector index
    fulltext: tuple[str, ...] = ()  # properties in the full-text index
    system: bool = False  # store-internal state, hidden from domain search
    # attribute-like: a path to the answer more than an answer (a schema supports its endpoints,
    # a host its runs); ranked after the nodes it supports unless the question asks for its label
    support: bool = False
    indexed: tuple[str, ...] = ()  # properties with a range index (filters, ordering)
    # the property dating a node's last activity (UTC ISO): what "since"/"not since" questions
    # about this label compare with the window ("VDB pas rafraîchies depuis 7 jours")
    activity: str = ""


@dataclass(frozen=True)
class RelSpec:
    type: RelType
    start: tuple[NodeLabel, ...]
    end: tuple[NodeLabel, ...]
    description: str


_L = NodeLabel
_R = RelType
_NAMED = ("name", "text")

_LABELS: tuple[LabelSpec, ...] = (
    LabelSpec(
        _L.COLLECTION, "name", "A MongoDB collection (one ingestion scope).", False, ("name",), support=True
    ),
    LabelSpec(_L.RECORD, "ref", "One MongoDB document, flattened to readable text.", True, _NAMED),
    LabelSpec(_L.PIPELINE, "name", "A data flow / job / DAG, by normalised name.", True, _NAMED),
    LabelSpec(
        _L.RUN,
        "ref",
        "One execution of a pipeline: status, start, end, duration.",
        False,
        _NAMED,
        indexed=("status", "started_at", "pipeline", "technology", "host", "environment", "error_template"),
    ),
    LabelSpec(
        _L.TECHNOLOGY, "name", "Spark, Kafka, Informatica, Airflow, Oracle…", False, ("name",), support=True
    ),
    LabelSpec(_L.ERROR, "template_id", "A normalised error message template.", True, _NAMED),
    LabelSpec(
        _L.HOST, "name", "A machine named in runs or logs (linux-db-07).", False, ("name",), support=True
    ),
    LabelSpec(
        _L.ENVIRONMENT, "name", "dev / qa / prod or a Delphix environment.", False, ("name",), support=True
    ),
    LabelSpec(_L.REPOSITORY, "name", "A source-code repository.", False, ("name",), support=True),
    LabelSpec(
        _L.FILE,
        "ref",
        "A source file (repo/path); a script's text says what it does (docstring, CLI commands, calls).",
        True,
        ("name", "path", "text"),
    ),
    LabelSpec(_L.CLASS, "ref", "A class / type / interface.", True, _NAMED),
    LabelSpec(_L.FUNCTION, "ref", "A function or method with signature and docstring.", True, _NAMED),
    LabelSpec(_L.ROUTE, "ref", "An HTTP endpoint the code serves.", True, ("name", "path", "text")),
    LabelSpec(_L.HTTP_CALL, "ref", "An HTTP endpoint the code calls.", True, ("name", "path", "text")),
    LabelSpec(_L.DOC_CHUNK, "ref", "A Markdown/README section inside a repository.", True, _NAMED),
    LabelSpec(
        _L.API_SPEC, "ref", "An OpenAPI/Swagger document (name@version).", False, ("name",), support=True
    ),
    LabelSpec(
        _L.ENDPOINT,
        "ref",
        "An API operation: METHOD /path.",
        True,
        ("name", "path", "text"),
        indexed=("method", "path"),
    ),
    LabelSpec(_L.SCHEMA, "ref", "A request/response object model.", True, _NAMED, support=True),
    LabelSpec(_L.TAG, "ref", "An OpenAPI tag grouping operations.", False, ("name",), support=True),
    LabelSpec(
        _L.PARAMETER, "ref", "An operation parameter (path, query, header).", False, ("name",), support=True
    ),
    LabelSpec(
        _L.DELPHIX_KIND, "name", "A Delphix object kind: VDB, DSource, Snapshot…", False, _NAMED, support=True
    ),
    LabelSpec(_L.DOC_PAGE, "ref", "An HTML documentation page.", False, ("name",), support=True),
    LabelSpec(_L.DOC_SECTION, "ref", "A heading-delimited section of a doc page.", True, _NAMED),
    LabelSpec(
        _L.DELPHIX_ENGINE,
        "ref",
        "A Delphix engine registered in DCT (virtualization or masking).",
        False,
        _NAMED,
        support=True,
        indexed=("name_key",),
    ),
    LabelSpec(
        _L.DELPHIX_ENVIRONMENT,
        "ref",
        "A Delphix environment: the hosts (and their repositories) an engine provisions onto.",
        False,
        _NAMED,
        indexed=("name_key",),
    ),
    LabelSpec(
        _L.DSOURCE,
        "ref",
        "A Delphix dSource: the linked copy of a production database.",
        False,
        _NAMED,
        indexed=("name_key", "status"),
    ),
    LabelSpec(
        _L.VDB,
        "ref",
        "A Delphix virtual database: its parent, environment, status and when it was last refreshed.",
        False,
        _NAMED,
        indexed=("name_key", "status", "refreshed_at"),
        activity="refreshed_at",
    ),
    LabelSpec(
        _L.VDB_GROUP, "ref", "A group of VDBs operated together.", False, _NAMED, indexed=("name_key",)
    ),
    LabelSpec(
        _L.SNAPSHOT,
        "ref",
        "A snapshot of a dSource or VDB (the latest ones per dataset, and those in the sync window).",
        False,
        _NAMED,
        support=True,
        indexed=("dataset", "taken_at"),
        activity="taken_at",
    ),
    LabelSpec(
        _L.BOOKMARK,
        "ref",
        "A named point in time of one or more datasets.",
        False,
        _NAMED,
        activity="created_at",
    ),
    LabelSpec(
        _L.DELPHIX_JOB,
        "ref",
        "A DCT job (refresh, provision, snapshot…): status, target object, errors, start and update "
        "times; kept as history.",
        False,
        _NAMED,
        indexed=("status", "started_at", "job_type", "target"),
        activity="started_at",
    ),
    LabelSpec(
        _L.MASKING_JOB,
        "ref",
        "A masking job and the status of its last execution.",
        False,
        _NAMED,
        indexed=("status",),
        activity="last_run_at",
    ),
    LabelSpec(
        _L.TERM,
        "name",
        "A word of the corpus vocabulary (identifiers split into words), embedded alone so that a "
        "question word in another language finds the corpus words it means.",
        embedded=True,
        system=True,
    ),
    LabelSpec(_L.CHECKPOINT, "ref", "Ingestion checkpoint of a scope.", system=True),
    LabelSpec(_L.SESSION, "ref", "A conversation session.", system=True, indexed=("updated_at",)),
    LabelSpec(_L.MESSAGE, "ref", "One turn of a conversation.", system=True, indexed=("session",)),
    LabelSpec(_L.JOB, "ref", "A background ingestion job.", system=True, indexed=("state",)),
    LabelSpec(
        _L.REPORT,
        "ref",
        "A morning report of one day (its facts, renderings and per-channel delivery status).",
        system=True,
    ),
)

_DELPHIX_OBJECTS = (
    _L.DELPHIX_ENGINE,
    _L.DELPHIX_ENVIRONMENT,
    _L.DSOURCE,
    _L.VDB,
    _L.VDB_GROUP,
    _L.SNAPSHOT,
    _L.BOOKMARK,
    _L.DELPHIX_JOB,
    _L.MASKING_JOB,
)

#: Labels of the live Delphix estate (``flowrag ingest delphix``).
DELPHIX_OBJECTS = _DELPHIX_OBJECTS

_RELS: tuple[RelSpec, ...] = (
    RelSpec(_R.HAS_RECORD, (_L.COLLECTION,), (_L.RECORD,), "collection holds the document"),
    RelSpec(_R.DESCRIBES, (_L.RECORD,), (_L.RUN,), "document describes the run"),
    RelSpec(_R.OF, (_L.RUN,), (_L.PIPELINE,), "run is an execution of the pipeline"),
    RelSpec(_R.USES, (_L.PIPELINE,), (_L.TECHNOLOGY,), "pipeline runs on the technology"),
    RelSpec(_R.FAILED_WITH, (_L.RUN,), (_L.ERROR,), "run failed with the error template"),
    RelSpec(_R.RAN_ON, (_L.RUN,), (_L.HOST,), "run executed on the host"),
    RelSpec(_R.IN_ENVIRONMENT, (_L.RUN, _L.PIPELINE), (_L.ENVIRONMENT,), "environment"),
    RelSpec(
        _R.MENTIONS,
        (_L.RECORD, _L.DOC_SECTION, _L.DOC_CHUNK),
        tuple(_L),
        "text mentions the named entity (NER)",
    ),
    RelSpec(
        _R.CONTAINS,
        (_L.REPOSITORY, _L.FILE, _L.CLASS),
        (_L.FILE, _L.CLASS, _L.FUNCTION, _L.DOC_CHUNK, _L.ROUTE),
        "structural containment",
    ),
    RelSpec(_R.IMPORTS, (_L.FILE,), (_L.FILE,), "file imports file"),
    RelSpec(_R.CALLS, (_L.FUNCTION,), (_L.FUNCTION,), "function calls function"),
    RelSpec(_R.SERVES, (_L.FUNCTION, _L.FILE), (_L.ROUTE,), "handler serves the route"),
    RelSpec(_R.MAKES, (_L.FUNCTION, _L.FILE), (_L.HTTP_CALL,), "code makes the HTTP call"),
    RelSpec(_R.TARGETS, (_L.HTTP_CALL,), (_L.ENDPOINT,), "call targets the documented endpoint"),
    RelSpec(
        _R.CALLS_ENDPOINT,
        (_L.FUNCTION,),
        (_L.ENDPOINT,),
        "function reaches the documented endpoint, itself or through its callees (derived, up to 3 calls deep)",
    ),
    RelSpec(
        _R.IMPLEMENTS,
        (_L.ROUTE, _L.FILE, _L.FUNCTION),
        (_L.ENDPOINT, _L.PIPELINE),
        "code implements the endpoint / pipeline",
    ),
    RelSpec(_R.DEFINES, (_L.API_SPEC,), (_L.ENDPOINT, _L.SCHEMA, _L.TAG), "spec defines it"),
    RelSpec(_R.TAGGED, (_L.ENDPOINT,), (_L.TAG,), "operation carries the tag"),
    RelSpec(_R.HAS_PARAMETER, (_L.ENDPOINT,), (_L.PARAMETER,), "operation parameter"),
    RelSpec(_R.ACCEPTS, (_L.ENDPOINT,), (_L.SCHEMA,), "request body schema"),
    RelSpec(_R.RETURNS, (_L.ENDPOINT,), (_L.SCHEMA,), "response schema"),
    RelSpec(_R.REFERENCES, (_L.SCHEMA,), (_L.SCHEMA,), "property of that type"),
    RelSpec(_R.EXTENDS, (_L.SCHEMA,), (_L.SCHEMA,), "allOf inheritance"),
    RelSpec(
        _R.ACTS_ON,
        (_L.ENDPOINT, _L.DELPHIX_JOB, _L.HTTP_CALL),
        (_L.DELPHIX_KIND, *_DELPHIX_OBJECTS),
        "operation acts on the kind; a DCT job on its target object; a call in code on the object "
        "its URL names",
    ),
    RelSpec(_R.REPRESENTS, (_L.SCHEMA,), (_L.DELPHIX_KIND,), "schema models the kind"),
    RelSpec(
        _R.NEEDS,
        (_L.ENDPOINT,),
        (_L.ENDPOINT,),
        "a prerequisite step: the end operation yields the id the start operation's input "
        "names (path parameter or body field; derived from the spec's responses and paths)",
    ),
    RelSpec(_R.SECTION_OF, (_L.DOC_SECTION,), (_L.DOC_PAGE,), "section of the page"),
    RelSpec(_R.IN_SESSION, (_L.MESSAGE,), (_L.SESSION,), "message of the session"),
    RelSpec(
        _R.INSTANCE_OF,
        _DELPHIX_OBJECTS,
        (_L.DELPHIX_KIND,),
        "a live Delphix object is an instance of the kind the API documents",
    ),
    RelSpec(_R.PROVISIONED_FROM, (_L.VDB,), (_L.DSOURCE, _L.VDB), "VDB provisioned from its parent dataset"),
    RelSpec(
        _R.HOSTED_ON,
        (_L.VDB, _L.DELPHIX_ENVIRONMENT),
        (_L.DELPHIX_ENVIRONMENT, _L.HOST),
        "VDB runs on the environment; the environment is made of the host",
    ),
    RelSpec(
        _R.ON_ENGINE,
        (_L.DSOURCE, _L.VDB, _L.DELPHIX_ENVIRONMENT, _L.MASKING_JOB),
        (_L.DELPHIX_ENGINE,),
        "object managed by the engine",
    ),
    RelSpec(_R.SNAPSHOT_OF, (_L.SNAPSHOT, _L.BOOKMARK), (_L.VDB, _L.DSOURCE), "point in time of the dataset"),
    RelSpec(_R.IN_GROUP, (_L.VDB,), (_L.VDB_GROUP,), "VDB member of the group"),
    RelSpec(
        _R.DEPENDS_ON,
        (_L.PIPELINE,),
        (_L.VDB, _L.DSOURCE, _L.DELPHIX_ENVIRONMENT),
        "the flow's name contains the Delphix object's name (refresh_orders_qa -> VDB orders_qa)",
    ),
    RelSpec(
        _R.DOCUMENTED_AS,
        (_L.DELPHIX_JOB,),
        (_L.ENDPOINT,),
        "the documented operations that start this kind of job on this kind of object "
        "(a DB_REFRESH job on a VDB -> POST /vdbs/{vdbId}/refresh_by_…)",
    ),
)

#: Which labels each source writes (the ``sources`` filter of a question, GraphQL ``search``).
SOURCE_LABELS: dict[str, tuple[NodeLabel, ...]] = {
    "mongo": (
        _L.RECORD,
        _L.RUN,
        _L.PIPELINE,
        _L.ERROR,
        _L.TECHNOLOGY,
        _L.HOST,
        _L.ENVIRONMENT,
        _L.COLLECTION,
    ),
    "code": (_L.REPOSITORY, _L.FILE, _L.CLASS, _L.FUNCTION, _L.ROUTE, _L.HTTP_CALL, _L.DOC_CHUNK),
    "openapi": (_L.API_SPEC, _L.ENDPOINT, _L.SCHEMA, _L.TAG, _L.PARAMETER, _L.DELPHIX_KIND),
    "html": (_L.DOC_PAGE, _L.DOC_SECTION),
    "delphix": _DELPHIX_OBJECTS,
}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def safe_identifier(name: str) -> str:
    """Return ``name`` if it is a plain identifier safe to place in Cypher/SQL, else raise."""
    if not _IDENTIFIER.match(name):
        raise OntologyError(f"{name!r} is not a safe identifier (letters, digits, underscore)")
    return name


def make_uid(label: NodeLabel | str, key: str) -> str:
    """The store-independent id of a node: ``Label:key``."""
    return f"{NodeLabel(label).value}:{key}"


@dataclass(frozen=True)
class Ontology:
    labels: tuple[LabelSpec, ...] = _LABELS
    relationships: tuple[RelSpec, ...] = _RELS
    _by_label: dict[str, LabelSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_label.update({spec.label.value: spec for spec in self.labels})

    def label(self, name: NodeLabel | str) -> LabelSpec:
        value = name.value if isinstance(name, NodeLabel) else name
        spec = self._by_label.get(value)
        if spec is None:
            known = ", ".join(sorted(self._by_label))
            raise OntologyError(f"unknown node label {value!r}; known labels: {known}")
        return spec

    def rel_type(self, name: RelType | str) -> RelType:
        try:
            return name if isinstance(name, RelType) else RelType(name)
        except ValueError:
            known = ", ".join(r.value for r in RelType)
            raise OntologyError(f"unknown relationship type {name!r}; known types: {known}") from None

    @property
    def indexed_properties(self) -> tuple[tuple[NodeLabel, str], ...]:
        return tuple((s.label, p) for s in self.labels for p in s.indexed)

    def labels_named(self, names: list[str] | tuple[str, ...] | None) -> tuple[LabelSpec, ...]:
        if not names:
            return tuple(s for s in self.labels if not s.system)
        return tuple(self.label(n) for n in names)

    @property
    def embedded_labels(self) -> tuple[NodeLabel, ...]:
        return tuple(s.label for s in self.labels if s.embedded)

    @property
    def fulltext_labels(self) -> tuple[NodeLabel, ...]:
        return tuple(s.label for s in self.labels if s.fulltext and not s.system)

    @property
    def fulltext_properties(self) -> tuple[str, ...]:
        props: list[str] = []
        for spec in self.labels:
            for prop in spec.fulltext:
                if prop not in props:
                    props.append(prop)
        return tuple(props)


ONTOLOGY = Ontology()

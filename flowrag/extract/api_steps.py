"""Which operations yield the ids another operation needs: ``NEEDS`` edges between endpoints.

An API task is rarely one call: ``POST /vdbs/{vdbId}/refresh_by_snapshot`` needs a VDB id (from
``GET /vdbs`` or ``POST /vdbs/search``) and a ``snapshot_id`` in its body (from ``GET /snapshots``).
The rule is structural, read from the spec itself, so it holds on any REST API:

* an operation **needs** a resource for each id-like input: a path parameter (``{vdbId}``,
  ``{pet_id}``; a bare ``{id}``/``{slug}`` names the collection segment before it) or a body
  property ending in ``id``/``ids`` (``snapshot_id``);
* an operation **produces** a resource when its success response is that resource's schema, a
  list of it, or a wrapper object with a list of it (``{items: [VDB]}``), or when it is the GET
  (or ``…/search``) of the collection path named after it;
* ``NEEDS`` links a consumer to at most ``limit`` producers per input that do not themselves need
  that resource, list-like producers first.

Resource names are compared folded (lower case, alphanumerics only, naive singular), so ``vdbId``,
``vdbs``, ``VDB`` and ``ListVDBsResponse.items -> VDB`` meet."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Operation", "fold_resource", "id_resource", "prerequisites", "produced_resources"]

_ID_SUFFIX = re.compile(r"(?:[_-]?(?:ids?|uuids?|keys?|refs?))$", re.IGNORECASE)
_BARE = re.compile(r"^(?:id|ids|uuid|key|slug|name|ref|code)$", re.IGNORECASE)


def fold_resource(name: str) -> str:
    """``VDBs`` -> ``vdb``, ``vdb-groups`` -> ``vdbgroup``, ``categories`` -> ``category``."""
    low = re.sub(r"[^a-z0-9]", "", name.lower())
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if low.endswith("s") and not low.endswith("ss") and len(low) > 3:
        return low[:-1]
    return low


def id_resource(name: str) -> str | None:
    """The resource an id-like input names (``vdbId`` -> ``vdb``), or None if it is not id-like."""
    if _BARE.match(name):
        return None
    stripped = _ID_SUFFIX.sub("", name)
    if stripped == name or len(stripped) < 2:
        return None
    return fold_resource(stripped)


@dataclass(frozen=True)
class Operation:
    """What the rule needs to know of one operation."""

    uid: str
    method: str  # upper case
    path: str
    body_fields: tuple[str, ...] = ()
    produces: frozenset[str] = frozenset()  # folded resource names of the success response
    lists: bool = False  # the success response is a list (or a wrapper holding one)
    needs: dict[str, str] = field(default_factory=dict, compare=False)  # input -> folded resource

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path)


def _path_needs(path: str) -> dict[str, str]:
    needs: dict[str, str] = {}
    previous = ""
    for segment in path.strip("/").split("/"):
        match = re.fullmatch(r"\{([^}]+)\}", segment)
        if not match:
            previous = segment
            continue
        param = match.group(1)
        resource = id_resource(param)
        if resource is None and previous:
            resource = fold_resource(previous)  # /articles/{slug}, /pets/{id}
        if resource:
            needs[param] = resource
    return needs


def _collection_of(op: Operation) -> str | None:
    """The resource whose collection this operation lists: GET /vdbs, POST /vdbs/search."""
    segments = [s for s in op.path.strip("/").split("/") if s]
    if not segments or segments[-1].startswith("{"):
        return None
    if op.method == "GET":
        return fold_resource(segments[-1])
    if op.method == "POST" and segments[-1].lower() == "search" and len(segments) > 1:
        previous = segments[-2]
        return None if previous.startswith("{") else fold_resource(previous)
    return None


def prerequisites(operations: Sequence[Operation], limit: int = 3) -> list[tuple[str, str, str]]:
    """``(consumer uid, producer uid, input name)`` triples, deterministic order."""
    producers: dict[str, list[tuple[tuple[int, int, int, str], Operation]]] = {}
    resolved: list[tuple[Operation, dict[str, str]]] = []
    for op in operations:
        needs = _path_needs(op.path)
        for name in op.body_fields:
            resource = id_resource(name)
            if resource:
                needs.setdefault(name, resource)
        resolved.append((op, needs))
    for op, needs in resolved:
        made = set(op.produces)
        collection = _collection_of(op)
        if collection:
            made.add(collection)
        for resource in made:
            if resource in needs.values():
                continue  # GET /vdbs/{vdbId} returns a VDB but needs its id first
            listed = op.lists or collection == resource
            rank = (0 if listed else 1, len(op.path_params), 0 if op.method == "GET" else 1, op.path)
            producers.setdefault(resource, []).append((rank, op))
    out: list[tuple[str, str, str]] = []
    for op, needs in resolved:
        for name, resource in needs.items():
            chosen = sorted(producers.get(resource, ()), key=lambda item: item[0])
            for _, producer in chosen[:limit]:
                if producer.uid != op.uid:
                    out.append((op.uid, producer.uid, name))
    return out


def produced_resources(
    response_refs: Iterable[str], schemas: Mapping[str, object], response_is_array: bool
) -> tuple[frozenset[str], bool]:
    """Folded resources a success response yields, and whether it is a list: the referenced
    schemas themselves, and the item schemas of their array properties (one wrapper level)."""
    made: set[str] = set()
    lists = response_is_array
    for ref in response_refs:
        made.add(fold_resource(ref))
        schema = schemas.get(ref)
        if not isinstance(schema, Mapping):
            continue
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            continue
        for prop in properties.values():
            if not isinstance(prop, Mapping) or prop.get("type") != "array":
                continue
            items = prop.get("items")
            if isinstance(items, Mapping) and isinstance(items.get("$ref"), str):
                made.add(fold_resource(items["$ref"].rsplit("/", 1)[-1]))
                lists = True
    return frozenset(made), lists

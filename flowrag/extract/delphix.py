"""The live Delphix estate (objects read through the DCT v3 API) -> graph rows, deterministically.

Each DCT listing becomes nodes of one label (:data:`LISTINGS`), keyed ``<estate>/<DCT id>``; the
ids objects carry (``engine_id``, ``environment_id``, ``parent_id``, ``dataset_id``,
``target_id``, ``vdb_ids``…) become edges. What a node holds is the object's own scalar fields
(secret-named ones dropped: engines carry credentials), plus normalised ones the answer path
filters and orders on: ``name_key``, ``status`` (a job's status in the monitoring classes),
``refreshed_at`` / ``taken_at`` / ``started_at`` as UTC ISO instants.

Snapshots are many (tens per dataset): the estate keeps the latest ``per_dataset`` of each
dataset and every one taken inside the sync window. Jobs are read for the window only and never
removed by a later sync (history).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowrag.extract.monitoring import normalise_status
from flowrag.extract.secrets import SECRET_NAME
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, flat_value, make_uid
from flowrag.timeutil import parse_instant

__all__ = ["LISTINGS", "SOURCE", "EstateExtract", "Listing", "extract_estate", "name_key", "name_words"]

SOURCE = "delphix"


@dataclass(frozen=True)
class Listing:
    """One DCT collection: where it is listed and what it becomes."""

    name: str  # the CLI's --kinds value
    path: str  # under /v3
    label: NodeLabel
    kind: str  # the DelphixKind the API documentation declares (INSTANCE_OF)
    search: bool = False  # POST …/search with a filter_expression on the window
    sort: str = "id"


#: The DCT listings read, in dependency order (engines before what runs on them).
LISTINGS: tuple[Listing, ...] = (
    Listing("engines", "/management/engines", NodeLabel.DELPHIX_ENGINE, "Engine"),
    Listing("environments", "/environments", NodeLabel.DELPHIX_ENVIRONMENT, "Environment"),
    Listing("dsources", "/dsources", NodeLabel.DSOURCE, "DSource"),
    Listing("vdbs", "/vdbs", NodeLabel.VDB, "VDB"),
    Listing("vdb_groups", "/vdb-groups", NodeLabel.VDB_GROUP, "VDBGroup"),
    Listing("snapshots", "/snapshots", NodeLabel.SNAPSHOT, "Snapshot", sort="-timestamp"),
    Listing("bookmarks", "/bookmarks", NodeLabel.BOOKMARK, "Bookmark"),
    Listing("jobs", "/jobs/search", NodeLabel.DELPHIX_JOB, "Job", search=True, sort="-start_time"),
    Listing("masking_jobs", "/masking-jobs", NodeLabel.MASKING_JOB, "MaskingJob"),
)
# which listing a bare id (a job's target_id) is looked up in first: datasets, then the rest
_TARGET_ORDER = ("vdbs", "dsources", "environments", "vdb_groups", "snapshots", "bookmarks", "engines")

_WORDS = re.compile(r"[a-z0-9]+")


def name_words(name: str) -> tuple[str, ...]:
    """``Orders-QA`` / ``orders_qa`` / ``ordersQa`` -> ``('orders', 'qa')``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return tuple(_WORDS.findall(spaced.lower()))


def name_key(name: str) -> str:
    """The form names are matched in (flows, free text, questions): words joined by ``_``."""
    return "_".join(name_words(name))


@dataclass
class EstateExtract:
    nodes: list[NodeRow] = field(default_factory=list)
    rels: list[RelRow] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    read: int = 0


def _scalars(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's own fields both stores accept, secret-named ones dropped, tags as k=v."""
    props: dict[str, Any] = {}
    for key, value in obj.items():
        if SECRET_NAME.match(key) or value is None:
            continue
        if key == "tags" and isinstance(value, list):
            props["tags"] = [f"{t.get('key')}={t.get('value')}" for t in value if isinstance(t, Mapping)]
        elif isinstance(value, str | int | float | bool):
            props[f"dct_{key}" if key in ("name", "text", "source", "scope") else key] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            props[key] = flat_value(value)
    return props


def _when(value: Any) -> str | None:
    return parse_instant(value) if value not in (None, "") else None


class _Estate:
    def __init__(self, scope: str, objects: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.scope = scope
        self.uid: dict[tuple[str, str], str] = {}  # (listing, id) -> uid
        self.names: dict[str, str] = {}  # uid -> display name
        for listing in LISTINGS:
            for obj in objects.get(listing.name, ()):
                if isinstance(obj, Mapping) and obj.get("id") not in (None, ""):
                    uid = make_uid(listing.label, f"{scope}/{obj['id']}")
                    self.uid[(listing.name, str(obj["id"]))] = uid
                    self.names[uid] = str(obj.get("name") or obj.get("hostname") or obj["id"])

    def find(self, listing: str, ident: Any) -> str | None:
        return self.uid.get((listing, str(ident))) if ident not in (None, "") else None

    def anywhere(self, ident: Any) -> str | None:
        """A bare id of any kind (a job's target); None when it is no object read (or several)."""
        found = {u for name in _TARGET_ORDER if (u := self.find(name, ident))}
        return found.pop() if len(found) == 1 else None

    def named(self, uid: str | None) -> str:
        return self.names.get(uid or "", "")


def _select_snapshots(
    snapshots: Sequence[Mapping[str, Any]], since: str | None, per_dataset: int
) -> list[Mapping[str, Any]]:
    """The latest ``per_dataset`` snapshots of each dataset, and every one taken since ``since``."""
    by_dataset: dict[str, list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    for snap in snapshots:
        taken = _when(snap.get("timestamp")) or _when(snap.get("creation_time")) or ""
        by_dataset[str(snap.get("dataset_id", ""))].append((taken, snap))
    kept: list[Mapping[str, Any]] = []
    for items in by_dataset.values():
        items.sort(key=lambda item: item[0], reverse=True)
        kept += [s for i, (taken, s) in enumerate(items) if i < per_dataset or (since and taken >= since)]
    return kept


def extract_estate(
    objects: Mapping[str, Sequence[Mapping[str, Any]]],
    scope: str,
    *,
    since: str | None = None,
    per_dataset: int = 3,
) -> EstateExtract:
    """Rows for one estate (one DCT instance): ``objects`` maps a :data:`LISTINGS` name to the
    items DCT returned."""
    objects = {
        **objects,
        "snapshots": _select_snapshots(objects.get("snapshots", ()), since, per_dataset),
    }
    est = _Estate(scope, objects)
    out = EstateExtract()
    hosts: dict[str, NodeRow] = {}
    for listing in LISTINGS:
        for obj in objects.get(listing.name, ()):
            out.read += 1
            if not isinstance(obj, Mapping) or obj.get("id") in (None, ""):
                out.skipped[f"{listing.name} without an id"] += 1
                continue
            uid = est.uid[(listing.name, str(obj["id"]))]
            node, rels = _row(listing, obj, uid, est, out, hosts)
            out.nodes.append(node)
            out.rels += rels
    out.nodes += hosts.values()
    return out


def _row(
    listing: Listing,
    obj: Mapping[str, Any],
    uid: str,
    est: _Estate,
    out: EstateExtract,
    hosts: dict[str, NodeRow],
) -> tuple[NodeRow, list[RelRow]]:
    props = _scalars(obj)
    name = str(obj.get("name") or obj["id"])
    if listing.name == "jobs":  # jobs have no name: what they did, to what, when
        what = obj.get("type") or obj.get("localized_type") or "job"
        name = f"{what} {obj.get('target_name') or obj.get('target_id') or ''} {str(obj.get('start_time') or '')[:16]}"
        name = " ".join(name.split())
    props["name_key"] = name_key(name)
    props["dct_id"] = str(obj["id"])
    props["kind"] = listing.kind
    rels: list[RelRow] = []
    facts: list[str] = []

    def link(rel: RelType, target: str | None, what: str = "") -> None:
        if target:
            rels.append(RelRow(rel, uid, target))
            if what:
                facts.append(f"{what} {est.named(target)}")

    engine = est.find("engines", obj.get("engine_id"))
    if listing.name in ("dsources", "vdbs", "environments"):
        link(RelType.ON_ENGINE, engine, "engine")
    if listing.name == "environments":
        for host in obj.get("hosts") or ():
            hostname = str(host.get("hostname") or "").strip() if isinstance(host, Mapping) else ""
            if hostname:
                key = hostname.lower()
                hosts.setdefault(
                    key, NodeRow(NodeLabel.HOST, key, SOURCE, "_shared", key, name=hostname, text=hostname)
                )
                link(RelType.HOSTED_ON, make_uid(NodeLabel.HOST, key))
                facts.append(f"host {hostname}")
        props["hosts"] = [str(h.get("hostname")) for h in obj.get("hosts") or () if isinstance(h, Mapping)]
    elif listing.name == "vdbs":
        link(RelType.HOSTED_ON, est.find("environments", obj.get("environment_id")), "environment")
        parent = est.find("vdbs", obj.get("parent_id")) or est.find("dsources", obj.get("parent_id"))
        parent = parent or est.find("dsources", obj.get("parent_dsource_id"))
        link(RelType.PROVISIONED_FROM, parent, "provisioned from")
        props["refreshed_at"] = _when(obj.get("last_refreshed_date"))
        props["created_at"] = _when(obj.get("creation_date"))
    elif listing.name == "dsources":
        props["created_at"] = _when(obj.get("creation_date"))
    elif listing.name == "vdb_groups":
        for vdb in obj.get("vdb_ids") or ():
            member = est.find("vdbs", vdb)
            if member:
                rels.append(RelRow(RelType.IN_GROUP, member, uid))
    elif listing.name in ("snapshots", "bookmarks"):
        ids = [obj.get("dataset_id"), *(obj.get("vdb_ids") or ()), *(obj.get("dsource_ids") or ())]
        for ident in ids:
            link(RelType.SNAPSHOT_OF, est.find("vdbs", ident) or est.find("dsources", ident), "of")
        props["taken_at"] = _when(obj.get("timestamp")) or _when(obj.get("creation_time"))
        props["created_at"] = _when(obj.get("creation_date") or obj.get("creation_time"))
        props["dataset"] = str(obj.get("dataset_id") or "")
    elif listing.name == "jobs":
        target = est.anywhere(obj.get("target_id"))
        if obj.get("target_id") and target is None:
            out.skipped["job targets not in the estate"] += 1
        link(RelType.ACTS_ON, target, "on")
        props["dct_status"] = str(obj.get("status") or "")
        props["status"] = normalise_status(obj.get("status") or "UNKNOWN")
        props["started_at"] = _when(obj.get("start_time"))
        props["updated_at"] = _when(obj.get("update_time"))
        props["job_type"] = str(obj.get("type") or "")
        props["target"] = str(obj.get("target_id") or "")
        props["target_kind"] = target.split(":", 1)[0] if target else ""
    elif listing.name == "masking_jobs":
        for ident in obj.get("engine_ids") or ():
            link(RelType.ON_ENGINE, est.find("engines", ident), "engine")
        props["status"] = normalise_status(obj.get("last_execution_status") or "UNKNOWN")
        props["last_run_at"] = _when(obj.get("last_completed_execution_date"))
    node = NodeRow(
        listing.label,
        uid.split(":", 1)[1],
        SOURCE,
        est.scope,
        f"{listing.path.removesuffix('/search')}/{obj['id']}",
        name=name,
        text=_text(listing, obj, name, props, facts),
        props={k: v for k, v in props.items() if v is not None},
    )
    return node, rels


def _text(
    listing: Listing, obj: Mapping[str, Any], name: str, props: Mapping[str, Any], facts: Iterable[str]
) -> str:
    """One readable line: what the object is, its state, what it is linked to, its error."""
    kind = {"Environment": "Delphix environment", "Engine": "Delphix engine", "Job": "DCT job"}.get(
        listing.kind, listing.kind
    )
    parts = [f"{kind} {name}"]
    detail = [
        str(v)
        for v in (
            obj.get("database_type"),
            obj.get("database_version"),
            obj.get("localized_type") or obj.get("type"),
            obj.get("status") or obj.get("last_execution_status"),
        )
        if v not in (None, "")
    ]
    if detail:
        parts.append(f"({', '.join(detail)})")
    parts += list(facts)
    for label, prop in (
        ("last refreshed", "refreshed_at"),
        ("taken", "taken_at"),
        ("started", "started_at"),
        ("last run", "last_run_at"),
    ):
        if props.get(prop):
            parts.append(f"{label} {props[prop]}")
    if listing.name == "jobs" and obj.get("target_name"):
        parts.append(f"target {obj['target_name']}")
    error = obj.get("error_details") or obj.get("not_available_reason")
    if error:
        parts.append(f"error: {str(error)[:500]}")
    return " ".join(parts)

"""Questions about the live Delphix estate, answered by walking its edges, not by similarity.

Two shapes, both deterministic:

- **Anchored**: the question names objects (a VDB, dSource or environment by its name, a flow by
  its key) and asks for labels ("quel job DCT, sur quelle VDB, sur quel environnement", "quels
  flux dépendent de la VDB orders_qa"). The walk goes out from the anchors over the estate's
  edges; for each asked label the nodes at the smallest distance answer it, so the VDB a flow
  depends on answers "quelle VDB", not the other VDBs of its engine. A status word keeps the jobs
  with that status ("a échoué" -> FAILED); a window keeps the jobs that started in it.
- **Over time**: the question asks for a label with an activity date (the ontology's
  ``LabelSpec.activity``: a VDB's last refresh, a job's start, a snapshot's time) and names a
  window: the nodes active in it, or, negated ("pas rafraîchies depuis 7 jours"), those whose
  last activity is older than the window's start or unknown.

Negation comes from morphology as for run aggregates; the window from the planner, in the
team's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from flowrag.answer.aggregates import LATEST_WORDS, negated
from flowrag.answer.context import EvidenceItem, provenance
from flowrag.answer.planner import ASKING, Plan, TimeWindow, answer_labels_in
from flowrag.extract.delphix import name_key
from flowrag.graph.port import Filter, GraphStore, StoredEdge, StoredNode, all_nodes
from flowrag.ingest.links import DELPHIX_NAMED
from flowrag.models.nlp import NLP
from flowrag.models.vocabulary import normalise_name
from flowrag.schema import DELPHIX_OBJECTS, ONTOLOGY, NodeLabel, RelType, make_uid

__all__ = ["EstateAnswer", "EstatePlan", "answer_estate", "estate_labels", "plan_estate"]

#: the edges an estate walk follows (INSTANCE_OF and MENTIONS lead to hubs and text)
WALK: tuple[str, ...] = (
    RelType.DEPENDS_ON.value,
    RelType.ACTS_ON.value,
    RelType.HOSTED_ON.value,
    RelType.PROVISIONED_FROM.value,
    RelType.IN_GROUP.value,
    RelType.SNAPSHOT_OF.value,
    RelType.ON_ENGINE.value,
    RelType.DOCUMENTED_AS.value,
)
MAX_HOPS = 3
_ANSWERED_HERE = frozenset(label.value for label in DELPHIX_OBJECTS) | {
    NodeLabel.PIPELINE.value,
    NodeLabel.ENVIRONMENT.value,
    NodeLabel.HOST.value,
}
#: what the walk can answer: the estate, and what its edges reach outside it
_REACHABLE = frozenset(label.value for label in DELPHIX_OBJECTS) | {
    NodeLabel.PIPELINE.value,
    NodeLabel.HOST.value,
    NodeLabel.ENDPOINT.value,
    NodeLabel.HTTP_CALL.value,
}
_ESTATE = frozenset(label.value for label in DELPHIX_OBJECTS)
# a job of the estate, as opposed to a flow's job: "job DCT", "Delphix jobs", "jobs delphix"
_ESTATE_JOB = re.compile(r"\bjobs?\s+(?:dct|delphix)\b|\b(?:dct|delphix)\s+jobs?\b", re.IGNORECASE)
_WORD = re.compile(r"[\w][\w.-]{1,}[\w]", re.UNICODE)
_ASKING_ANY = re.compile(
    r"\b(?:quel(?:le)?s?|which|what|combien|how many|liste[rz]?|list|show|montre)\b", re.I
)


# the nouns that name the live estate's labels; kept out of the planner's answer types, so that
# "which VDB endpoint…" still asks for an endpoint where no estate is ingested
_ESTATE_NOUNS: tuple[tuple[str, str], ...] = (
    (r"vdbs?", NodeLabel.VDB.value),
    (r"dsources?", NodeLabel.DSOURCE.value),
    (r"snapshots?|instantanés?", NodeLabel.SNAPSHOT.value),
    (r"bookmarks?|signets?", NodeLabel.BOOKMARK.value),
    (r"moteurs?|engines?", NodeLabel.DELPHIX_ENGINE.value),
)


def _labels_in(word: str) -> tuple[str, ...]:
    for pattern, label in _ESTATE_NOUNS:
        if re.fullmatch(pattern, word.lower()):
            return (label,)
    return tuple(
        NodeLabel.DELPHIX_ENVIRONMENT.value if x == "Environment" else x for x in answer_labels_in(word)
    )


def estate_labels(question: str) -> tuple[str, ...]:
    """Every label the question asks for, in order ("quel job DCT, sur quelle VDB" -> DelphixJob,
    Vdb; an environment is the Delphix one here), then the estate labels it names anywhere
    ("quel est le dernier snapshot de la VDB orders_qa" -> Snapshot, Vdb)."""
    labels: list[str] = []
    for match in ASKING.finditer(question):
        phrase = match.group(1)
        if _ESTATE_JOB.search(match.group(0) + " " + question[match.end() : match.end() + 12]):
            labels.append(NodeLabel.DELPHIX_JOB.value)
            continue
        for word in phrase.lower().split():
            found = _labels_in(word)
            if found:
                labels += found
                break
    if labels or _ASKING_ANY.search(question):
        if _ESTATE_JOB.search(question):
            labels.append(NodeLabel.DELPHIX_JOB.value)
        for word in re.findall(r"[\w'-]+", question.lower()):
            labels += [x for x in _labels_in(word) if x in _ESTATE]
    return tuple(dict.fromkeys(labels))


@dataclass(frozen=True)
class EstatePlan:
    labels: tuple[str, ...]
    anchors: tuple[StoredNode, ...]
    negate: bool
    statuses: tuple[str, ...]
    window: TimeWindow | None
    latest: bool = False  # "le dernier snapshot": the most recent node of each asked label


async def _anchors(store: GraphStore, question: str, identifiers: Sequence[str]) -> list[StoredNode]:
    """Objects and flows the question names: a word equal to a live object's name, or to a flow's
    key (one lookup per label)."""
    words = {w.strip(".-'").lower() for w in _WORD.findall(question)} | {i.lower() for i in identifiers}
    keys = sorted({name_key(w) for w in words if name_key(w)})
    found: list[StoredNode] = []
    if not keys:
        return found
    for label in DELPHIX_NAMED:
        found += await store.find_nodes(label.value, [Filter("name_key", "in", keys)], limit=50)
    flows = await store.get_nodes(sorted({make_uid(NodeLabel.PIPELINE, normalise_name(w)) for w in words}))
    return found + flows


async def plan_estate(store: GraphStore, plan: Plan, nlp: NLP) -> EstatePlan | None:
    """The estate shape of a question, or None when it is not one."""
    labels = estate_labels(plan.question)
    if not labels:
        return None
    # the planner's answer type is what the question's head noun asks for: an endpoint, a
    # function, an error… ("which VDB endpoint refreshes…") is retrieval's to answer
    if plan.answer_types and plan.answer_types[0] not in _ANSWERED_HERE:
        return None
    anchors = await _anchors(store, plan.question, plan.identifiers)
    asks_estate = any(label in _ESTATE for label in labels)
    anchored_on_estate = any(a.label in _ESTATE for a in anchors)
    if not (asks_estate or anchored_on_estate):
        return None
    tokens = nlp.tokens(plan.question, plan.language)
    phrase = plan.window.phrase if plan.window else ""
    timed = any(ONTOLOGY.label(label).activity for label in labels if label in _ESTATE)
    if not anchors and not (plan.window and timed):
        return None
    # a label the anchors already are is not asked for ("le dernier snapshot de la VDB X")
    own = {a.label for a in anchors}
    asked = tuple(label for label in labels if label not in own) or labels
    if any(label not in _REACHABLE for label in asked):  # "quel code appelle…": retrieval's job
        return None
    latest = any(t.lower in LATEST_WORDS for t in tokens)
    return EstatePlan(asked, tuple(anchors), negated(tokens, phrase), plan.statuses, plan.window, latest)


@dataclass(frozen=True)
class EstateAnswer:
    items: list[EvidenceItem]
    edges: list[StoredEdge]
    summary: str
    counts: dict[str, int]


def _keep(node: StoredNode, plan: EstatePlan, negate_window: bool) -> bool:
    if (
        node.label == NodeLabel.DELPHIX_JOB.value
        and plan.statuses
        and node.props.get("status") not in plan.statuses
    ):
        return False
    activity = ONTOLOGY.label(node.label).activity if node.label in _ESTATE else ""
    if plan.window and activity:
        when = str(node.props.get(activity) or "")
        start, end = plan.window.start, plan.window.end
        if negate_window:
            return not when or when < start
        return bool(when) and start <= when < end
    return True


async def _walk(store: GraphStore, plan: EstatePlan) -> tuple[dict[str, list[StoredNode]], list[StoredEdge]]:
    """Breadth-first from the anchors; per asked label, the kept nodes at the smallest distance."""
    wanted = set(plan.labels)
    answers: dict[str, list[StoredNode]] = {}
    edges: list[StoredEdge] = []
    seen = {a.uid for a in plan.anchors}
    frontier = [a.uid for a in plan.anchors]
    for _ in range(MAX_HOPS):
        if not frontier or wanted <= set(answers):
            break
        hood = await store.neighbours(frontier, WALK, 200)
        by_uid = {n.uid: n for n in hood.nodes}
        reached: list[str] = []
        for edge in hood.edges:
            for near, far in ((edge.start, edge.end), (edge.end, edge.start)):
                if near in frontier and far not in seen and far in by_uid:
                    seen.add(far)
                    reached.append(far)
                    edges.append(edge)
        hop: dict[str, list[StoredNode]] = {}
        for uid in reached:
            node = by_uid[uid]
            if node.label in wanted and node.label not in answers and _keep(node, plan, plan.negate):
                hop.setdefault(node.label, []).append(node)
        answers.update(hop)
        frontier = reached
    return answers, edges


async def _over_time(store: GraphStore, plan: EstatePlan) -> dict[str, list[StoredNode]]:
    answers: dict[str, list[StoredNode]] = {}
    assert plan.window is not None
    start, end = plan.window.start, plan.window.end
    for label in plan.labels:
        activity = ONTOLOGY.label(label).activity if label in _ESTATE else ""
        if not activity:
            continue
        if plan.negate:  # older than the window's start, or never: every node is looked at
            nodes = [n for n in await all_nodes(store, label) if _keep(n, plan, True)]
        else:
            filters = [Filter(activity, ">=", start), Filter(activity, "<", end)]
            if label == NodeLabel.DELPHIX_JOB.value and plan.statuses:
                filters.append(Filter("status", "in", list(plan.statuses)))
            nodes = await store.find_nodes(label, filters, limit=10_000)
        answers[label] = nodes
    return answers


def _sorted(nodes: list[StoredNode]) -> list[StoredNode]:
    def when(n: StoredNode) -> str:
        activity = ONTOLOGY.label(n.label).activity if n.label in _ESTATE else ""
        return str(n.props.get(activity) or "") if activity else ""

    dated = [n for n in nodes if when(n)]
    undated = sorted((n for n in nodes if not when(n)), key=lambda n: n.name)
    return sorted(dated, key=when, reverse=True) + undated


_NOUN = {
    "fr": {
        "Vdb": "VDB",
        "DSource": "dSource",
        "DelphixEnvironment": "environnement Delphix",
        "DelphixJob": "job DCT",
        "Pipeline": "flux",
        "Host": "hôte",
    },
    "en": {
        "Vdb": "VDB",
        "DSource": "dSource",
        "DelphixEnvironment": "Delphix environment",
        "DelphixJob": "DCT job",
        "Pipeline": "flow",
        "Host": "host",
    },
}


async def answer_estate(store: GraphStore, plan: EstatePlan, language: str, top_k: int) -> EstateAnswer:
    lang = "fr" if language == "fr" else "en"
    if plan.anchors:
        answers, edges = await _walk(store, plan)
    else:
        answers, edges = await _over_time(store, plan), []
    items: list[EvidenceItem] = []
    counts: dict[str, int] = {}
    lines: list[str] = []
    for label in plan.labels:
        nodes = _sorted(answers.get(label, []))
        if plan.negate and not plan.anchors:
            nodes.reverse()  # the stalest first
        if plan.latest and nodes:
            nodes = nodes[:1]
        counts[label] = len(nodes)
        noun = _NOUN[lang].get(label, label)
        shown = nodes[: max(top_k, 1)]
        names = ", ".join(n.name for n in shown) + (
            f" (+{len(nodes) - len(shown)})" if len(nodes) > len(shown) else ""
        )
        lines.append(f"{noun} : {names or '—'}" if lang == "fr" else f"{noun}: {names or '—'}")
        for node in shown:
            items.append(EvidenceItem(len(items) + 1, node, 1.0, provenance(node), node.text))
    anchor_names = ", ".join(a.name for a in plan.anchors)
    head = ""
    if plan.window and not plan.anchors:
        start = plan.window.start.replace("T", " ").replace("Z", " UTC")
        head = (
            (f"Sans activité depuis {start}" if plan.negate else f"Actifs depuis {start}")
            if lang == "fr"
            else (f"No activity since {start}" if plan.negate else f"Active since {start}")
        )
    elif anchor_names:
        head = f"À partir de {anchor_names}" if lang == "fr" else f"From {anchor_names}"
    summary = (head + " — " if head else "") + " ; ".join(lines) + "."
    anchors = [
        EvidenceItem(len(items) + i + 1, a, 0.5, provenance(a), a.text or a.name)
        for i, a in enumerate(plan.anchors[:3])
    ]
    return EstateAnswer(items + anchors, edges, summary, counts)

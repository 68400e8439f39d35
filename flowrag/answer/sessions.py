"""Conversation sessions kept in the graph store (Session and Message nodes), with a TTL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flowrag.graph.port import Filter, GraphStore
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid
from flowrag.timeutil import to_iso

__all__ = ["SessionStore", "Turn", "rewrite_follow_up"]

_FOLLOW_UP = (
    "et ",
    "and ",
    "pourquoi",
    "why",
    "lequel",
    "laquelle",
    "lesquels",
    "which one",
    "it ",
    "ça",
    "celui",
    "celle",
    "those",
    "them",
    "ceux",
    "le même",
    "the same",
    "et pour",
    "what about",
    "et hier",
    "et avant",
)


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str
    at: str


def rewrite_follow_up(question: str, history: list[Turn]) -> str:
    """A short or anaphoric follow-up gets the previous question as context for retrieval."""
    if not history:
        return question
    low = question.strip().lower()
    if len(low.split()) <= 6 or low.startswith(_FOLLOW_UP):
        return f"{history[-1].question} — {question}"
    return question


class SessionStore:
    def __init__(self, store: GraphStore, ttl: timedelta = timedelta(hours=8), max_turns: int = 6) -> None:
        self._store = store
        self._ttl = ttl
        self._max_turns = max_turns

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    async def history(self, session_id: str) -> list[Turn]:
        found = await self._store.get_nodes([make_uid(NodeLabel.SESSION, session_id)])
        if not found:
            return []
        updated = str(found[0].props.get("updated_at", ""))
        if updated and updated < to_iso(datetime.now(UTC) - self._ttl):
            await self.purge([session_id])
            return []
        messages = await self._store.find_nodes(
            NodeLabel.MESSAGE.value,
            [Filter("session", "=", session_id)],
            order_by="key",
            descending=True,
            limit=self._max_turns,
        )
        return [
            Turn(str(m.props.get("question", "")), m.text, str(m.props.get("at", "")))
            for m in reversed(messages)
        ]

    async def append(self, session_id: str, question: str, answer: str) -> None:
        now = to_iso(datetime.now(UTC))
        count = await self._store.count_nodes(NodeLabel.MESSAGE.value, [Filter("session", "=", session_id)])
        key = f"{session_id}:{count:05d}"
        await self._store.upsert_nodes(
            [
                NodeRow(
                    NodeLabel.SESSION,
                    session_id,
                    "system",
                    "sessions",
                    session_id,
                    name=session_id,
                    props={"updated_at": now, "turns": count + 1},
                ),
                NodeRow(
                    NodeLabel.MESSAGE,
                    key,
                    "system",
                    "sessions",
                    key,
                    name=question[:80],
                    text=answer[:4000],
                    props={"session": session_id, "question": question[:2000], "at": now},
                ),
            ]
        )
        await self._store.upsert_relationships(
            [
                RelRow(
                    RelType.IN_SESSION,
                    make_uid(NodeLabel.MESSAGE, key),
                    make_uid(NodeLabel.SESSION, session_id),
                )
            ]
        )

    async def purge(self, session_ids: list[str] | None = None) -> int:
        """Delete the given sessions, or every session idle for longer than the TTL."""
        if session_ids is None:
            cutoff = to_iso(datetime.now(UTC) - self._ttl)
            idle = await self._store.find_nodes(
                NodeLabel.SESSION.value, [Filter("updated_at", "<", cutoff)], limit=10_000
            )
            session_ids = [s.key for s in idle]
        deleted = 0
        for sid in session_ids:
            messages = await self._store.find_nodes(
                NodeLabel.MESSAGE.value, [Filter("session", "=", sid)], limit=10_000
            )
            deleted += await self._store.delete_nodes(
                [m.uid for m in messages] + [make_uid(NodeLabel.SESSION, sid)]
            )
        return deleted

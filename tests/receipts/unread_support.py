"""What the unread tests share: a team conversation, raised budgets, and the count the
counters must equal, taken fresh from the rows."""

from __future__ import annotations

import uuid

from careline.conversations import service as conversation_service
from careline.conversations.records import Kind
from careline.db.tx import Actor, transaction
from careline.receipts import service as receipt_service
from tests.support.world import Persona, World

# The definition the counters stand in for (docs/protocol.md, "Receipts and unread counts").
FRESH_COUNT = (
    "SELECT p.account_id, (SELECT count(*) FROM messages m WHERE m.conversation_id = "
    "p.conversation_id AND m.seq > p.read_seq AND m.sender_id <> p.account_id "
    "AND m.redacted_at IS NULL) AS n FROM participants p WHERE p.conversation_id = $1"
)


async def open_team(world: World, *members: str) -> uuid.UUID:
    async with transaction(world["sam"].actor) as tx:
        conversation, _ = await conversation_service.do_open_conversation(
            tx,
            conversation_service.OpenRequest(
                kind=Kind.TEAM, member_ids=tuple(world[m].account_id for m in members)
            ),
        )
    return conversation.id


async def fresh_counts(world: World, conversation_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Every participant's unread count by count(*) over the rows."""
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        rows = await tx.conn.fetch(FRESH_COUNT, conversation_id)
    return {r["account_id"]: r["n"] for r in rows}


async def unread_of(person: Persona, conversation_id: uuid.UUID) -> int | None:
    """The person's unread count as careline reports it (None: not a participant)."""
    async with transaction(person.actor, readonly=True) as tx:
        counts = await receipt_service.unread_counts(tx, [conversation_id])
    return counts.get(conversation_id)


async def assert_exact(world: World, conversation_id: uuid.UUID, people: list[Persona]) -> None:
    fresh = await fresh_counts(world, conversation_id)
    reported = {p.account_id: await unread_of(p, conversation_id) for p in people}
    expected = {p.account_id: fresh.get(p.account_id) for p in people}
    assert reported == expected, {
        p.key: (reported[p.account_id], expected[p.account_id]) for p in people
    }

"""The clinic of issue 14, seeded fast: every fast-path write of the bench is here.

People go through careline's own service (tenants.do_add_member), as the other
scenarios' do; a few of them are signed in. Everything else (care relationships,
guardian links, conversations, participants, the timeline and about 200,000 messages)
goes in with COPY on the owner's connection, in one transaction:

- a message's text is sealed as a send seals it: kit.crypto.seal_many, which
  kit.crypto.seal (what a send's Keyring.encrypt calls) is made of, under the tenant's
  current data key, with the additional data a send gives it
  (`messages.body:<message id>:0`, the same `context|tenant|version` form), so history
  opens;
- each conversation's timeline is what sends leave: `conversation.created` at seq 1,
  then one `message.sent` event per message, gapless, the event and the message sharing
  seq and time; participants join at seq 0 (guardians are linked before conversations
  open, so they are in from the start, as `do_open_conversation` puts them);
- watermarks are what receipts leave: everyone has read everything but the readers the
  scenario measures;
- foreign-key triggers are skipped in that transaction (every id is made here or read
  from the rows it names), and the tables are vacuumed and analysed after it.

The last step, `recount_derived`, computes every number that sends keep up to date
(a conversation's last seq, last message seq and last activity) from the rows
themselves, so nothing derived is written by hand. tests/bench/test_clinic_seed.py
checks that the API shows the same world made this way and made by real sends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from careline.bench.seed import World
from careline.conversations.records import Kind
from careline.db.pool import connect_owner
from careline.db.tx import Actor, Role, Tx, transaction
from careline.keys import service as key_service
from careline.kit.ids import new_id
from careline.receipts import service as receipt_service

BATCH_ROWS = 20_000  # rows per COPY: bounded memory at any scale
TEXTS = (
    "Quick update: the session moved to Thursday at 4pm, same room.",
    "Thanks, that works for me. Should I bring the diary?",
    "Yes please, and the medication list if you have it to hand.",
    "How did the new routine go this week?",
    "Better than last week; mornings are still hard.",
    "That is progress. Let's look at mornings together on Thursday.",
)
# The seeded history starts this long before seeding: every timestamp is in the past,
# increasing with seq, as sends would have left them.
HISTORY_SPAN = dt.timedelta(days=30)
EVENT_STEP = dt.timedelta(milliseconds=10)
SENT = "message.sent"


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


CARE_RELATIONSHIPS_COLUMNS = _columns("tenant_id client_id staff_id is_primary")
GUARDIAN_LINKS_COLUMNS = _columns("tenant_id guardian_id client_id")
CONVERSATIONS_COLUMNS = _columns(
    "id tenant_id kind title client_id staff_id created_by created_at last_activity_at"
)
PARTICIPANTS_COLUMNS = _columns(
    "conversation_id account_id tenant_id role joined_at joined_seq delivered_seq read_seq"
)
EVENTS_COLUMNS = _columns("conversation_id seq tenant_id type actor_id message_id created_at")
MESSAGES_COLUMNS = _columns(
    "id tenant_id conversation_id seq sender_id client_msg_id body key_version created_at ordinal"
)
CREATED = "conversation.created"


def text_for(conversation: int, k: int) -> str:
    """The text of the k-th message (from 0) of the conversation-th conversation."""
    return f"{TEXTS[(conversation + k) % len(TEXTS)]} ({k + 1})"


def message_context(message_id: uuid.UUID) -> str:
    """The additional data a send seals a new message's text under (revision 0), as
    careline.messages.service builds it."""
    return f"messages.body:{message_id}:0"


@dataclass(slots=True)
class Conv:
    """One conversation to seed. People are indexes into the world's people."""

    kind: Kind
    creator: int
    members: list[tuple[int, Role]]
    messages: int
    senders: list[int]  # message k is sent by senders[k % len(senders)]
    client: int | None = None
    staff: int | None = None
    title: str | None = None
    readers: dict[int, int] = field(default_factory=dict)  # person -> read_seq kept
    name: str = ""  # the measured ones: "huge", "large", "marked"

    @property
    def last_seq(self) -> int:
        return self.messages + 1  # conversation.created, then one event per message


class FastPath:
    """COPY of the clinic's rows on one owner connection, in one transaction."""

    def __init__(self, conn: asyncpg.Connection, world: World, key: key_service.BoundKey):
        self.conn = conn
        self.world = world
        self.key = key
        self.tenant = world.tenant_id
        self.start = dt.datetime.now(dt.UTC) - HISTORY_SPAN
        self.ids: list[uuid.UUID] = []  # the conversations written, for recount_derived

    def _id(self, index: int) -> uuid.UUID:
        return self.world.people[index].account_id

    async def care_and_guardians(
        self, care: list[tuple[int, int, bool]], links: list[tuple[int, int]]
    ) -> None:
        """(client, staff, primary) care relationships and (guardian, client) links."""
        await self.conn.copy_records_to_table(
            "care_relationships",
            columns=CARE_RELATIONSHIPS_COLUMNS,
            records=[(self.tenant, self._id(c), self._id(s), p) for c, s, p in care],
        )
        await self.conn.copy_records_to_table(
            "guardian_links",
            columns=GUARDIAN_LINKS_COLUMNS,
            records=[(self.tenant, self._id(g), self._id(c)) for g, c in links],
        )

    async def conversations(self, convs: list[Conv]) -> list[uuid.UUID]:
        ids = self.ids = [new_id() for _ in convs]
        opened = [self.start + i * dt.timedelta(seconds=1) for i in range(len(convs))]
        await self.conn.copy_records_to_table(
            "conversations",
            columns=CONVERSATIONS_COLUMNS,
            records=[
                (
                    cid,
                    self.tenant,
                    c.kind.value,
                    c.title,
                    None if c.client is None else self._id(c.client),
                    None if c.staff is None else self._id(c.staff),
                    self._id(c.creator),
                    at,
                    at,
                )
                for cid, c, at in zip(ids, convs, opened, strict=True)
            ],
        )
        await self.conn.copy_records_to_table(
            "participants",
            columns=PARTICIPANTS_COLUMNS,
            records=[
                (
                    cid,
                    self._id(i),
                    self.tenant,
                    role.value,
                    at,
                    0,
                    c.last_seq,
                    c.readers.get(i, c.last_seq),
                )
                for cid, c, at in zip(ids, convs, opened, strict=True)
                for i, role in c.members
            ],
        )
        # Each batch is built (and its texts sealed) in a thread while PostgreSQL takes
        # the one before: the two cores work at once.
        batches = self._batches(list(zip(ids, convs, opened, strict=True)))
        # A task, so the thread starts now: a bare to_thread coroutine would not run
        # until awaited, after the copy.
        pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            events, messages = batch
            await self.conn.copy_records_to_table("events", columns=EVENTS_COLUMNS, records=events)
            await self.conn.copy_records_to_table(
                "messages", columns=MESSAGES_COLUMNS, records=messages
            )
        return ids

    def _batches(
        self, convs: list[tuple[uuid.UUID, Conv, dt.datetime]]
    ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """(events, messages) rows, about BATCH_ROWS messages at a time."""
        events: list[tuple[Any, ...]] = []
        todo: list[tuple[uuid.UUID, uuid.UUID, int, uuid.UUID, dt.datetime, str]] = []
        for n, (cid, c, at) in enumerate(convs):
            events.append((cid, 1, self.tenant, CREATED, self._id(c.creator), None, at))
            for k in range(c.messages):
                message_id, seq, sent_at = new_id(), k + 2, at + (k + 1) * EVENT_STEP
                sender = self._id(c.senders[k % len(c.senders)])
                events.append((cid, seq, self.tenant, SENT, sender, message_id, sent_at))
                todo.append((message_id, cid, seq, sender, sent_at, text_for(n, k)))
                if len(todo) >= BATCH_ROWS:
                    yield events, self._sealed(todo)
                    events, todo = [], []
        yield events, self._sealed(todo)

    def _sealed(
        self, todo: list[tuple[uuid.UUID, uuid.UUID, int, uuid.UUID, dt.datetime, str]]
    ) -> list[tuple[Any, ...]]:
        """Message rows, each text sealed as a send seals it."""
        bodies = self.key.seal_many([(t[5].encode(), message_context(t[0])) for t in todo])
        version = self.key.version
        return [
            # A conversation's messages are seqs 2, 3, ... after its creation: the
            # ordinal (position among its messages) is seq - 1, written here so that the
            # recount finds every ordinal right and rewrites none.
            (m, self.tenant, cid, seq, sender, f"seed-{seq}", body, version, at, seq - 1)
            for (m, cid, seq, sender, at, _), body in zip(todo, bodies, strict=True)
        ]

    async def recount_derived(self) -> None:
        """The numbers sends keep, from the rows: each conversation's last seq and its
        time (last activity), its last message's seq; watermarks capped at the last seq,
        delivered never below read (what receipts guarantee); the unread counters."""
        await self.conn.execute(
            "UPDATE conversations c SET last_seq = e.last_seq, last_activity_at = e.at, "
            "last_message_seq = coalesce(m.seq, 0) "
            "FROM (SELECT conversation_id, max(seq) AS last_seq, max(created_at) AS at "
            "      FROM events WHERE tenant_id = $1 GROUP BY conversation_id) e "
            "LEFT JOIN (SELECT conversation_id, max(seq) AS seq FROM messages "
            "           WHERE tenant_id = $1 GROUP BY conversation_id) m "
            "  ON m.conversation_id = e.conversation_id "
            "WHERE c.id = e.conversation_id",
            self.tenant,
        )
        # Sending is reading: a sender has read (and had delivered) up to their own last
        # message, whatever receipt they sent before it.
        await self.conn.execute(
            "WITH r AS (SELECT p.conversation_id, p.account_id, least(greatest(p.read_seq, "
            "  coalesce(max(m.seq), 0)), c.last_seq) AS read_seq "
            "  FROM participants p JOIN conversations c ON c.id = p.conversation_id "
            "  LEFT JOIN messages m ON m.conversation_id = p.conversation_id "
            "  AND m.sender_id = p.account_id "
            "  WHERE p.tenant_id = $1 GROUP BY p.conversation_id, p.account_id, p.read_seq, "
            "  c.last_seq) "
            "UPDATE participants p SET read_seq = r.read_seq, "
            "delivered_seq = least(greatest(p.delivered_seq, r.read_seq), c.last_seq) "
            "FROM r, conversations c WHERE r.conversation_id = p.conversation_id "
            "AND r.account_id = p.account_id AND c.id = p.conversation_id AND p.tenant_id = $1",
            self.tenant,
        )
        # The unread counters (message ordinals, per-reader counts) as sends and
        # receipts keep them, by the same recount careline's migration backfills with.
        await receipt_service.internal_recount_unread(
            Tx(self.conn, Actor.system(self.tenant)), self.ids
        )


@dataclass(slots=True)
class Rows:
    """What to write, people as indexes into the world's people."""

    care: list[tuple[int, int, bool]]  # (client, staff, primary)
    links: list[tuple[int, int]]  # (guardian, client)
    conversations: list[Conv]


async def write(
    owner_dsn: str, world: World, plan: Rows, *, took: dict[str, float] | None = None
) -> list[uuid.UUID]:
    """Write `plan` for `world` in one transaction, end with `recount_derived`, then
    vacuum and analyse. Returns the conversations' ids in the plan's order; `took`
    gets the seconds of each step."""
    took = {} if took is None else took
    async with transaction(Actor.system(world.tenant_id)) as t:
        key = await key_service.keyring().bound_key(t, world.tenant_id)
    conn = await connect_owner(owner_dsn)
    try:
        started = time.monotonic()
        async with conn.transaction():
            # Every id written here was just made, or read from the rows it names: the
            # foreign-key triggers (a look-up per key per row) are skipped for this
            # transaction, as a restore does; nothing else here has a trigger.
            await conn.execute("SET LOCAL session_replication_role = replica")
            fast = FastPath(conn, world, key)
            await fast.care_and_guardians(plan.care, plan.links)
            ids = await fast.conversations(plan.conversations)
            took["copy_s"] = time.monotonic() - started
            await fast.recount_derived()
            took["recount_s"] = time.monotonic() - started - took["copy_s"]
        started = time.monotonic()
        # Autovacuum would vacuum and analyse tables this size within a minute of the
        # inserts (insert-only tables too); the bench does it at once, so every run
        # measures a clinic in its steady state: statistics, hint bits, visibility map.
        await conn.execute("VACUUM (ANALYZE)")
        took["vacuum_s"] = time.monotonic() - started
    finally:
        await conn.close()
    return ids

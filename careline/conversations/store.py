"""SQL for conversations, participants and the timeline."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, NamedTuple

from careline.conversations.records import Conversation, Kind, Participant, TimelineEvent
from careline.db.tx import Role, Tx

_CONV = (
    "c.id, c.tenant_id, c.kind, c.title, c.client_id, c.staff_id, c.created_by, c.created_at, "
    "c.last_seq, c.last_message_seq, c.last_activity_at"
)
_PART = (
    "p.conversation_id, p.account_id, p.role, p.joined_at, p.archived, p.muted, "
    "p.delivered_seq, p.read_seq, p.notify"
)


class Appended(NamedTuple):
    seq: int
    created_at: dt.datetime
    message_count: int
    archived_others: bool
    frozen: bool


def _conversation(row: Any) -> Conversation:
    return Conversation(
        id=row["id"],
        tenant_id=row["tenant_id"],
        kind=Kind(row["kind"]),
        title=row["title"],
        client_id=row["client_id"],
        staff_id=row["staff_id"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_seq=row["last_seq"],
        last_message_seq=row["last_message_seq"],
        last_activity_at=row["last_activity_at"],
    )


def _participant(row: Any) -> Participant:
    return Participant(
        conversation_id=row["conversation_id"],
        account_id=row["account_id"],
        role=Role(row["role"]),
        joined_at=row["joined_at"],
        archived=row["archived"],
        muted=row["muted"],
        delivered_seq=row["delivered_seq"],
        read_seq=row["read_seq"],
        notify=row["notify"],
    )


def _event(row: Any) -> TimelineEvent:
    return TimelineEvent(
        conversation_id=row["conversation_id"],
        seq=row["seq"],
        type=row["type"],
        actor_id=row["actor_id"],
        message_id=row["message_id"],
        subject_id=row["subject_id"],
        data=row["data"],
        created_at=row["created_at"],
    )


async def insert_conversation(
    tx: Tx,
    *,
    conversation_id: uuid.UUID,
    kind: Kind,
    title: str | None,
    client_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
) -> None:
    # No RETURNING: the creator cannot read the row until they are a participant.
    await tx.conn.execute(
        "INSERT INTO conversations (id, tenant_id, kind, title, client_id, staff_id, created_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        conversation_id,
        tx.actor.tenant,
        kind.value,
        title,
        client_id,
        staff_id,
        tx.actor.account,
    )


async def insert_participants(
    tx: Tx, conversation_id: uuid.UUID, members: list[tuple[uuid.UUID, Role]], *, joined_seq: int
) -> None:
    await tx.conn.executemany(
        "INSERT INTO participants (conversation_id, account_id, tenant_id, role, joined_seq) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        [(conversation_id, a, tx.actor.tenant, r.value, joined_seq) for a, r in members],
    )


async def delete_participant(tx: Tx, conversation_id: uuid.UUID, account_id: uuid.UUID) -> bool:
    status = await tx.conn.execute(
        "DELETE FROM participants WHERE conversation_id = $1 AND account_id = $2",
        conversation_id,
        account_id,
    )
    return bool(status == "DELETE 1")


async def get_with_me(
    tx: Tx, conversation_id: uuid.UUID, account_id: uuid.UUID
) -> tuple[Conversation, Participant] | None:
    row = await tx.conn.fetchrow(
        f"SELECT {_CONV}, {_PART} FROM conversations c "  # noqa: S608 - constant columns
        "JOIN participants p ON p.conversation_id = c.id AND p.account_id = $2 WHERE c.id = $1",
        conversation_id,
        account_id,
    )
    return (_conversation(row), _participant(row)) if row else None


async def find_care(tx: Tx, *, client_id: uuid.UUID, staff_id: uuid.UUID) -> Conversation | None:
    row = await tx.conn.fetchrow(
        f"SELECT {_CONV} FROM conversations c WHERE c.tenant_id = $1 AND c.kind = 'care' "  # noqa: S608
        "AND c.client_id = $2 AND c.staff_id = $3",
        tx.actor.tenant,
        client_id,
        staff_id,
    )
    return _conversation(row) if row else None


async def find_support(tx: Tx, *, client_id: uuid.UUID) -> Conversation | None:
    row = await tx.conn.fetchrow(
        f"SELECT {_CONV} FROM conversations c WHERE c.tenant_id = $1 AND c.kind = 'support' "  # noqa: S608
        "AND c.client_id = $2",
        tx.actor.tenant,
        client_id,
    )
    return _conversation(row) if row else None


async def list_for_account(
    tx: Tx,
    account_id: uuid.UUID,
    *,
    archived: bool | None,
    before: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Conversation, Participant]]:
    rows = await tx.conn.fetch(
        f"SELECT {_CONV}, {_PART} FROM participants p "  # noqa: S608 - constant columns
        "JOIN conversations c ON c.id = p.conversation_id "
        "WHERE p.account_id = $1 AND p.tenant_id = $2 "
        "AND ($3::boolean IS NULL OR p.archived = $3) "
        "AND ($4::timestamptz IS NULL OR (c.last_activity_at, c.id) < ($4, $5::uuid)) "
        "ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $6",
        account_id,
        tx.actor.tenant,
        archived,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [(_conversation(r), _participant(r)) for r in rows]


async def list_ids_for_account(tx: Tx, account_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await tx.conn.fetch(
        "SELECT conversation_id FROM participants WHERE account_id = $1 AND tenant_id = $2",
        account_id,
        tx.actor.tenant,
    )
    return [r["conversation_id"] for r in rows]


async def list_ids_for_client(tx: Tx, client_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await tx.conn.fetch(
        "SELECT id FROM conversations WHERE tenant_id = $1 AND client_id = $2 "
        "AND kind IN ('care', 'support')",
        tx.actor.tenant,
        client_id,
    )
    return [r["id"] for r in rows]


async def list_participants(tx: Tx, conversation_ids: list[uuid.UUID]) -> list[Participant]:
    rows = await tx.conn.fetch(
        f"SELECT {_PART} FROM participants p WHERE p.conversation_id = ANY($1::uuid[]) "  # noqa: S608
        "ORDER BY p.conversation_id, p.joined_at, p.account_id",
        conversation_ids,
    )
    return [_participant(r) for r in rows]


async def count_participants(tx: Tx, conversation_id: uuid.UUID) -> int:
    value: int = await tx.conn.fetchval(
        "SELECT count(*) FROM participants WHERE conversation_id = $1", conversation_id
    )
    return value


async def update_my_settings(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    archived: bool | None,
    muted: bool | None,
    notify: str | None = None,
) -> None:
    await tx.conn.execute(
        "UPDATE participants SET archived = coalesce($3, archived), muted = coalesce($4, muted), "
        "notify = coalesce($5, notify) "
        "WHERE conversation_id = $1 AND account_id = $2",
        conversation_id,
        tx.actor.account,
        archived,
        muted,
        notify,
    )


async def append_event(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    type: str,  # noqa: A002 - the column's name
    message_id: uuid.UUID | None,
    subject_id: uuid.UUID | None,
    data: dict[str, Any],
    is_message: bool,
    as_participant: bool = False,
    staff_only: bool = False,
) -> Appended | None:
    """Take the conversation's next seq and record the event under it. The UPDATE holds
    the conversation row's lock until commit, which is what keeps seq gapless.
    Returns the seq, the event's time, the conversation's message count after it and
    whether others have it archived (below).

    With as_participant the UPDATE joins the actor's participant row, so the same round
    trip is the access check: None (and nothing written) unless the actor takes part.
    None without it: no such conversation.

    A message (is_message) also counts towards the unread counts (docs/architecture.md,
    "Receipts and unread counts"): the conversation's message_count, whose new value is
    the message's ordinal. Sending is reading: whoever replies has read what came before,
    so the sender's watermarks move to the message's seq and their counters to "all
    read" (read_messages = message_count, own_after_read = redacted_after_read = 0).
    Under the conversation's lock, like the seq. For a message it also says whether
    anyone else has the conversation archived (bring_back), from the snapshot the
    statement began with; else False. And whether the conversation is frozen (the
    caller refuses a participant's change then, which rolls all of this back).

    A staff_only event is read by the conversation's staff alone (migration 0015)."""
    participant = (
        "FROM participants p WHERE c.id = $1 AND p.conversation_id = c.id AND p.account_id = $7"
        if as_participant
        else "WHERE c.id = $1"
    )
    row = await tx.conn.fetchrow(
        f"""WITH s AS (
             UPDATE conversations c SET last_seq = c.last_seq + 1, last_activity_at = now(),
                    last_message_seq = CASE WHEN $6 THEN c.last_seq + 1
                                            ELSE c.last_message_seq END,
                    message_count = c.message_count + CASE WHEN $6 THEN 1 ELSE 0 END
             {participant}
             RETURNING c.last_seq, c.tenant_id, c.message_count, c.frozen_at IS NOT NULL AS frozen),
           own AS (
             UPDATE participants o SET read_seq = s.last_seq,
                    delivered_seq = greatest(o.delivered_seq, s.last_seq),
                    read_messages = s.message_count, own_after_read = 0,
                    redacted_after_read = 0
             FROM s WHERE $6 AND o.conversation_id = $1 AND o.account_id = $7),
           e AS (
             INSERT INTO events (conversation_id, seq, tenant_id, type, actor_id, message_id,
                                 subject_id, data, staff_only)
             SELECT $1, s.last_seq, s.tenant_id, $2, $7, $3, $4, $5, $8 FROM s
             RETURNING seq, created_at)
           SELECT e.seq, e.created_at, s.message_count, s.frozen,
                  $6 AND EXISTS (SELECT 1 FROM participants a WHERE a.conversation_id = $1
                                   AND a.archived AND a.account_id <> $7) AS archived_others
           FROM e, s""",  # noqa: S608 - two constant fragments
        conversation_id,
        type,
        message_id,
        subject_id,
        data,
        is_message,
        tx.actor.account,
        staff_only,
    )
    if row is None:
        return None
    return Appended(
        row["seq"], row["created_at"], row["message_count"], row["archived_others"], row["frozen"]
    )


async def bring_back(
    tx: Tx, conversation_id: uuid.UUID, sender_id: uuid.UUID
) -> list[tuple[uuid.UUID, bool]]:
    """A message from `sender_id` arrived: everyone else who has the conversation
    archived gets it back in their inbox, unless they keep archived conversations
    archived in this organisation (memberships.keep_archived, migration 0010). Returns
    (account_id, muted) of each. Changes other people's rows: run as the system, under
    the conversation's lock (the send's seq)."""
    rows = await tx.conn.fetch(
        "UPDATE participants p SET archived = false "
        "WHERE p.conversation_id = $1 AND p.account_id <> $2 AND p.archived "
        "AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = p.tenant_id "
        "AND m.account_id = p.account_id AND m.keep_archived) "
        "RETURNING p.account_id, p.muted",
        conversation_id,
        sender_id,
    )
    return [(r["account_id"], r["muted"]) for r in rows]


async def list_events(
    tx: Tx, conversation_id: uuid.UUID, *, after_seq: int, limit: int
) -> list[TimelineEvent]:
    # A range of seqs (gapless), not `LIMIT $3` alone: see list_events_after.
    rows = await tx.conn.fetch(
        "SELECT conversation_id, seq, type, actor_id, message_id, subject_id, data, created_at "
        "FROM events WHERE conversation_id = $1 AND seq > $2::bigint "
        "AND seq <= $2::bigint + $3::bigint ORDER BY seq",
        conversation_id,
        after_seq,
        limit,
    )
    return [_event(r) for r in rows]


# Batched reads for resume and catch-up probe the indexes once per named conversation
# through LATERAL, so every plan PostgreSQL may cache for them, generic ones included, is
# a nested loop of index probes: a conversation costs its own probe and rows, whatever
# the table holds. As a join or `= ANY`, a generic plan may scan a whole table with the
# row-level security probe on every row. The LIMIT and OFFSET 0 keep the planner from
# flattening a LATERAL back into a join.


async def get_last_seqs(tx: Tx, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await tx.conn.fetch(
        "SELECT c.id, c.last_seq FROM unnest($1::uuid[]) AS k(cid) "
        "CROSS JOIN LATERAL (SELECT id, last_seq FROM conversations c "
        "WHERE c.id = k.cid LIMIT 1) c",
        conversation_ids,
    )
    return {r["id"]: r["last_seq"] for r in rows}


async def list_events_after(
    tx: Tx, reads: list[tuple[uuid.UUID, int, int]]
) -> dict[uuid.UUID, tuple[int, list[TimelineEvent]]]:
    """For each (conversation, after_seq, limit), in one statement: the conversation's
    last_seq and its events with after_seq < seq <= after_seq + limit (seq is gapless:
    the first `limit` after it), both from the same snapshot. Conversations the actor
    cannot read are absent.

    A range of seqs, not `ORDER BY seq LIMIT n`: the planner believes the read policy
    lets through ~1 % of rows, so for "the first n" it would rather read the whole rest
    of the conversation through a bitmap (the policy's probe on every row) and sort it
    (docs/performance.md#clinic-scale-resume). A range bounds the rows either way."""
    rows = await tx.conn.fetch(
        "SELECT k.cid, c.last_seq, e.conversation_id, e.seq, e.type, e.actor_id, "
        "e.message_id, e.subject_id, e.data, e.created_at "
        "FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS k(cid, after_seq, until_seq) "
        "CROSS JOIN LATERAL (SELECT last_seq FROM conversations c "
        "WHERE c.id = k.cid LIMIT 1) c "
        "LEFT JOIN LATERAL (SELECT conversation_id, seq, type, actor_id, message_id, "
        "subject_id, data, created_at FROM events e WHERE e.conversation_id = k.cid "
        "AND e.seq > k.after_seq AND e.seq <= k.until_seq OFFSET 0) e ON true",
        [r[0] for r in reads],
        [r[1] for r in reads],
        [r[1] + r[2] for r in reads],
    )
    found: dict[uuid.UUID, tuple[int, list[TimelineEvent]]] = {}
    for row in rows:
        _, events = found.setdefault(row["cid"], (row["last_seq"], []))
        if row["seq"] is not None:
            events.append(_event(row))
    for _, events in found.values():
        events.sort(key=lambda e: e.seq)  # the statement's row order is not promised
    return found


async def is_frozen(tx: Tx, conversation_id: uuid.UUID) -> bool:
    frozen: bool | None = await tx.conn.fetchval(
        "SELECT frozen_at IS NOT NULL FROM conversations WHERE id = $1", conversation_id
    )
    return bool(frozen)

"""SQL for the watermark columns of participants and the unread counters kept beside them
(this domain owns those columns; it reads the conversation's last seq and message count,
and the messages' ordinals, to keep them).

unread = conversations.message_count - read_messages - own_after_read - redacted_after_read
(migration 0007 says what each number is). Every statement here that reads messages
reads only rows it is about to stop counting, through an index that holds nothing else:
no unread count costs the rows it counts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from careline.db.tx import Tx

# The statements the cost tests EXPLAIN (tests/receipts/test_unread_cost.py).
# LATERAL keeps the read a probe per key under any cached plan.
UNREAD_SQL = (
    "SELECT k.cid, u.n FROM unnest($2::uuid[]) AS k(cid) CROSS JOIN LATERAL ("
    "SELECT c.message_count - p.read_messages - p.own_after_read - p.redacted_after_read AS n "
    "FROM participants p JOIN conversations c ON c.id = p.conversation_id "
    "WHERE p.conversation_id = k.cid AND p.account_id = $1 LIMIT 1) u"
)


@dataclass(frozen=True, slots=True)
class Raised:
    delivered_seq: int
    read_seq: int
    was_delivered: int
    was_read: int
    last_seq: int
    unread: int


# The new counters are computed from the row as this statement's snapshot has it (`was`),
# and written only if the row still holds those counters when its lock is won. Under READ
# COMMITTED a statement that waited for the lock sees the row as the other transaction
# left it but the other tables as they were when it began: a redaction that committed
# meanwhile would be in the row's count and not in the messages it looked at. Then the
# UPDATE writes nothing and raise_watermarks runs it again holding the lock.
#
# A raise moves read_messages to the ordinal of the last message at or below the new
# watermark: one index probe, however far it jumps. Own and deleted messages in between
# are counted through indexes that hold only those (each is passed once per reader), and
# not at all when there are none above the watermark or the watermark reaches the end.
RAISE_SQL = """
WITH was AS (
  SELECT p.delivered_seq, p.read_seq, p.read_messages, p.own_after_read,
         p.redacted_after_read, c.last_seq, c.message_count,
         greatest(p.read_seq, least($4, c.last_seq)) AS read_to
  FROM participants p JOIN conversations c ON c.id = p.conversation_id
  WHERE p.conversation_id = $1 AND p.account_id = $2),
goal AS (
  SELECT was.*,
    greatest(was.delivered_seq, least($3, was.last_seq), was.read_to) AS delivered_to,
    CASE WHEN was.read_to = was.read_seq THEN was.read_messages
         WHEN was.read_to = was.last_seq THEN was.message_count
         ELSE coalesce((SELECT m.ordinal FROM messages m
                        WHERE m.conversation_id = $1 AND m.seq <= was.read_to
                        ORDER BY m.seq DESC LIMIT 1), 0) END AS read_messages_to,
    CASE WHEN was.read_to = was.last_seq THEN 0
         WHEN was.read_to = was.read_seq OR was.own_after_read = 0 THEN was.own_after_read
         ELSE was.own_after_read - (SELECT count(*) FROM messages m
                                    WHERE m.conversation_id = $1 AND m.sender_id = $2
                                      AND m.seq > was.read_seq AND m.seq <= was.read_to) END
      AS own_to,
    CASE WHEN was.read_to = was.last_seq THEN 0
         WHEN was.read_to = was.read_seq OR was.redacted_after_read = 0
           THEN was.redacted_after_read
         ELSE was.redacted_after_read - (SELECT count(*) FROM messages m
                                         WHERE m.conversation_id = $1
                                           AND m.redacted_at IS NOT NULL AND m.sender_id <> $2
                                           AND m.seq > was.read_seq AND m.seq <= was.read_to) END
      AS redacted_to
  FROM was),
written AS (
  UPDATE participants p SET
    delivered_seq = greatest(p.delivered_seq, g.delivered_to), read_seq = g.read_to,
    read_messages = g.read_messages_to, own_after_read = g.own_to,
    redacted_after_read = g.redacted_to
  FROM goal g
  WHERE p.conversation_id = $1 AND p.account_id = $2
    AND (p.read_seq, p.own_after_read, p.redacted_after_read)
        = (g.read_seq, g.own_after_read, g.redacted_after_read)
  RETURNING p.delivered_seq)
SELECT w.delivered_seq AS written_delivered, g.delivered_seq AS was_delivered,
       g.read_seq AS was_read, g.read_to, g.last_seq,
       g.message_count - g.read_messages_to - g.own_to - g.redacted_to AS unread
FROM goal g LEFT JOIN written w ON true
"""


async def raise_watermarks(
    tx: Tx, conversation_id: uuid.UUID, *, delivered_seq: int, read_seq: int
) -> Raised | None:
    """Raise the actor's watermarks, never past the conversation's last seq, and keep
    their unread counters with them. Returns the marks after and before, the last seq
    and the unread count; or None unless the actor takes part.

    One statement, access check included, because every read costs one (two, and a lock,
    when the row changed under it: see RAISE_SQL). `was` comes from the statement's
    snapshot: if another device of the same person raised the marks in the meantime it
    may be lower than the row just locked, which at worst announces a change twice
    (watermarks are idempotent), never misses one."""
    args = (conversation_id, tx.actor.account, delivered_seq, read_seq)
    row = await tx.conn.fetchrow(RAISE_SQL, *args)
    if row is None:
        return None
    if row["written_delivered"] is None:
        await tx.conn.execute(
            "SELECT 1 FROM participants WHERE conversation_id = $1 AND account_id = $2 FOR UPDATE",
            conversation_id,
            tx.actor.account,
        )
        row = await tx.conn.fetchrow(RAISE_SQL, *args)
        if row is None:  # removed from the conversation meanwhile
            return None
        assert row["written_delivered"] is not None, "the row's lock is held"
    return Raised(
        delivered_seq=row["written_delivered"],
        read_seq=row["read_to"],
        was_delivered=row["was_delivered"],
        was_read=row["was_read"],
        last_seq=row["last_seq"],
        unread=row["unread"],
    )


async def unread_counts(
    tx: Tx, account_id: uuid.UUID, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The account's unread count in each conversation: two rows read per conversation,
    whatever the backlog."""
    rows = await tx.conn.fetch(UNREAD_SQL, account_id, conversation_ids)
    return {r["cid"]: r["n"] for r in rows}


async def count_redaction(
    tx: Tx, conversation_id: uuid.UUID, *, seq: int, sender_id: uuid.UUID
) -> None:
    """The message at `seq` was deleted: it leaves the unread count of everyone else who
    had not read it. Changes other people's rows: run as the system. The caller holds
    the conversation's lock (its redaction event), so no one joins meanwhile; a reader
    raising their watermark at the same time is ordered by their row's lock."""
    await tx.conn.execute(
        "UPDATE participants SET redacted_after_read = redacted_after_read + 1 "
        "WHERE conversation_id = $1 AND account_id <> $2 AND read_seq < $3",
        conversation_id,
        sender_id,
        seq,
    )


_COUNT_FROM_ROWS = """
UPDATE participants p SET
  read_messages = (SELECT count(*) FROM messages m
                   WHERE m.conversation_id = p.conversation_id AND m.seq <= p.read_seq),
  own_after_read = (SELECT count(*) FROM messages m
                    WHERE m.conversation_id = p.conversation_id AND m.sender_id = p.account_id
                      AND m.seq > p.read_seq),
  redacted_after_read = (SELECT count(*) FROM messages m
                         WHERE m.conversation_id = p.conversation_id
                           AND m.sender_id <> p.account_id AND m.redacted_at IS NOT NULL
                           AND m.seq > p.read_seq)
"""


async def start_counts(tx: Tx, conversation_id: uuid.UUID, account_ids: list[uuid.UUID]) -> None:
    """Counters for people who just joined (read_seq 0: everything from others is
    unread). Reads only their own messages and the deleted ones. Run as the system."""
    await tx.conn.execute(
        f"{_COUNT_FROM_ROWS} WHERE p.conversation_id = $1 AND p.account_id = ANY($2::uuid[]) "
        "AND p.read_seq = 0",
        conversation_id,
        account_ids,
    )


async def recount_unread(tx: Tx, conversation_ids: list[uuid.UUID]) -> None:
    """Recompute every number the unread counts are made of from the rows themselves:
    the messages' ordinals, the conversations' message counts and every participant's
    counters. Reads the whole of each conversation: for a bulk insert that went around
    the send path (a benchmark's seed), never for a request. Run as the system."""
    await tx.conn.execute(
        "UPDATE messages m SET ordinal = o.n FROM (SELECT id, row_number() OVER "
        "(PARTITION BY conversation_id ORDER BY seq) AS n FROM messages "
        "WHERE conversation_id = ANY($1::uuid[])) o WHERE m.id = o.id AND m.ordinal <> o.n",
        conversation_ids,
    )
    await tx.conn.execute(
        "UPDATE conversations c SET message_count = "
        "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) "
        "WHERE c.id = ANY($1::uuid[])",
        conversation_ids,
    )
    await tx.conn.execute(
        f"{_COUNT_FROM_ROWS} WHERE p.conversation_id = ANY($1::uuid[])", conversation_ids
    )

"""SQL for the watermark columns of participants (this domain owns those two columns;
it reads the conversation's last seq only to cap them)."""

from __future__ import annotations

import uuid

from careline.db.tx import Tx


async def raise_watermarks(
    tx: Tx, conversation_id: uuid.UUID, *, delivered_seq: int, read_seq: int
) -> tuple[tuple[int, int], tuple[int, int], int] | None:
    """Raise the actor's watermarks, never past the conversation's last seq. Returns the
    (delivered, read) after and before, and the last seq; or None unless the actor takes
    part.

    One statement, access check included, because every read costs one. `was` comes from
    the statement's snapshot: if another device of the same person raised the marks in
    the meantime it may be lower than the row just locked, which at worst announces a
    change twice (watermarks are idempotent), never misses one."""
    row = await tx.conn.fetchrow(
        "UPDATE participants p SET "
        "delivered_seq = greatest(p.delivered_seq, least($3, c.last_seq), least($4, c.last_seq)), "
        "read_seq = greatest(p.read_seq, least($4, c.last_seq)) "
        "FROM conversations c, participants was "
        "WHERE p.conversation_id = $1 AND p.account_id = $2 AND c.id = $1 "
        "AND was.conversation_id = $1 AND was.account_id = $2 "
        "RETURNING p.delivered_seq, p.read_seq, was.delivered_seq AS was_delivered, "
        "was.read_seq AS was_read, c.last_seq",
        conversation_id,
        tx.actor.account,
        delivered_seq,
        read_seq,
    )
    if row is None:
        return None
    return (
        (row["delivered_seq"], row["read_seq"]),
        (row["was_delivered"], row["was_read"]),
        row["last_seq"],
    )

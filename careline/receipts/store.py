"""SQL for the watermark columns of participants (this domain owns those two columns)."""

from __future__ import annotations

import uuid

from careline.db.tx import Tx


async def raise_watermarks(
    tx: Tx, conversation_id: uuid.UUID, *, delivered_seq: int, read_seq: int
) -> tuple[int, int]:
    row = await tx.conn.fetchrow(
        "UPDATE participants SET delivered_seq = greatest(delivered_seq, $3, $4), "
        "read_seq = greatest(read_seq, $4) WHERE conversation_id = $1 AND account_id = $2 "
        "RETURNING delivered_seq, read_seq",
        conversation_id,
        tx.actor.account,
        delivered_seq,
        read_seq,
    )
    assert row is not None
    return row["delivered_seq"], row["read_seq"]

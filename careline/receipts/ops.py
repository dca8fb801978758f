"""Socket op receipt.update: move your delivered / read watermarks forward."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field, StrictInt

from careline.db.tx import transaction
from careline.realtime.protocol import OpArgs, Session, op
from careline.receipts import service as receipt_service


class ReceiptArgs(OpArgs):
    conversation_id: uuid.UUID
    delivered_seq: StrictInt | None = Field(None, ge=0, le=2**62)
    read_seq: StrictInt | None = Field(None, ge=0, le=2**62)


@op("receipt.update", ReceiptArgs)
async def update(session: Session, args: ReceiptArgs) -> dict[str, Any]:
    async with transaction(session.actor) as tx:
        receipt = await receipt_service.do_update_receipt(
            tx, args.conversation_id, delivered_seq=args.delivered_seq, read_seq=args.read_seq
        )
    return {
        "delivered_seq": receipt.delivered_seq,
        "read_seq": receipt.read_seq,
        "unread": receipt.unread,
    }

"""Socket op receipt.update: move your delivered / read watermarks forward."""

from __future__ import annotations

import uuid
from typing import Any

from careline.db.tx import transaction
from careline.kit.fields import Seq
from careline.realtime.protocol import OpArgs, Session, op
from careline.receipts import service as receipt_service


class ReceiptArgs(OpArgs):
    conversation_id: uuid.UUID
    delivered_seq: Seq | None = None
    read_seq: Seq | None = None


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

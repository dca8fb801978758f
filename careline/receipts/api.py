"""HTTP: mark a conversation delivered / read up to a seq."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.receipts import service as receipt_service
from careline.receipts.schemas import ReceiptRead, ReceiptWrite
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1", tags=["receipts"], responses=ERRORS)


@router.post("/conversations/{conversation_id}/receipt", response_model=ReceiptRead)
async def update_receipt(
    conversation_id: uuid.UUID, body: ReceiptWrite, actor: CurrentActor
) -> dict[str, Any]:
    """Move your delivered and/or read watermark forward (never back)."""
    async with transaction(actor) as tx:
        r = await receipt_service.do_update_receipt(
            tx, conversation_id, delivered_seq=body.delivered_seq, read_seq=body.read_seq
        )
    return {"delivered_seq": r.delivered_seq, "read_seq": r.read_seq, "unread": r.unread}

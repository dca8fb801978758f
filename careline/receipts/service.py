"""Receipts: how far each participant has received and read.

Watermarks only move forward and never past the conversation's last seq. A change goes to
every participant's sockets, so the sender sees "delivered"/"seen" and the reader's other
devices clear their unread count.

Each update spends from the reader's receipts budget (careline/kit/budgets.py). Over it
the update is refused with OverBudget rather than dropped: a dropped receipt would leave
the watermark behind while the client believes it moved, and the next update (the latest
watermark) covers everything the refused one would have.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import orjson

from careline import config
from careline.db.tx import Tx
from careline.kit import budgets
from careline.kit.errors import InvalidInput, NotFound
from careline.kit.events import Event
from careline.messages import service as message_service
from careline.receipts import store

RECEIPT_UPDATED = "receipt.updated"


@dataclass(frozen=True, slots=True)
class Receipt:
    conversation_id: uuid.UUID
    account_id: uuid.UUID
    delivered_seq: int
    read_seq: int
    unread: int


async def do_update_receipt(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    delivered_seq: int | None = None,
    read_seq: int | None = None,
) -> Receipt:
    """Move the actor's watermarks forward. Emits receipt.updated when they moved.
    Raises InvalidInput, NotFound, OverBudget."""
    if delivered_seq is None and read_seq is None:
        raise InvalidInput("give delivered_seq or read_seq", code="empty_receipt")
    if (delivered_seq or 0) < 0 or (read_seq or 0) < 0:
        raise InvalidInput("seq values are never negative", code="invalid_seq")
    if tx.actor.account_id is None:
        raise NotFound("no such conversation")
    await budgets.spend(
        budgets.charge("receipts", config.current().budget_receipts, str(tx.actor.account_id))
    )
    raised = await store.raise_watermarks(
        tx, conversation_id, delivered_seq=delivered_seq or 0, read_seq=read_seq or 0
    )
    if raised is None:
        raise NotFound("no such conversation")
    (delivered, read), was, last_seq = raised
    # Read to the end is the common case, and needs no count.
    unread = (
        0
        if read == last_seq
        else (await message_service.unread_counts(tx, [(conversation_id, read)]))[conversation_id]
    )
    receipt = Receipt(conversation_id, tx.actor.account, delivered, read, unread)
    if (delivered, read) != was:
        payload = {
            "conversation_id": str(conversation_id),
            "account_id": str(tx.actor.account),
            "delivered_seq": delivered,
            "read_seq": read,
        }
        tx.emit(
            Event(
                type=RECEIPT_UPDATED,
                tenant_id=tx.actor.tenant,
                conversation_id=conversation_id,
                data=payload,
                frame=orjson.dumps({"op": RECEIPT_UPDATED, **payload, "unread": unread}).decode(),
            )
        )
    return receipt

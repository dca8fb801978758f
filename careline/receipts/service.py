"""Receipts: how far each participant has received and read, and unread counts.

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
from careline.notifications import service as notification_service
from careline.receipts import store
from careline.reports import service as report_service

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
    delivered, read, unread = raised.delivered_seq, raised.read_seq, raised.unread
    was = (raised.was_delivered, raised.was_read)
    receipt = Receipt(conversation_id, tx.actor.account, delivered, read, unread)
    if read > raised.was_read:
        await notification_service.internal_conversation_read(tx, conversation_id, read_seq=read)
        await report_service.note_active(tx)
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


async def unread_counts(tx: Tx, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The actor's unread count in each of these conversations (absent: not in it).
    Unread = messages from others, not deleted, above the actor's read watermark; read
    from counters kept as messages are written, at the same cost whatever the backlog."""
    if not conversation_ids or tx.actor.account_id is None:
        return {}
    return await store.unread_counts(tx, tx.actor.account_id, conversation_ids)


async def internal_count_redaction(
    tx: Tx, conversation_id: uuid.UUID, *, seq: int, sender_id: uuid.UUID
) -> None:
    """For messages: the message at `seq` was deleted, under the conversation's lock
    (its redaction event); it no longer counts as unread for anyone. It changes other
    people's rows: call it inside `tx.as_system()`."""
    await store.count_redaction(tx, conversation_id, seq=seq, sender_id=sender_id)


async def internal_start_counts(
    tx: Tx, conversation_id: uuid.UUID, account_ids: list[uuid.UUID]
) -> None:
    """For conversations: these people just joined, under the conversation's lock; all
    earlier messages from others that are not deleted are unread for them. It changes
    other people's rows: call it inside `tx.as_system()`."""
    await store.start_counts(tx, conversation_id, account_ids)


async def internal_recount_unread(tx: Tx, conversation_ids: list[uuid.UUID]) -> None:
    """System: recompute the unread counters of these conversations from their rows,
    after a bulk insert that did not go through do_send_message (careline bench's seed).
    Reads every message of each conversation."""
    await store.recount_unread(tx, conversation_ids)

"""Notification records: who is told of what, inside the transaction that causes it.

`do_notify_message` is called by messages for every send; `do_notify` by any domain for
any registered kind (escalation now; calls, appointments and safeguarding later). Both
write the recipients' records as the system (they are other people's rows), emit
`notification.updated` to each recipient's own sockets, and hand what became due to
delivery (delivery.schedule), which defers its jobs after commit.

Reading a conversation (receipts) marks its records read and cancels what was still due
outside the app: `internal_conversation_read`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from careline import config
from careline.db.tx import Tx
from careline.kit import clock, limits
from careline.kit.errors import NotFound
from careline.kit.events import Event
from careline.kit.pagination import encode_cursor
from careline.notifications import delivery, escalation_store, store
from careline.notifications.kinds import Kind, Priority

NOTIFICATION_UPDATED = "notification.updated"
NOTIFICATION_READ = "notification.read"
CONVERSATION_WAITING = "conversation.waiting"


def wire(row: Any) -> dict[str, Any]:
    """A record as the API and the socket show it to its recipient: ids and counts."""
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "conversation_id": str(row["conversation_id"]) if row["conversation_id"] else None,
        "object_id": str(row["object_id"]),
        "count": row["count"],
        "first_seq": row["first_seq"],
        "last_seq": row["last_seq"],
        "priority": row["priority"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "read_at": row["read_at"].isoformat() if row["read_at"] else None,
    }


def _emit_updated(tx: Tx, rows: Sequence[Any]) -> None:
    for row in rows:
        body = {"tenant_id": str(row["tenant_id"]), "notification": wire(row)}
        tx.emit(
            Event(
                type=NOTIFICATION_UPDATED,
                tenant_id=row["tenant_id"],
                account_ids=(row["account_id"],),
                data={"notification_id": str(row["id"])},
                frame=orjson.dumps({"op": NOTIFICATION_UPDATED, **body}).decode(),
            )
        )


def emit_read(tx: Tx, account_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    """notification.read to the reader's own sockets: every device clears them."""
    if not ids:
        return
    delivery.forget(tx, ids)
    payload = {"tenant_id": str(tx.actor.tenant), "ids": [str(i) for i in ids]}
    tx.emit(
        Event(
            type=NOTIFICATION_READ,
            tenant_id=tx.actor.tenant,
            account_ids=(account_id,),
            data=payload,
        )
    )


async def do_notify_message(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    seq: int,
    replied_to: uuid.UUID | None,
) -> None:
    """For messages: the actor sent the message at `seq` (a reply to `replied_to`'s
    message, if any). Tells the other participants; the sender's own record of the
    conversation is read (sending is reading)."""
    if tx.actor.role.is_staff:  # a staff reply ends what waited before it
        await internal_close_escalations(tx, conversation_id, read_seq=seq)
    settings = config.current()
    if not settings.notifications_enabled:
        return
    told, seen = await store.tell_participants(
        tx,
        conversation_id,
        seq=seq,
        replied_to=replied_to,
        push_delay=settings.notify_push_delay_seconds,
        email_delay=settings.notify_email_delay_seconds,
    )
    _emit_updated(tx, told)
    emit_read(tx, tx.actor.account, [row["id"] for row in seen])
    delivery.schedule(tx, told)


async def do_notify(
    tx: Tx,
    kind: Kind,
    account_ids: Sequence[uuid.UUID],
    *,
    object_id: uuid.UUID,
    conversation_id: uuid.UUID | None = None,
    seq: int | None = None,
    priority: Priority = "normal",
) -> list[dict[str, Any]]:
    """Tell these members of the actor's tenant about `object_id` (a conversation, a
    call, an appointment...). An unread record for the same kind and object gains one
    in its count instead of a second record. Returns the records as `wire` shows them."""
    settings = config.current()
    if not account_ids or not settings.notifications_enabled:
        return []
    async with tx.as_system():
        told = await store.tell(
            tx,
            kind=kind.name,
            account_ids=list(dict.fromkeys(account_ids)),
            object_id=object_id,
            conversation_id=conversation_id,
            seq=seq,
            priority=priority,
            push_delay=settings.notify_push_delay_seconds,
            email_delay=settings.notify_email_delay_seconds,
        )
    _emit_updated(tx, told)
    delivery.schedule(tx, told)
    return [wire(row) for row in told]


async def internal_conversation_read(tx: Tx, conversation_id: uuid.UUID, *, read_seq: int) -> None:
    """For receipts: the actor's read watermark in the conversation rose to `read_seq`."""
    if tx.actor.account_id is None:
        return
    seen = await store.mark_conversation_read(tx, conversation_id, read_seq=read_seq)
    emit_read(tx, tx.actor.account, [row["id"] for row in seen])
    if tx.actor.role.is_staff:
        await internal_close_escalations(tx, conversation_id, read_seq=read_seq)


async def internal_close_escalations(
    tx: Tx, conversation_id: uuid.UUID, *, read_seq: int, at: dt.datetime | None = None
) -> None:
    """A staff participant read (or replied) up to `read_seq`: what waited up to there
    is no longer escalated (escalation.py), and the care team's and admins' notices of
    it are read on every device of theirs."""
    # One look first, as the actor (staff see which conversations wait): nearly every
    # staff send and read meets no escalation, and resolving switches role twice.
    if not await escalation_store.any_open(tx, conversation_id, read_seq=read_seq):
        return
    async with tx.as_system():
        seen = await escalation_store.resolve(
            tx, conversation_id, read_seq=read_seq, at=at or clock.now()
        )
    by_account: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in seen:
        if row["what"] == "seen":
            by_account.setdefault(row["account_id"], []).append(row["id"])
    for account_id, ids in by_account.items():
        emit_read(tx, account_id, ids)
    staff = tuple(row["account_id"] for row in seen if row["what"] == "staff")
    emit_waiting(tx, conversation_id, staff, since=None)


def emit_waiting(
    tx: Tx,
    conversation_id: uuid.UUID,
    account_ids: Sequence[uuid.UUID],
    *,
    since: dt.datetime | None,
) -> None:
    """conversation.waiting to these staff participants' sockets: the conversation has
    waited since `since` (escalated), or waits no more (None)."""
    if not account_ids:
        return
    tx.emit(
        Event(
            type=CONVERSATION_WAITING,
            tenant_id=tx.actor.tenant,
            account_ids=tuple(account_ids),
            data={
                "tenant_id": str(tx.actor.tenant),
                "conversation_id": str(conversation_id),
                "waiting_since": since.isoformat() if since else None,
            },
        )
    )


# The notification centre (the bell): a person's own records --------------------------


async def list_notifications(
    tx: Tx, *, before: tuple[Any, uuid.UUID] | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The actor's records, most recently told first, and the cursor of the next page
    (None on the last)."""
    rows = await store.list_recent(tx, before=before, limit=limit)
    last = rows[-1] if len(rows) == limit else None
    cursor = encode_cursor([last["updated_at"].isoformat(), str(last["id"])]) if last else None
    return [wire(row) for row in rows], cursor


async def summary(tx: Tx) -> dict[str, int]:
    """What the bell shows: `unread` records (one per conversation or object with news)
    and the `messages` they count."""
    records, messages = await store.unread_summary(tx)
    return {"unread": records, "messages": messages}


async def centre(tx: Tx) -> dict[str, Any]:
    """The summary and the newest records, for `resume`'s ack: a device that was away
    shows the right bell without asking again."""
    items, cursor = await list_notifications(
        tx, before=None, limit=limits.NOTIFICATIONS_RESUME_ITEMS
    )
    return {**await summary(tx), "items": items, "next_cursor": cursor}


async def do_mark_read(tx: Tx, *, ids: Sequence[uuid.UUID] | None) -> list[uuid.UUID]:
    """Mark the actor's records read: these `ids`, or (None) every open one. Marking a
    record that is already read is no change; an id that is not the actor's own (or does
    not exist) raises NotFound and nothing changes. What was still due outside the app
    is cancelled. Emits notification.read with the ids that changed to every device of
    the actor in this organisation; returns them."""
    wanted = None if ids is None else list(dict.fromkeys(ids))
    if wanted is not None and await store.count_own(tx, wanted) != len(wanted):
        raise NotFound("no such notification")
    changed = [row["id"] for row in await store.mark_read(tx, wanted)]
    emit_read(tx, tx.actor.account, changed)
    return changed


async def internal_prune(tx: Tx, *, older_than: dt.datetime) -> tuple[int, int]:
    """System, any organisation: remove read records last changed before `older_than`,
    and attempts made before it. Returns how many of each."""
    return await store.prune(tx, older_than=older_than)

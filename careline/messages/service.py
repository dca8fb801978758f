"""Sending, editing, redacting and reacting to messages; history.

Text is encrypted before it reaches the database, under the tenant's current data key,
with additional data naming the message and revision. A send is idempotent on
(conversation, sender, client_msg_id): a retry returns the original message.

Sends and reactions spend from the sender's budgets (careline/kit/budgets.py) before
anything else is done; over one they raise OverBudget and change nothing.

Errors: NotFound (no such message or conversation for this actor), Forbidden (not your
message; revision history is for staff), Conflict (already redacted), InvalidInput (text,
ids or emoji outside the documented limits), OverBudget (429 rate_limited).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from careline import config
from careline.attachments import service as attachment_service
from careline.conversations import service as conversation_service
from careline.db.tx import Actor, Tx
from careline.keys import service as key_service
from careline.kit import budgets, clock, limits
from careline.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from careline.kit.events import Event
from careline.kit.ids import new_id
from careline.kit.text import clean_text
from careline.messages import store
from careline.messages.events import (
    MESSAGE_EDITED,
    MESSAGE_REDACTED,
    MESSAGE_SENT,
    REACTION_ADDED,
    REACTION_REMOVED,
    event_frame,
    message_wire,
)
from careline.messages.records import Message, Revision
from careline.notifications import service as notification_service
from careline.receipts import service as receipt_service
from careline.reports import service as report_service

_CLIENT_MSG_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def check_client_msg_id(value: str) -> str:
    if not _CLIENT_MSG_ID.match(value):
        raise InvalidInput(
            "client_msg_id: 1-64 characters of letters, digits and _ . : -",
            code="invalid_client_msg_id",
        )
    return value


def check_text(value: str) -> str:
    return clean_text(
        value, field="message text", max_chars=limits.MESSAGE_TEXT_MAX_CHARS, multiline=True
    )


def check_emoji(value: str) -> str:
    emoji = unicodedata.normalize("NFC", value)
    ok = 0 < len(emoji) <= limits.REACTION_MAX_CHARS and all(
        unicodedata.category(ch) in ("So", "Sk", "Mn", "Me", "Cf") or ch in "\u200d\ufe0f"
        for ch in emoji
    )
    if not ok or not any(unicodedata.category(ch) == "So" for ch in emoji):
        raise InvalidInput("a reaction is a single emoji", code="invalid_emoji")
    return emoji


def _context(message_id: uuid.UUID, revision: int) -> str:
    return f"messages.body:{message_id}:{revision}"


async def _decrypt(tx: Tx, row: Any, *, message_id: uuid.UUID | None = None) -> str:
    """The text of a messages row, or of a message_revisions row (pass its message_id)."""
    plain = await key_service.keyring().decrypt(
        tx,
        row["tenant_id"],
        bytes(row["body"]),
        version=row["key_version"],
        context=_context(message_id or row["id"], row["revision"]),
    )
    return plain.decode()


async def _to_messages(tx: Tx, rows: list[Any]) -> list[Message]:
    if not rows:
        return []
    reactions: dict[uuid.UUID, dict[str, list[uuid.UUID]]] = {}
    for r in await store.list_reactions(tx, [row["id"] for row in rows]):
        reactions.setdefault(r["message_id"], {}).setdefault(r["emoji"], []).append(r["account_id"])
    # A deleted message's files go with its text: participants never get them again.
    files = await attachment_service.for_messages(
        tx, [row["id"] for row in rows if not row["redacted_at"]]
    )
    return [
        Message(
            id=row["id"],
            conversation_id=row["conversation_id"],
            seq=row["seq"],
            sender_id=row["sender_id"],
            client_msg_id=row["client_msg_id"],
            reply_to_id=row["reply_to_id"],
            text=None if row["redacted_at"] else await _decrypt(tx, row),
            revision=row["revision"],
            created_at=row["created_at"],
            edited_at=row["edited_at"],
            redacted_at=row["redacted_at"],
            reactions=reactions.get(row["id"], {}),
            attachments=tuple(files.get(row["id"], ())),
        )
        for row in rows
    ]


async def _access_message(tx: Tx, message_id: uuid.UUID) -> Any:
    row = await store.get(tx, message_id)
    if row is None:
        raise NotFound("no such message")
    await conversation_service.access_conversation(tx, row["conversation_id"])
    return row


async def _access_own_message(tx: Tx, message_id: uuid.UUID, *, action: str) -> Any:
    """The actor's own message, locked for a change. (FOR UPDATE also applies the
    sender-only UPDATE policy, so the sender check must come first to answer 403, not
    404, to other participants.)"""
    row = await _access_message(tx, message_id)
    if row["sender_id"] != tx.actor.account_id:
        raise Forbidden(f"only the sender can {action} a message", code="not_sender")
    locked = await store.lock(tx, message_id)
    if locked["redacted_at"] is not None:
        raise Conflict("this message was deleted", code="redacted")
    return locked


def _emit(
    tx: Tx,
    type_: str,
    *,
    conversation_id: uuid.UUID,
    seq: int,
    created_at: str,
    body: dict[str, Any],
    data: dict[str, Any],
) -> None:
    tx.emit(
        Event(
            type=type_,
            tenant_id=tx.actor.tenant,
            conversation_id=conversation_id,
            seq=seq,
            data=data,
            frame=event_frame(
                type_,
                conversation_id=str(conversation_id),
                seq=seq,
                created_at=created_at,
                body=body,
            ),
        )
    )


async def check_send_budget(actor: Actor, conversation_id: uuid.UUID) -> None:
    """Spend one send from the actor's budgets, in this conversation and in all: called
    before the send's transaction opens, so a flood is refused without touching the
    database. System actions (no person) have no budget. Raises OverBudget."""
    if actor.account_id is None:
        return
    settings, person = config.current(), str(actor.account_id)
    await budgets.spend(
        budgets.charge(
            "sends_per_conversation",
            settings.budget_sends_per_conversation,
            person,
            str(conversation_id),
        ),
        budgets.charge("sends", settings.budget_sends, person),
    )


class SentBefore(Exception):
    """This client_msg_id was used by the sender in the conversation before. The send
    has taken a seq, so its transaction must roll back; `sent_before` then returns the
    original (careline.messages.sending does both)."""


async def sent_before(tx: Tx, conversation_id: uuid.UUID, client_msg_id: str) -> Message:
    """The actor's earlier message with this client_msg_id (after SentBefore)."""
    await conversation_service.access_conversation(tx, conversation_id)
    row = await store.get_by_client_msg_id(tx, conversation_id, tx.actor.account, client_msg_id)
    if row is None:  # the conversation's history is never deleted
        raise NotFound("no such message")
    return (await _to_messages(tx, [row]))[0]


async def do_send_message(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    client_msg_id: str,
    text: str,
    reply_to_id: uuid.UUID | None = None,
    attachment_ids: list[uuid.UUID] | None = None,
) -> Message:
    """Send a message; emits message.sent. Raises SentBefore for a retry of an earlier
    send with the same client_msg_id. With `attachment_ids` (the sender's own uploads
    here, scanned clean, not sent yet) the text may be empty."""
    check_client_msg_id(client_msg_id)
    text = check_text(text) if text.strip() or not attachment_ids else ""
    message_id = new_id()
    body, key_version = await key_service.keyring().encrypt(
        tx, tx.actor.tenant, text.encode(), context=_context(message_id, 0)
    )
    # One statement checks access, locks the conversation and takes the seq; the lock is
    # held from there to COMMIT, two round trips later. It orders this send after any
    # other in the conversation, a retry racing its original included: the original is
    # committed by the time the insert below meets its client_msg_id. Retries are rare,
    # so they are found by that insert rather than by a look-up before every send.
    seq, ordinal = await conversation_service.internal_append_message(
        tx, conversation_id, type_=MESSAGE_SENT, message_id=message_id
    )
    replied_to = None
    if reply_to_id is not None:
        target = await store.get(tx, reply_to_id)
        if target is None or target["conversation_id"] != conversation_id:
            raise InvalidInput(
                "reply_to_id is not a message of this conversation", code="bad_reply"
            )
        replied_to = target["sender_id"]
    created_at = await store.insert(
        tx,
        message_id=message_id,
        conversation_id=conversation_id,
        seq=seq,
        ordinal=ordinal,
        client_msg_id=client_msg_id,
        reply_to_id=reply_to_id,
        body=body,
        key_version=key_version,
    )
    if created_at is None:
        raise SentBefore(client_msg_id)
    await report_service.note_active(tx)
    files = await attachment_service.internal_attach(
        tx,
        conversation_id=conversation_id,
        message_id=message_id,
        attachment_ids=attachment_ids or [],
    )
    await notification_service.do_notify_message(
        tx, conversation_id, seq=seq, replied_to=replied_to
    )
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        seq=seq,
        sender_id=tx.actor.account,
        client_msg_id=client_msg_id,
        reply_to_id=reply_to_id,
        text=text,
        revision=0,
        created_at=created_at,
        edited_at=None,
        redacted_at=None,
        attachments=tuple(files),
    )
    _emit(
        tx,
        MESSAGE_SENT,
        conversation_id=conversation_id,
        seq=seq,
        created_at=created_at.isoformat(),
        body={"message": message_wire(message)},
        data={"message_id": str(message_id), "sender_id": str(tx.actor.account)},
    )
    return message


async def _record_change(tx: Tx, type_: str, row: Any) -> Message:
    """Put an edit or redaction of `row`'s message on the timeline and emit it, carrying
    the message as it now is."""
    message_id, conversation_id = row["id"], row["conversation_id"]
    seq = await conversation_service.internal_append_event(
        tx, conversation_id, type_=type_, message_id=message_id
    )
    message = (await _to_messages(tx, [await store.get(tx, message_id)]))[0]
    changed_at = message.redacted_at if type_ == MESSAGE_REDACTED else message.edited_at
    _emit(
        tx,
        type_,
        conversation_id=conversation_id,
        seq=seq,
        created_at=changed_at.isoformat() if changed_at else "",
        body={"message": message_wire(message)},
        data={"message_id": str(message_id)},
    )
    return message


async def do_edit_message(tx: Tx, message_id: uuid.UUID, *, text: str) -> Message:
    """Replace a message's text; the old text is kept as a revision. Only the sender
    edits, and not after redaction. Emits message.edited."""
    text = check_text(text)
    row = await _access_own_message(tx, message_id, action="edit")
    if await _decrypt(tx, row) == text:
        return (await _to_messages(tx, [row]))[0]
    revision = row["revision"] + 1
    body, key_version = await key_service.keyring().encrypt(
        tx, row["tenant_id"], text.encode(), context=_context(message_id, revision)
    )
    await store.insert_revision(tx, row)
    await store.update_body(tx, message_id, revision=revision, body=body, key_version=key_version)
    return await _record_change(tx, MESSAGE_EDITED, row)


async def do_redact_message(tx: Tx, message_id: uuid.UUID) -> Message:
    """Delete a message for its participants. The text stays in the database (encrypted)
    for audit and retention, and is never sent to a participant again.
    Emits message.redacted."""
    row = await _access_own_message(tx, message_id, action="delete")
    await store.mark_redacted(tx, message_id)
    message = await _record_change(tx, MESSAGE_REDACTED, row)
    # After the redaction event: its seq holds the conversation's lock, so no one joins
    # or leaves while the unread counters are changed.
    async with tx.as_system():
        await receipt_service.internal_count_redaction(
            tx, row["conversation_id"], seq=row["seq"], sender_id=row["sender_id"]
        )
    return message


async def do_react(tx: Tx, message_id: uuid.UUID, *, emoji: str, add: bool) -> int | None:
    """Add or remove the actor's reaction. Returns the event's seq, or None when nothing
    changed (adding twice, removing what is not there). Emits reaction.added/removed."""
    emoji = check_emoji(emoji)
    if tx.actor.account_id is not None:
        await budgets.spend(
            budgets.charge("reactions", config.current().budget_reactions, str(tx.actor.account_id))
        )
    row = await _access_message(tx, message_id)
    if row["redacted_at"] is not None:
        raise Conflict("this message was deleted", code="redacted")
    if add:
        changed = await store.insert_reaction(
            tx, message_id=message_id, conversation_id=row["conversation_id"], emoji=emoji
        )
    else:
        changed = await store.delete_reaction(tx, message_id=message_id, emoji=emoji)
    if not changed:
        return None
    type_ = REACTION_ADDED if add else REACTION_REMOVED
    data = {"message_id": str(message_id), "emoji": emoji, "account_id": str(tx.actor.account)}
    seq = await conversation_service.internal_append_event(
        tx,
        row["conversation_id"],
        type_=type_,
        message_id=message_id,
        data={"emoji": emoji},
    )
    _emit(
        tx,
        type_,
        conversation_id=row["conversation_id"],
        seq=seq,
        created_at=clock.now().isoformat(),
        body=data,
        data=data,
    )
    return seq


async def history(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    before_seq: int | None,
    after_seq: int | None,
    limit: int,
) -> list[Message]:
    """A page of messages by seq: the newest before `before_seq` (or the newest of all),
    or the oldest after `after_seq`; always in ascending seq order."""
    await conversation_service.access_conversation(tx, conversation_id)
    rows = await store.list_page(
        tx, conversation_id, before_seq=before_seq, after_seq=after_seq, limit=limit
    )
    return await _to_messages(tx, rows)


async def internal_read_page(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    before_seq: int | None,
    after_seq: int | None,
    limit: int,
) -> list[Message]:
    """A page like `history`, for a reader who is not a participant and was let in by
    another check (break-glass: an admin's read-only access). Row-level security still
    decides which rows come back: after the access ends, none."""
    rows = await store.list_page(
        tx, conversation_id, before_seq=before_seq, after_seq=after_seq, limit=limit
    )
    return await _to_messages(tx, rows)


async def get_message(tx: Tx, message_id: uuid.UUID) -> Message:
    row = await _access_message(tx, message_id)
    return (await _to_messages(tx, [row]))[0]


async def messages_by_ids(tx: Tx, message_ids: list[uuid.UUID]) -> dict[uuid.UUID, Message]:
    """Messages the actor can read, by id (others are silently absent)."""
    if not message_ids:
        return {}
    return {m.id: m for m in await _to_messages(tx, await store.list_by_ids(tx, message_ids))}


async def messages_at(tx: Tx, pairs: list[tuple[uuid.UUID, int]]) -> dict[uuid.UUID, Message]:
    """The message at each (conversation, seq), keyed by conversation."""
    pairs = [p for p in pairs if p[1] > 0]
    if not pairs:
        return {}
    found = await _to_messages(tx, await store.list_by_seqs(tx, pairs))
    return {m.conversation_id: m for m in found}


async def list_revisions(tx: Tx, message_id: uuid.UUID) -> tuple[list[Revision], uuid.UUID]:
    """Every text a message has had, oldest first, current last, and the conversation
    it is in (for the audit of the read). Staff only."""
    row = await _access_message(tx, message_id)  # before the role check: 404 reveals nothing
    if not tx.actor.role.is_staff:
        raise Forbidden("revision history is for staff", code="staff_only")
    if row["redacted_at"] is not None:
        raise Conflict("this message was deleted", code="redacted")
    past = [
        Revision(r["revision"], await _decrypt(tx, r, message_id=message_id), r["created_at"])
        for r in await store.list_revisions(tx, message_id)
    ]
    current = Revision(
        row["revision"], await _decrypt(tx, row), row["edited_at"] or row["created_at"]
    )
    return [*past, current], row["conversation_id"]

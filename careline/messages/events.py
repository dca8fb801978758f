"""Wire shapes of messages and of the timeline events about them (socket and REST)."""

from __future__ import annotations

from typing import Any

import orjson

from careline.attachments.events import attachment_wire
from careline.messages.records import Message

MESSAGE_SENT = "message.sent"
MESSAGE_EDITED = "message.edited"
MESSAGE_REDACTED = "message.redacted"
REACTION_ADDED = "reaction.added"
REACTION_REMOVED = "reaction.removed"
MESSAGE_EVENTS = frozenset({MESSAGE_SENT, MESSAGE_EDITED, MESSAGE_REDACTED})
REACTION_EVENTS = frozenset({REACTION_ADDED, REACTION_REMOVED})


def message_wire(m: Message) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "conversation_id": str(m.conversation_id),
        "seq": m.seq,
        "sender_id": str(m.sender_id),
        "client_msg_id": m.client_msg_id,
        "reply_to_id": str(m.reply_to_id) if m.reply_to_id else None,
        "text": m.text,
        "revision": m.revision,
        "created_at": m.created_at.isoformat(),
        "edited_at": m.edited_at.isoformat() if m.edited_at else None,
        "redacted": m.redacted_at is not None,
        "redacted_at": m.redacted_at.isoformat() if m.redacted_at else None,
        "reactions": [
            {"emoji": emoji, "account_ids": [str(a) for a in accounts]}
            for emoji, accounts in m.reactions.items()
        ],
        "attachments": [attachment_wire(a) for a in m.attachments],
    }


def event_frame(
    type_: str, *, conversation_id: str, seq: int, created_at: str, body: dict[str, Any]
) -> str:
    """One timeline event as a socket frame, encoded once for every recipient."""
    frame = {"op": type_, "conversation_id": conversation_id, "seq": seq, "at": created_at}
    frame.update(body)
    return orjson.dumps(frame).decode()

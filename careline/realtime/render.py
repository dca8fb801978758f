"""Timeline events as socket frames, rendered from PostgreSQL.

Used to replay what a client missed (`resume`) and by a node that received an event
without a frame. A message event always renders the message as it is now (edited text,
current reactions, no text once redacted), so replaying any suffix of the timeline and
applying it leaves a client in the same state as a fresh fetch.
"""

from __future__ import annotations

from typing import Any

from careline.conversations.records import TimelineEvent
from careline.db.tx import Tx
from careline.messages import service as message_service
from careline.messages.events import MESSAGE_EVENTS, REACTION_EVENTS, event_frame, message_wire


def message_count(events: list[TimelineEvent], frames: list[tuple[int, str]]) -> int:
    """How many of the frames carry a message (what the audit counts as read)."""
    sent = {seq for seq, _ in frames}
    return sum(1 for e in events if e.type in MESSAGE_EVENTS and e.seq in sent)


async def timeline_frames(tx: Tx, events: list[TimelineEvent]) -> list[tuple[int, str]]:
    return [(event.seq, frame) for event, frame in await event_frames(tx, events)]


async def event_frames(tx: Tx, events: list[TimelineEvent]) -> list[tuple[TimelineEvent, str]]:
    """Each event with its frame, for events of any number of conversations (a message
    the actor can no longer read has none)."""
    message_ids = list({e.message_id for e in events if e.message_id and e.type in MESSAGE_EVENTS})
    messages = await message_service.messages_by_ids(tx, message_ids)
    frames: list[tuple[TimelineEvent, str]] = []
    for event in events:
        body: dict[str, Any]
        if event.type in MESSAGE_EVENTS:
            message = messages.get(event.message_id) if event.message_id else None
            if message is None:
                continue
            body = {"message": message_wire(message)}
        elif event.type in REACTION_EVENTS:
            body = {
                "message_id": str(event.message_id),
                "emoji": event.data.get("emoji"),
                "account_id": str(event.actor_id),
            }
        elif event.subject_id is not None:
            body = {"account_id": str(event.subject_id)}
        else:
            body = {}
        frames.append(
            (
                event,
                event_frame(
                    event.type,
                    conversation_id=str(event.conversation_id),
                    seq=event.seq,
                    created_at=event.created_at.isoformat(),
                    body=body,
                ),
            )
        )
    return frames

"""Socket ops for messages: message.send / edit / redact, reaction.add / remove."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from careline.db.tx import transaction
from careline.kit.fields import AttachmentIds, ClientMsgId, Emoji, MessageText
from careline.messages import sending
from careline.messages import service as message_service
from careline.messages.events import message_wire
from careline.realtime.protocol import OpArgs, Session, op


class SendArgs(OpArgs):
    conversation_id: uuid.UUID
    client_msg_id: ClientMsgId
    text: MessageText
    reply_to_id: uuid.UUID | None = None
    attachment_ids: AttachmentIds = Field(default_factory=list)


class EditArgs(OpArgs):
    message_id: uuid.UUID
    text: MessageText


class MessageArgs(OpArgs):
    message_id: uuid.UUID


class ReactionArgs(OpArgs):
    message_id: uuid.UUID
    emoji: Emoji


@op("message.send", SendArgs)
async def send(session: Session, args: SendArgs) -> dict[str, Any]:
    """Acknowledged only after commit; a retry with the same client_msg_id returns the
    original message with `duplicate: true`."""
    message, created = await sending.send_message(
        session.actor,
        args.conversation_id,
        client_msg_id=args.client_msg_id,
        text=args.text,
        reply_to_id=args.reply_to_id,
        attachment_ids=args.attachment_ids,
    )
    if created:
        # The sender's own message.sent reaches this socket before the ack
        # (docs/protocol.md#sending-exactly-once).
        await session.caught_up(args.conversation_id, message.seq)
    return {"message": message_wire(message), "duplicate": not created}


@op("message.edit", EditArgs)
async def edit(session: Session, args: EditArgs) -> dict[str, Any]:
    async with transaction(session.actor) as tx:
        message = await message_service.do_edit_message(tx, args.message_id, text=args.text)
    return {"message": message_wire(message)}


@op("message.redact", MessageArgs)
async def redact(session: Session, args: MessageArgs) -> dict[str, Any]:
    async with transaction(session.actor) as tx:
        message = await message_service.do_redact_message(tx, args.message_id)
    return {"message": message_wire(message)}


@op("reaction.add", ReactionArgs)
async def react(session: Session, args: ReactionArgs) -> dict[str, Any]:
    async with transaction(session.actor) as tx:
        seq = await message_service.do_react(tx, args.message_id, emoji=args.emoji, add=True)
    return {"seq": seq}


@op("reaction.remove", ReactionArgs)
async def unreact(session: Session, args: ReactionArgs) -> dict[str, Any]:
    async with transaction(session.actor) as tx:
        seq = await message_service.do_react(tx, args.message_id, emoji=args.emoji, add=False)
    return {"seq": seq}

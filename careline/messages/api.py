"""HTTP: history, send, edit, delete (redact), reactions and revision history."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Response

from careline.audit import service as audit_service
from careline.audit.records import DetailValue
from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.kit import limits
from careline.kit.errors import InvalidInput
from careline.kit.fields import Emoji, SeqParam
from careline.kit.pagination import clamp_limit
from careline.messages import sending
from careline.messages import service as message_service
from careline.messages.events import message_wire
from careline.messages.schemas import (
    MessageEdit,
    MessagePage,
    MessageRead,
    MessageSend,
    ReactionResult,
    RevisionRead,
)
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1", tags=["messages"], responses=ERRORS)


@router.get("/conversations/{conversation_id}/messages", response_model=MessagePage)
async def list_messages(
    conversation_id: uuid.UUID,
    actor: CurrentActor,
    before_seq: SeqParam | None = None,
    after_seq: SeqParam | None = None,
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """A page of history, ascending by seq: the newest messages (or those before
    `before_seq`), or the oldest after `after_seq`. Not both."""
    if before_seq is not None and after_seq is not None:
        raise InvalidInput("give before_seq or after_seq, not both", code="invalid_page")
    size = clamp_limit(limit)
    async with transaction(actor) as tx:
        messages = await message_service.history(
            tx, conversation_id, before_seq=before_seq, after_seq=after_seq, limit=size + 1
        )
        has_more = len(messages) > size
        if has_more:
            messages = messages[:size] if after_seq is not None else messages[1:]
        detail: dict[str, DetailValue] = {"count": len(messages)}
        if after_seq is not None:
            detail["after_seq"] = after_seq
        if before_seq is not None:
            detail["before_seq"] = before_seq
        await audit_service.record(
            tx, "conversation.history_read", conversation_id=conversation_id, detail=detail
        )
    return {"items": [message_wire(m) for m in messages], "has_more": has_more}


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageRead,
    status_code=201,
    responses={200: {"model": MessageRead, "description": "A retry: the original message"}},
)
async def send_message(
    conversation_id: uuid.UUID, body: MessageSend, actor: CurrentActor, response: Response
) -> dict[str, Any]:
    """Send a message. 201 when new; 200 with the original for a retried client_msg_id."""
    message, created = await sending.send_message(
        actor,
        conversation_id,
        client_msg_id=body.client_msg_id,
        text=body.text,
        reply_to_id=body.reply_to_id,
        attachment_ids=body.attachment_ids,
    )
    response.status_code = 201 if created else 200
    return message_wire(message)


@router.get("/messages/{message_id}", response_model=MessageRead)
async def get_message(message_id: uuid.UUID, actor: CurrentActor) -> dict[str, Any]:
    async with transaction(actor) as tx:
        message = await message_service.get_message(tx, message_id)
        await audit_service.record(
            tx, "message.read", conversation_id=message.conversation_id, object_id=message.id
        )
    return message_wire(message)


@router.patch("/messages/{message_id}", response_model=MessageRead)
async def edit_message(
    message_id: uuid.UUID, body: MessageEdit, actor: CurrentActor
) -> dict[str, Any]:
    """Edit your message; the previous text is kept as a revision."""
    async with transaction(actor) as tx:
        message = await message_service.do_edit_message(tx, message_id, text=body.text)
    return message_wire(message)


@router.delete("/messages/{message_id}", response_model=MessageRead)
async def redact_message(message_id: uuid.UUID, actor: CurrentActor) -> dict[str, Any]:
    """Delete your message for everyone: a placeholder stays; the text is kept for audit."""
    async with transaction(actor) as tx:
        message = await message_service.do_redact_message(tx, message_id)
    return message_wire(message)


@router.get("/messages/{message_id}/revisions", response_model=list[RevisionRead])
async def list_revisions(message_id: uuid.UUID, actor: CurrentActor) -> list[dict[str, Any]]:
    """Staff: every text the message has had, oldest first."""
    async with transaction(actor) as tx:
        revisions, conversation_id = await message_service.list_revisions(tx, message_id)
        await audit_service.record(
            tx,
            "message.revisions_read",
            conversation_id=conversation_id,
            object_id=message_id,
            detail={"count": len(revisions)},
        )
    return [{"revision": r.revision, "text": r.text, "created_at": r.created_at} for r in revisions]


@router.put("/messages/{message_id}/reactions/{emoji}", response_model=ReactionResult)
async def add_reaction(message_id: uuid.UUID, actor: CurrentActor, emoji: Emoji) -> dict[str, Any]:
    async with transaction(actor) as tx:
        seq = await message_service.do_react(tx, message_id, emoji=emoji, add=True)
    return {"seq": seq}


@router.delete("/messages/{message_id}/reactions/{emoji}", response_model=ReactionResult)
async def remove_reaction(
    message_id: uuid.UUID, actor: CurrentActor, emoji: Emoji
) -> dict[str, Any]:
    async with transaction(actor) as tx:
        seq = await message_service.do_react(tx, message_id, emoji=emoji, add=False)
    return {"seq": seq}

"""HTTP for admins: the organisation's conversations and emergency intervention
(freeze, unfreeze, remove a participant, read-only access) (docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Response

from careline.audit import service as audit_service
from careline.auth.api import CurrentActor
from careline.breakglass import service as breakglass_service
from careline.breakglass.schemas import (
    AccessOpen,
    AdminConversationPage,
    AdminParticipantRead,
    FrozenResult,
    GrantRead,
    Reason,
    RemovedResult,
)
from careline.db.tx import transaction
from careline.kit import limits
from careline.kit.errors import InvalidInput
from careline.kit.fields import SeqParam
from careline.kit.pagination import clamp_limit, decode_time_cursor, encode_cursor
from careline.messages import service as message_service
from careline.messages.events import message_wire
from careline.messages.schemas import MessagePage
from careline.web.http import ERRORS

admin = APIRouter(prefix="/api/v1/admin/conversations", tags=["admin"], responses=ERRORS)


@admin.get("", response_model=AdminConversationPage)
async def list_admin_conversations(
    actor: CurrentActor,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Admins: every conversation of the organisation, latest activity first, with its
    kind, number of participants, frozen state and your read-only access. No titles, no
    text."""
    before = decode_time_cursor(cursor)
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        items = await breakglass_service.list_conversations(tx, before=before, limit=size)
    last = items[-1] if len(items) == size else None
    cursor_out = (
        encode_cursor([last["last_activity_at"].isoformat(), str(last["id"])]) if last else None
    )
    return {"items": items, "next_cursor": cursor_out}


@admin.get("/{conversation_id}/participants", response_model=list[AdminParticipantRead])
async def list_admin_participants(
    conversation_id: uuid.UUID, actor: CurrentActor
) -> list[dict[str, Any]]:
    """Admins: who is in a conversation of the organisation (to remove someone)."""
    async with transaction(actor) as tx:
        return await breakglass_service.participants(tx, conversation_id)


@admin.post("/{conversation_id}/freeze", response_model=FrozenResult)
async def freeze_conversation(
    conversation_id: uuid.UUID, body: Reason, actor: CurrentActor
) -> dict[str, Any]:
    """Admins, with a reason: pause a conversation. Until it is unfrozen every send,
    edit, deletion, reaction and file is refused with 409 `conversation_frozen`; the
    participants see that it is paused and why."""
    async with transaction(actor) as tx:
        frozen = await breakglass_service.do_freeze(tx, conversation_id, reason=body.reason)
    return {"conversation_id": conversation_id, "frozen_at": frozen.at}


@admin.post("/{conversation_id}/unfreeze", response_model=FrozenResult)
async def unfreeze_conversation(
    conversation_id: uuid.UUID, body: Reason, actor: CurrentActor
) -> dict[str, Any]:
    """Admins, with a reason: let a frozen conversation take messages again."""
    async with transaction(actor) as tx:
        await breakglass_service.do_unfreeze(tx, conversation_id, reason=body.reason)
    return {"conversation_id": conversation_id, "frozen_at": None}


@admin.post("/{conversation_id}/participants/{account_id}/remove", response_model=RemovedResult)
async def remove_admin_participant(
    conversation_id: uuid.UUID, account_id: uuid.UUID, body: Reason, actor: CurrentActor
) -> dict[str, Any]:
    """Admins, with a reason: remove someone from any conversation of the organisation.
    From then on they read and receive nothing more of it."""
    async with transaction(actor) as tx:
        seq = await breakglass_service.do_remove_participant(
            tx, conversation_id, account_id, reason=body.reason
        )
    return {"seq": seq}


@admin.post("/{conversation_id}/access", response_model=GrantRead, status_code=201)
async def open_readonly_access(
    conversation_id: uuid.UUID, body: AccessOpen, actor: CurrentActor
) -> dict[str, Any]:
    """Admins, with a reason: read a conversation you are not part of, read-only, for
    `hours` (default 4, at most 24). It ends by itself at `expires_at`."""
    async with transaction(actor) as tx:
        grant = await breakglass_service.do_open_readonly(
            tx, conversation_id, reason=body.reason, hours=body.hours
        )
    return {
        "id": grant.id,
        "conversation_id": grant.conversation_id,
        "granted_at": grant.granted_at,
        "expires_at": grant.expires_at,
    }


@admin.delete("/{conversation_id}/access", status_code=204)
async def end_readonly_access(conversation_id: uuid.UUID, actor: CurrentActor) -> Response:
    """Admins: end your read-only access before it expires."""
    async with transaction(actor) as tx:
        await breakglass_service.do_end_access(tx, conversation_id)
    return Response(status_code=204)


@admin.get("/{conversation_id}/access", response_model=GrantRead)
async def get_readonly_access(conversation_id: uuid.UUID, actor: CurrentActor) -> dict[str, Any]:
    """Admins: your open read-only access to the conversation; 404 without one."""
    async with transaction(actor, readonly=True) as tx:
        grant = await breakglass_service.access_granted(tx, conversation_id)
    return {
        "id": grant.id,
        "conversation_id": grant.conversation_id,
        "granted_at": grant.granted_at,
        "expires_at": grant.expires_at,
    }


@admin.get("/{conversation_id}/messages", response_model=MessagePage)
async def list_readonly_messages(
    conversation_id: uuid.UUID,
    actor: CurrentActor,
    before_seq: SeqParam | None = None,
    after_seq: SeqParam | None = None,
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Admins with open read-only access: a page of the conversation's history, like
    `GET /conversations/{id}/messages`. 404 once the access has ended or expired."""
    if before_seq is not None and after_seq is not None:
        raise InvalidInput("give before_seq or after_seq, not both", code="invalid_page")
    size = clamp_limit(limit)
    async with transaction(actor) as tx:
        await breakglass_service.access_granted(tx, conversation_id)
        messages = await message_service.internal_read_page(
            tx, conversation_id, before_seq=before_seq, after_seq=after_seq, limit=size + 1
        )
        await audit_service.record(
            tx,
            "conversation.history_read",
            conversation_id=conversation_id,
            detail={"count": min(len(messages), size)},
        )
    has_more = len(messages) > size
    if has_more:
        messages = messages[:size] if after_seq is not None else messages[1:]
    return {"items": [message_wire(m) for m in messages], "has_more": has_more}

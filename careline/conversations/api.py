"""HTTP: the conversation list (unread counts, last message, participants), opening
conversations, participants, per-person archive / mute, and the raw timeline."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from careline.audit import service as audit_service
from careline.auth.api import CurrentActor
from careline.breakglass import service as breakglass_service
from careline.conversations import service as conversation_service
from careline.conversations.records import Conversation, Kind, Participant
from careline.conversations.schemas import (
    ConversationCreate,
    ConversationPage,
    ConversationRead,
    MySettings,
    ParticipantAdd,
    SeqResult,
    TimelinePage,
)
from careline.db.tx import Tx, transaction
from careline.kit import limits
from careline.kit.fields import SeqParam
from careline.kit.pagination import clamp_limit, decode_time_cursor, encode_cursor
from careline.messages import service as message_service
from careline.messages.events import message_wire
from careline.notifications import escalation
from careline.realtime.render import message_count, timeline_frames
from careline.receipts import service as receipt_service
from careline.tenants import service as tenant_service
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"], responses=ERRORS)


async def summarise(
    tx: Tx, request: Request, rows: list[tuple[Conversation, Participant]]
) -> list[dict[str, Any]]:
    """Conversations as the list shows them, in a fixed number of queries."""
    if not rows:
        return []
    ids = [c.id for c, _ in rows]
    participants = await conversation_service.list_participants(tx, ids)
    members = await tenant_service.members_by_ids(tx, list({p.account_id for p in participants}))
    unread = await receipt_service.unread_counts(tx, ids)
    waiting = await escalation.waiting_since(tx, ids)
    last = await message_service.messages_at(tx, [(c.id, c.last_message_seq) for c, _ in rows])
    frozen = await breakglass_service.frozen_states(tx, ids)
    presence = request.app.state.hub.presence_of(
        tx.actor.tenant, {p.account_id for p in participants}
    )
    by_conversation: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for p in participants:
        member = members.get(p.account_id)
        by_conversation.setdefault(p.conversation_id, []).append(
            {
                "account_id": p.account_id,
                "role": p.role.value,
                "display_name": member.display_name if member else None,
                "delivered_seq": p.delivered_seq,
                "read_seq": p.read_seq,
                "presence": presence[str(p.account_id)],
                "last_seen_at": member.last_seen_at if member else None,
            }
        )
    return [
        {
            "id": c.id,
            "kind": c.kind.value,
            "title": c.title,
            "client_id": c.client_id,
            "staff_id": c.staff_id,
            "created_at": c.created_at,
            "last_seq": c.last_seq,
            "last_activity_at": c.last_activity_at,
            "archived": me.archived,
            "muted": me.muted,
            "notify": me.notify,
            "delivered_seq": me.delivered_seq,
            "read_seq": me.read_seq,
            "unread": unread.get(c.id, 0),
            "waiting_since": waiting.get(c.id),
            "last_message": message_wire(last[c.id]) if c.id in last else None,
            "participants": by_conversation.get(c.id, []),
            "frozen": {"at": frozen[c.id].at, "reason": frozen[c.id].reason}
            if c.id in frozen
            else None,
        }
        for c, me in rows
    ]


@router.get("", response_model=ConversationPage)
async def list_conversations(
    actor: CurrentActor,
    request: Request,
    archived: bool | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Your conversations, latest activity first, with unread counts, the last message
    and the participants (with presence)."""
    before = decode_time_cursor(cursor)
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        rows = await conversation_service.list_conversations(
            tx, archived=archived, before=before, limit=size
        )
        items = await summarise(tx, request, rows)
    last = rows[-1][0] if len(rows) == size else None
    return {
        "items": items,
        "next_cursor": encode_cursor([last.last_activity_at.isoformat(), str(last.id)])
        if last
        else None,
    }


@router.post(
    "",
    response_model=ConversationRead,
    status_code=201,
    responses={200: {"model": ConversationRead, "description": "It existed already"}},
)
async def open_conversation(
    body: ConversationCreate, actor: CurrentActor, request: Request, response: Response
) -> dict[str, Any]:
    """Open a conversation. Care and support conversations are unique per client (and
    staff member): opening one that exists returns it with status 200."""
    async with transaction(actor) as tx:
        conversation, created = await conversation_service.do_open_conversation(
            tx,
            conversation_service.OpenRequest(
                kind=Kind(body.kind),
                client_id=body.client_id,
                staff_id=body.staff_id,
                member_ids=tuple(body.member_ids),
                title=body.title,
            ),
        )
        _, me = await conversation_service.access_conversation(tx, conversation.id)
        [item] = await summarise(tx, request, [(conversation, me)])
    response.status_code = 201 if created else 200
    return item


@router.get("/{conversation_id}", response_model=ConversationRead)
async def get_conversation(
    conversation_id: uuid.UUID, actor: CurrentActor, request: Request
) -> dict[str, Any]:
    async with transaction(actor, readonly=True) as tx:
        found = await conversation_service.access_conversation(tx, conversation_id)
        [item] = await summarise(tx, request, [found])
    return item


@router.patch("/{conversation_id}/me", response_model=ConversationRead)
async def update_my_settings(
    conversation_id: uuid.UUID, body: MySettings, actor: CurrentActor, request: Request
) -> dict[str, Any]:
    """Archive or mute this conversation for yourself (your other devices follow). In a
    team conversation, `notify` chooses `all` messages or only `replies` to you; on
    another kind it answers 422 `notify_team_only` and changes nothing."""
    async with transaction(actor) as tx:
        await conversation_service.do_update_my_settings(
            tx, conversation_id, archived=body.archived, muted=body.muted, notify=body.notify
        )
        found = await conversation_service.access_conversation(tx, conversation_id)
        [item] = await summarise(tx, request, [found])
    return item


@router.post("/{conversation_id}/participants", response_model=SeqResult, status_code=201)
async def add_participant(
    conversation_id: uuid.UUID, body: ParticipantAdd, actor: CurrentActor
) -> dict[str, int]:
    """Staff: add a staff member to a team conversation."""
    async with transaction(actor) as tx:
        seq = await conversation_service.do_add_participant(tx, conversation_id, body.account_id)
    return {"seq": seq}


@router.delete("/{conversation_id}/participants/{account_id}", response_model=SeqResult)
async def remove_participant(
    conversation_id: uuid.UUID, account_id: uuid.UUID, actor: CurrentActor
) -> dict[str, int]:
    """Remove someone from a team conversation, or leave it. They lose access at once."""
    async with transaction(actor) as tx:
        seq = await conversation_service.do_remove_participant(tx, conversation_id, account_id)
    return {"seq": seq}


@router.get("/{conversation_id}/events", response_model=TimelinePage)
async def list_events(
    conversation_id: uuid.UUID,
    actor: CurrentActor,
    after_seq: SeqParam = 0,
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """The timeline after `after_seq`, as the same event frames the socket sends: a
    client without a socket catches up with this. To read to the end, ask again with
    `after_seq=next_after_seq` while `has_more`."""
    size = clamp_limit(limit)
    async with transaction(actor) as tx:  # read-write: a page of messages is audited
        # Every seq up to `seen` had committed before the page is read (seq is taken
        # under the conversation's lock): the page covers them all, those this actor may
        # not read included (an intervention's staff-only entry), so it moves past them.
        seen = (await conversation_service.last_seqs(tx, [conversation_id])).get(conversation_id, 0)
        events = await conversation_service.timeline(
            tx, conversation_id, after_seq=after_seq, limit=size
        )
        frames = await timeline_frames(tx, events)
        last = (await conversation_service.last_seqs(tx, [conversation_id]))[conversation_id]
        # Like a resume: a page that carries messages is a read; an empty poll is not.
        if count := message_count(events, frames):
            await audit_service.record(
                tx,
                "conversation.history_read",
                conversation_id=conversation_id,
                detail={"after_seq": after_seq, "count": count},
            )
    next_after = max(events[-1].seq if events else after_seq, min(after_seq + size, seen))
    return {
        "items": [orjson.loads(f) for _, f in frames],
        "last_seq": last,
        "next_after_seq": next_after,
        "has_more": next_after < last,
    }

"""Opening conversations, who is in them, and their timeline.

Rules (docs/conversations.md): staff open a care conversation with any client of their
organisation, or, when the organisation's `conversation_start` is `care_team`, only with
clients whose care team holds them (admins with anyone); clients (and guardians, for
their clients) with their care team; anyone on the client side opens the support
conversation with the organisation's admins. At most one care conversation per (client,
staff) and one support conversation per client: opening an existing one returns it. Team
conversations are staff only.

Errors: NotFound for a conversation the actor is not in (never Forbidden: existence is
not revealed), Forbidden for an action the actor's role may not take, InvalidInput for
people who do not fit the kind of conversation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from careline.audit.changes import record_change
from careline.care import service as care_service
from careline.conversations import store
from careline.conversations.records import Conversation, Kind, Participant, TimelineEvent
from careline.db.tx import Role, Tx
from careline.kit import limits
from careline.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from careline.kit.events import Event
from careline.kit.ids import new_id
from careline.kit.text import clean_text
from careline.receipts import service as receipt_service
from careline.tenants import service as tenant_service
from careline.tenants.records import ConversationStart

CONVERSATION_CREATED = "conversation.created"
PARTICIPANT_ADDED = "participant.added"
PARTICIPANT_REMOVED = "participant.removed"
SETTINGS_UPDATED = "participant.settings_updated"


@dataclass(frozen=True, slots=True)
class OpenRequest:
    kind: Kind
    client_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    member_ids: tuple[uuid.UUID, ...] = ()
    title: str | None = None


async def access_conversation(
    tx: Tx, conversation_id: uuid.UUID
) -> tuple[Conversation, Participant]:
    """The conversation and the actor's place in it; NotFound unless a participant."""
    if tx.actor.account_id is None:
        raise NotFound("no such conversation")
    found = await store.get_with_me(tx, conversation_id, tx.actor.account_id)
    if found is None:
        raise NotFound("no such conversation")
    return found


async def _active_member(tx: Tx, account_id: uuid.UUID, roles: tuple[Role, ...]) -> Role:
    try:
        member = await tenant_service.get_member(tx, account_id)
    except NotFound:
        raise InvalidInput(
            f"{account_id} is not in this organisation", code="unknown_member"
        ) from None
    if member.disabled or member.role not in roles:
        names = " or ".join(r.value for r in roles)
        raise InvalidInput(f"{account_id} is not an active {names}", code="wrong_role")
    return member.role


async def _client_for_actor(tx: Tx, client_id: uuid.UUID | None) -> uuid.UUID:
    """The client a client-side or staff actor is opening a conversation about."""
    actor = tx.actor
    if actor.role is Role.CLIENT:
        if client_id not in (None, actor.account_id):
            raise InvalidInput("a client opens conversations for themselves", code="wrong_client")
        return actor.account
    if client_id is None:
        raise InvalidInput("client_id is required", code="client_required")
    if actor.role is Role.GUARDIAN:
        if client_id not in await care_service.clients_of(tx, actor.account):
            raise InvalidInput("you do not act for this client", code="wrong_client")
        return client_id
    await _active_member(tx, client_id, (Role.CLIENT,))
    return client_id


async def _client_side(tx: Tx, client_id: uuid.UUID) -> list[tuple[uuid.UUID, Role]]:
    guardians = await care_service.guardians_of(tx, client_id)
    return [(client_id, Role.CLIENT), *((g, Role.GUARDIAN) for g in guardians)]


async def _create(
    tx: Tx,
    *,
    kind: Kind,
    title: str | None,
    client_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    members: list[tuple[uuid.UUID, Role]],
) -> Conversation:
    conversation_id = new_id()
    await store.insert_conversation(
        tx,
        conversation_id=conversation_id,
        kind=kind,
        title=title,
        client_id=client_id,
        staff_id=staff_id,
    )
    await store.insert_participants(tx, conversation_id, members, joined_seq=0)
    seq, *_ = await _append(tx, conversation_id, type_=CONVERSATION_CREATED)
    tx.emit(
        Event(
            type=CONVERSATION_CREATED,
            tenant_id=tx.actor.tenant,
            conversation_id=conversation_id,
            seq=seq,
            account_ids=tuple(a for a, _ in members),
        )
    )
    conversation, _ = await access_conversation(tx, conversation_id)
    return conversation


async def do_open_conversation(tx: Tx, request: OpenRequest) -> tuple[Conversation, bool]:
    """Open (or find) a conversation. Returns it and whether it was created now.
    Emits conversation.created."""
    actor = tx.actor
    if actor.account_id is None:
        raise Forbidden("a person must open conversations")
    title = (
        clean_text(request.title, field="title", max_chars=limits.TITLE_MAX_CHARS, multiline=False)
        if request.title is not None
        else None
    )
    try:
        async with tx.conn.transaction():  # a savepoint: a lost race retries as "find"
            if request.kind is Kind.CARE:
                return await _open_care(tx, request)
            if request.kind is Kind.SUPPORT:
                return await _open_support(tx, request)
            return await _open_team(tx, request, title)
    except asyncpg.UniqueViolationError:
        raise Conflict("this conversation exists already", code="conversation_exists") from None


async def _open_care(tx: Tx, request: OpenRequest) -> tuple[Conversation, bool]:
    actor = tx.actor
    if actor.role.is_staff:
        client_id = await _client_for_actor(tx, request.client_id)
        staff_id, staff_role = actor.account, actor.role
        existing = await store.find_care(tx, client_id=client_id, staff_id=staff_id)
        if existing is not None:  # starting is what the setting governs, not finding
            return existing, False
        await _check_may_start(tx, client_id)
    else:
        client_id = await _client_for_actor(tx, request.client_id)
        if request.staff_id is None:
            raise InvalidInput("staff_id is required", code="staff_required")
        if request.staff_id not in await care_service.care_team(tx, client_id):
            raise InvalidInput("that person is not in the care team", code="not_care_team")
        staff_id = request.staff_id
        staff_role = await _active_member(tx, staff_id, (Role.STAFF, Role.ADMIN))
    existing = await store.find_care(tx, client_id=client_id, staff_id=staff_id)
    if existing is not None:
        return existing, False
    members = [(staff_id, staff_role), *await _client_side(tx, client_id)]
    conversation = await _create(
        tx, kind=Kind.CARE, title=None, client_id=client_id, staff_id=staff_id, members=members
    )
    return conversation, True


async def _check_may_start(tx: Tx, client_id: uuid.UUID) -> None:
    """Forbidden `care_team_only` when the organisation lets clinicians start only with
    clients of their care team and this client's team lacks the actor. Admins are never
    held back: they run the support desk and must be able to reach anyone."""
    if tx.actor.role is not Role.STAFF:
        return
    settings = await tenant_service.get_organisation_settings(tx)
    if settings.conversation_start is not ConversationStart.CARE_TEAM:
        return
    if tx.actor.account not in await care_service.care_team(tx, client_id):
        raise Forbidden(
            "your organisation lets you start conversations only with clients of your care team",
            code="care_team_only",
        )


async def _open_support(tx: Tx, request: OpenRequest) -> tuple[Conversation, bool]:
    client_id = await _client_for_actor(tx, request.client_id)
    existing = await store.find_support(tx, client_id=client_id)
    if existing is not None:
        return existing, False
    admins = [m.account_id for m in await _list_role(tx, Role.ADMIN)]
    members = [*await _client_side(tx, client_id), *((a, Role.ADMIN) for a in admins)]
    if tx.actor.role is Role.STAFF:
        members.append((tx.actor.account, Role.STAFF))
    conversation = await _create(
        tx, kind=Kind.SUPPORT, title=None, client_id=client_id, staff_id=None, members=members
    )
    return conversation, True


async def _list_role(tx: Tx, role: Role) -> list[Any]:
    async with tx.as_system():
        return await tenant_service.list_enabled_with_role(tx, role)


async def _open_team(tx: Tx, request: OpenRequest, title: str | None) -> tuple[Conversation, bool]:
    actor = tx.actor
    if not actor.role.is_staff:
        raise Forbidden("team conversations are for staff", code="staff_only")
    ids = list(dict.fromkeys(m for m in request.member_ids if m != actor.account_id))
    if not ids:
        raise InvalidInput("a team conversation needs at least one other member", code="no_members")
    if len(ids) + 1 > limits.TEAM_MAX_MEMBERS:
        raise InvalidInput(
            f"a team conversation holds at most {limits.TEAM_MAX_MEMBERS} people",
            code="too_many_members",
        )
    members = [(actor.account, actor.role)]
    for account_id in ids:
        members.append((account_id, await _active_member(tx, account_id, (Role.STAFF, Role.ADMIN))))
    if request.client_id is not None:
        await _active_member(tx, request.client_id, (Role.CLIENT,))
    conversation = await _create(
        tx,
        kind=Kind.TEAM,
        title=title,
        client_id=request.client_id,
        staff_id=None,
        members=members,
    )
    return conversation, True


async def _append_membership(
    tx: Tx, conversation_id: uuid.UUID, type_: str, account_id: uuid.UUID
) -> int:
    seq, *_ = await _append(tx, conversation_id, type_=type_, subject_id=account_id)
    tx.emit(
        Event(
            type=type_,
            tenant_id=tx.actor.tenant,
            conversation_id=conversation_id,
            seq=seq,
            data={"account_id": str(account_id)},
        )
    )
    return seq


async def do_add_participant(tx: Tx, conversation_id: uuid.UUID, account_id: uuid.UUID) -> int:
    """Staff add another staff member to a team conversation. Emits participant.added."""
    conversation, _ = await access_conversation(tx, conversation_id)
    if conversation.kind is not Kind.TEAM or not tx.actor.role.is_staff:
        raise Forbidden(
            "only staff add people, and only to team conversations", code="fixed_members"
        )
    role = await _active_member(tx, account_id, (Role.STAFF, Role.ADMIN))
    if await store.count_participants(tx, conversation_id) >= limits.TEAM_MAX_MEMBERS:
        raise InvalidInput("this conversation is full", code="too_many_members")
    seq = await _append_membership(tx, conversation_id, PARTICIPANT_ADDED, account_id)
    await store.insert_participants(tx, conversation_id, [(account_id, role)], joined_seq=seq)
    async with tx.as_system():  # the counters are on the new member's row, not the actor's
        await receipt_service.internal_start_counts(tx, conversation_id, [account_id])
    # They can read the conversation's history from now on: who let them in is audited.
    await record_change(
        tx, "participant.added", conversation_id=conversation_id, subject_account_id=account_id
    )
    return seq


async def do_remove_participant(tx: Tx, conversation_id: uuid.UUID, account_id: uuid.UUID) -> int:
    """Remove someone from a team conversation (staff), or leave it yourself. From the
    commit on, the removed person reads and receives nothing more of it.
    Emits participant.removed."""
    conversation, _ = await access_conversation(tx, conversation_id)
    leaving = account_id == tx.actor.account_id
    if conversation.kind is not Kind.TEAM or not (leaving or tx.actor.role.is_staff):
        raise Forbidden("people are removed only from team conversations", code="fixed_members")
    seq = await _append_membership(tx, conversation_id, PARTICIPANT_REMOVED, account_id)
    if not await store.delete_participant(tx, conversation_id, account_id):
        raise NotFound("that person is not in this conversation")
    return seq


async def internal_add_guardian(tx: Tx, *, guardian_id: uuid.UUID, client_id: uuid.UUID) -> None:
    """A newly linked guardian joins the client's care and support conversations."""
    async with tx.as_system():
        for conversation_id in await store.list_ids_for_client(tx, client_id):
            existing = {p.account_id for p in await store.list_participants(tx, [conversation_id])}
            if guardian_id in existing:
                continue
            seq = await _append_membership(tx, conversation_id, PARTICIPANT_ADDED, guardian_id)
            await store.insert_participants(
                tx, conversation_id, [(guardian_id, Role.GUARDIAN)], joined_seq=seq
            )
            await receipt_service.internal_start_counts(tx, conversation_id, [guardian_id])


async def internal_remove_guardian(tx: Tx, *, guardian_id: uuid.UUID, client_id: uuid.UUID) -> None:
    """An unlinked guardian leaves the client's conversations at once."""
    async with tx.as_system():
        for conversation_id in await store.list_ids_for_client(tx, client_id):
            if await store.delete_participant(tx, conversation_id, guardian_id):
                await _append_membership(tx, conversation_id, PARTICIPANT_REMOVED, guardian_id)


async def do_update_my_settings(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    archived: bool | None,
    muted: bool | None,
    notify: str | None = None,
) -> Participant:
    """Archive or mute a conversation for yourself, or (team conversations) be told of
    all messages or only replies to you; your other devices follow. InvalidInput
    `notify_team_only` for `notify` on another kind (nothing changed).
    Emits participant.settings_updated to the actor's own sockets."""
    conversation, _ = await access_conversation(tx, conversation_id)
    if notify is not None and conversation.kind is not Kind.TEAM:
        raise InvalidInput(
            "only team conversations choose between all messages and replies",
            code="notify_team_only",
        )
    await store.update_my_settings(
        tx, conversation_id, archived=archived, muted=muted, notify=notify
    )
    _, me = await access_conversation(tx, conversation_id)
    _emit_settings(
        tx,
        conversation_id,
        tx.actor.account,
        archived=me.archived,
        muted=me.muted,
        notify=me.notify,
    )
    return me


def _emit_settings(
    tx: Tx,
    conversation_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    archived: bool,
    muted: bool,
    notify: str | None = None,
) -> None:
    """participant.settings_updated, to that person's own sockets only."""
    data: dict[str, Any] = {
        "conversation_id": str(conversation_id),
        "archived": archived,
        "muted": muted,
    }
    if notify is not None:
        data["notify"] = notify
    tx.emit(
        Event(
            type=SETTINGS_UPDATED,
            tenant_id=tx.actor.tenant,
            account_ids=(account_id,),
            data=data,
        )
    )


async def list_conversations(
    tx: Tx, *, archived: bool | None, before: tuple[Any, uuid.UUID] | None, limit: int
) -> list[tuple[Conversation, Participant]]:
    return await store.list_for_account(
        tx, tx.actor.account, archived=archived, before=before, limit=limit
    )


async def list_conversation_ids(tx: Tx) -> list[uuid.UUID]:
    return await store.list_ids_for_account(tx, tx.actor.account)


async def list_participants(tx: Tx, conversation_ids: list[uuid.UUID]) -> list[Participant]:
    return await store.list_participants(tx, conversation_ids)


async def _append(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    type_: str,
    message_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
    is_message: bool = False,
    as_participant: bool = False,
    refuse_frozen: bool = False,
    staff_only: bool = False,
) -> tuple[int, int, bool]:
    """The new event's seq, the conversation's message count after it, and (for a
    message) whether anyone else has the conversation archived. With `refuse_frozen`
    (a participant's message, edit, deletion or reaction) Conflict
    `conversation_frozen` while an admin has the conversation frozen: raised after the
    append, it rolls the whole change back."""
    if as_participant and tx.actor.account_id is None:
        raise NotFound("no such conversation")
    appended = await store.append_event(
        tx,
        conversation_id,
        type=type_,
        message_id=message_id,
        subject_id=subject_id,
        data=data or {},
        is_message=is_message,
        as_participant=as_participant,
        staff_only=staff_only,
    )
    if appended is None:
        if as_participant:
            raise NotFound("no such conversation")
        raise LookupError("conversation vanished while appending to its timeline")
    if refuse_frozen and appended.frozen:
        raise _frozen()
    return appended.seq, appended.message_count, appended.archived_others


async def internal_append_event(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    type_: str,
    message_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """For other domains (messages): the next seq of the conversation, with the event
    recorded under it. The caller has already checked access. The conversation stays
    locked until the transaction ends: no one else appends to its timeline meanwhile."""
    seq, *_ = await _append(
        tx, conversation_id, type_=type_, message_id=message_id, data=data, refuse_frozen=True
    )
    return seq


async def internal_append_message(
    tx: Tx, conversation_id: uuid.UUID, *, type_: str, message_id: uuid.UUID
) -> tuple[int, int]:
    """For messages' send: like internal_append_event, with access checked in the same
    round trip (the send's hot path): NotFound unless the actor takes part. Returns the
    seq and the message's ordinal (its position among the conversation's messages), and
    counts the message towards the unread counts (store.append_event), where sending
    also reads: the sender's watermarks move to this seq.

    A message from someone else brings the conversation back to the inbox of everyone
    who archived it (unless they keep archived conversations archived): nothing urgent
    stays hidden. Emits participant.settings_updated to each of them."""
    seq, ordinal, archived_others = await _append(
        tx,
        conversation_id,
        type_=type_,
        message_id=message_id,
        is_message=True,
        as_participant=True,
        refuse_frozen=True,
    )
    if archived_others:
        async with tx.as_system():  # other people's rows
            back = await store.bring_back(tx, conversation_id, tx.actor.account)
        for account_id, muted in back:
            _emit_settings(tx, conversation_id, account_id, archived=False, muted=muted)
    return seq, ordinal


def _frozen() -> Conflict:
    return Conflict(
        "an admin has paused this conversation: nothing can be sent or changed in it",
        code="conversation_frozen",
    )


async def check_not_frozen(tx: Tx, conversation_id: uuid.UUID) -> None:
    """Conflict `conversation_frozen` while an admin has the conversation frozen (for a
    change that does not take a seq first, such as an upload)."""
    if await store.is_frozen(tx, conversation_id):
        raise _frozen()


async def internal_append_staff_event(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    type_: str,
    subject_id: uuid.UUID | None = None,
) -> int:
    """For break-glass: an intervention's entry on the timeline, read by the staff
    participants only (RLS, migration 0015), under the next seq. Run as the system (the
    admin need not take part); the admin is the event's actor. Emits `type_` with
    `staff_only`, which the hub sends to staff sockets alone."""
    seq, *_ = await _append(
        tx, conversation_id, type_=type_, subject_id=subject_id, staff_only=True
    )
    data: dict[str, Any] = {"staff_only": True}
    if subject_id is not None:
        data["account_id"] = str(subject_id)
    tx.emit(
        Event(
            type=type_,
            tenant_id=tx.actor.tenant,
            conversation_id=conversation_id,
            seq=seq,
            data=data,
        )
    )
    return seq


async def internal_remove_participant(
    tx: Tx, conversation_id: uuid.UUID, account_id: uuid.UUID
) -> int:
    """For break-glass: remove anyone from any conversation (as the system). From the
    commit on they read and receive nothing more of it. NotFound if they are not in it.
    Emits participant.removed (staff only on the timeline; the hub unsubscribes them)."""
    seq = await internal_append_staff_event(  # first: it takes the conversation's lock
        tx, conversation_id, type_=PARTICIPANT_REMOVED, subject_id=account_id
    )
    if not await store.delete_participant(tx, conversation_id, account_id):
        raise NotFound("that person is not in this conversation")
    return seq


async def timeline(
    tx: Tx, conversation_id: uuid.UUID, *, after_seq: int, limit: int
) -> list[TimelineEvent]:
    await access_conversation(tx, conversation_id)
    return await store.list_events(tx, conversation_id, after_seq=after_seq, limit=limit)


async def timelines(
    tx: Tx, reads: list[tuple[uuid.UUID, int, int]]
) -> dict[uuid.UUID, tuple[int, list[TimelineEvent]]]:
    """For each (conversation, after_seq, limit), in one statement: its last_seq and up
    to `limit` events after `after_seq`. Only conversations the actor takes part in are
    there (row-level security decides, as `access_conversation` does): a missing one is
    not found."""
    if not reads:
        return {}
    return await store.list_events_after(tx, reads)


async def last_seqs(tx: Tx, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    return await store.get_last_seqs(tx, conversation_ids)


async def internal_event(tx: Tx, conversation_id: uuid.UUID, seq: int) -> list[TimelineEvent]:
    """System: the timeline event at `seq` (to render an event that arrived bare)."""
    return await store.list_events(tx, conversation_id, after_seq=seq - 1, limit=1)

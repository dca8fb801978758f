"""Break-glass: freeze and unfreeze a conversation, remove a participant, and read a
conversation one is not part of, read-only, for a limited time.

Only an organisation's admins intervene, in their own organisation, and always with a
stated reason (`audit_service.check_reason`). Each step is audited with the reason
(encrypted), put on the conversation's timeline for its staff participants only
(`conversation_service.internal_append_staff_event`), and told to the organisation's
other admins as an `intervention` notification (its words: the organisation and a link).

A read-only grant ends by itself at `expires_at`: row-level security compares it with
the database's clock on every read (migration 0015), so nothing needs to run for the
access to stop. The expiry job (jobs.py) then notes it once (audit, timeline, admins).

Errors: Forbidden `admin_only`; NotFound (no such conversation in the organisation, or
no open access); InvalidInput `reason_required` / `reason_too_long` / `invalid_input`
(hours); Conflict `already_frozen`, `not_frozen`, `already_participant`,
`access_open`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline import config
from careline.audit import service as audit_service
from careline.breakglass import store
from careline.breakglass.records import Frozen, Grant
from careline.conversations import service as conversation_service
from careline.db.tx import Role, Tx
from careline.keys import service as key_service
from careline.kit import clock, limits
from careline.kit.errors import Conflict, InvalidInput, NotFound
from careline.kit.events import Event
from careline.kit.ids import new_id
from careline.notifications import kinds
from careline.notifications import service as notification_service
from careline.tenants import service as tenant_service

CONVERSATION_FROZEN = "conversation.frozen"
CONVERSATION_UNFROZEN = "conversation.unfrozen"
ACCESS_GRANTED = "access.granted"
ACCESS_ENDED = "access.ended"
ACCESS_EXPIRED = "access.expired"
# Not on the timeline: tells every participant's sockets to fetch the conversation
# again (its `frozen`); ids only, as everything on the bus.
FROZEN_CHANGED = "conversation.frozen_changed"


def _frozen_context(conversation_id: uuid.UUID) -> str:
    return f"conversations.frozen_reason:{conversation_id}"


def _grant_context(grant_id: uuid.UUID) -> str:
    return f"access-grants.reason:{grant_id}"


def check_hours(hours: int | None) -> int:
    value = config.current().breakglass_hours if hours is None else hours
    if not 1 <= value <= limits.BREAKGLASS_HOURS_MAX:
        raise InvalidInput(
            f"hours: from 1 to {limits.BREAKGLASS_HOURS_MAX}",
            code="invalid_input",
            extra={"limit": limits.BREAKGLASS_HOURS_MAX},
        )
    return value


async def _lock(tx: Tx, conversation_id: uuid.UUID) -> Any:
    """The conversation of the admin's organisation, locked (as the system: the admin is
    usually not in it). NotFound for another organisation's, like a missing one."""
    tenant_service.require_admin(tx)
    async with tx.as_system():
        row = await store.lock_conversation(tx, conversation_id)
    if row is None:
        raise NotFound("no such conversation")
    return row


async def _announce(tx: Tx, conversation_id: uuid.UUID) -> None:
    """Tell the organisation's other admins that someone intervened: the words say only
    that (kind `intervention`), with the organisation and a link."""
    admins = await tenant_service.list_enabled_with_role(tx, Role.ADMIN)
    others = [a.account_id for a in admins if a.account_id != tx.actor.account_id]
    await notification_service.do_notify(tx, kinds.INTERVENTION, others, object_id=conversation_id)


def _emit_frozen_changed(tx: Tx, conversation_id: uuid.UUID, people: list[uuid.UUID]) -> None:
    tx.emit(
        Event(
            type=FROZEN_CHANGED,
            tenant_id=tx.actor.tenant,
            account_ids=tuple(people),
            data={"conversation_id": str(conversation_id)},
        )
    )


async def _people(tx: Tx, conversation_id: uuid.UUID) -> list[uuid.UUID]:
    found = await conversation_service.list_participants(tx, [conversation_id])
    return [p.account_id for p in found]


async def list_conversations(
    tx: Tx, *, before: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[dict[str, Any]]:
    """Every conversation of the organisation, for its admins: kind, number of people,
    whether it is frozen, whether the admin is in it or holds read-only access."""
    tenant_service.require_admin(tx)
    async with tx.as_system():
        rows = await store.list_conversations(tx, before=before, limit=limit)
    grants = await store.list_open_grants(tx, [r["id"] for r in rows])
    return [
        {
            "id": r["id"],
            "kind": r["kind"],
            "participant_count": r["people"],
            "created_at": r["created_at"],
            "last_activity_at": r["last_activity_at"],
            "frozen_at": r["frozen_at"],
            "participant": r["mine"],
            "access_expires_at": grants[r["id"]].expires_at if r["id"] in grants else None,
        }
        for r in rows
    ]


async def participants(tx: Tx, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
    """Who is in the conversation (ids, roles, names: the admin's own directory)."""
    await _lock(tx, conversation_id)
    async with tx.as_system():
        found = await conversation_service.list_participants(tx, [conversation_id])
    members = await tenant_service.members_by_ids(tx, [p.account_id for p in found])
    return [
        {
            "account_id": p.account_id,
            "role": p.role.value,
            "display_name": members[p.account_id].display_name if p.account_id in members else None,
        }
        for p in found
    ]


async def _set_frozen(
    tx: Tx,
    conversation_id: uuid.UUID,
    reason_ct: bytes | None,
    key_version: int | None,
    *,
    event_type: str,
) -> None:
    """Freeze (with the reason's ciphertext) or unfreeze (None): the row, the staff
    timeline entry, every participant's sockets and the other admins."""
    async with tx.as_system():
        await store.set_frozen(tx, conversation_id, reason_ct=reason_ct, key_version=key_version)
        await conversation_service.internal_append_staff_event(
            tx, conversation_id, type_=event_type
        )
        _emit_frozen_changed(tx, conversation_id, await _people(tx, conversation_id))
        await _announce(tx, conversation_id)


async def do_freeze(tx: Tx, conversation_id: uuid.UUID, *, reason: str | None) -> Frozen:
    """Pause the conversation: no one sends, edits, deletes, reacts or attaches until it
    is unfrozen. Emits conversation.frozen (staff timeline) and frozen_changed."""
    text = audit_service.check_reason(reason)
    row = await _lock(tx, conversation_id)
    if row["frozen_at"] is not None:
        raise Conflict("this conversation is frozen already", code="already_frozen")
    ct, version = await key_service.keyring().encrypt(
        tx, tx.actor.tenant, text.encode(), context=_frozen_context(conversation_id)
    )
    await _set_frozen(tx, conversation_id, ct, version, event_type=CONVERSATION_FROZEN)
    await audit_service.record(
        tx, "conversation.frozen", conversation_id=conversation_id, reason=text
    )
    return Frozen(conversation_id, clock.now(), tx.actor.account_id, text)


async def do_unfreeze(tx: Tx, conversation_id: uuid.UUID, *, reason: str | None) -> None:
    """Let the conversation take messages again. Emits conversation.unfrozen."""
    text = audit_service.check_reason(reason)
    row = await _lock(tx, conversation_id)
    if row["frozen_at"] is None:
        raise Conflict("this conversation is not frozen", code="not_frozen")
    await _set_frozen(tx, conversation_id, None, None, event_type=CONVERSATION_UNFROZEN)
    await audit_service.record(
        tx, "conversation.unfrozen", conversation_id=conversation_id, reason=text
    )


async def do_remove_participant(
    tx: Tx, conversation_id: uuid.UUID, account_id: uuid.UUID, *, reason: str | None
) -> int:
    """Remove anyone from any conversation of the organisation. Returns the seq of
    participant.removed (staff timeline)."""
    text = audit_service.check_reason(reason)
    await _lock(tx, conversation_id)
    async with tx.as_system():
        seq = await conversation_service.internal_remove_participant(
            tx, conversation_id, account_id
        )
        await _announce(tx, conversation_id)
    await audit_service.record(
        tx,
        "participant.removed",
        conversation_id=conversation_id,
        subject_account_id=account_id,
        reason=text,
    )
    return seq


async def do_open_readonly(
    tx: Tx, conversation_id: uuid.UUID, *, reason: str | None, hours: int | None
) -> Grant:
    """Read a conversation the admin is not part of, for `hours` (default
    `breakglass_hours`). Emits access.granted (staff timeline)."""
    text = audit_service.check_reason(reason)
    hours = check_hours(hours)
    await _lock(tx, conversation_id)
    async with tx.as_system():
        if tx.actor.account in await _people(tx, conversation_id):
            raise Conflict("you take part in this conversation", code="already_participant")
    if await store.get_open_grant(tx, conversation_id) is not None:
        raise Conflict("you have read-only access already", code="access_open")
    grant_id = new_id()
    ct, version = await key_service.keyring().encrypt(
        tx, tx.actor.tenant, text.encode(), context=_grant_context(grant_id)
    )
    grant = await store.insert_grant(
        tx,
        grant_id=grant_id,
        conversation_id=conversation_id,
        reason_ct=ct,
        key_version=version,
        expires_at=clock.now() + dt.timedelta(hours=hours),
    )
    async with tx.as_system():
        await conversation_service.internal_append_staff_event(
            tx, conversation_id, type_=ACCESS_GRANTED, subject_id=tx.actor.account
        )
        await _announce(tx, conversation_id)
    await audit_service.record(
        tx,
        "access.granted",
        conversation_id=conversation_id,
        object_id=grant.id,
        detail={"hours": hours},
        reason=text,
    )
    return grant


async def do_end_access(tx: Tx, conversation_id: uuid.UUID) -> None:
    """End the admin's own read-only access before it expires. Emits access.ended."""
    await _lock(tx, conversation_id)
    grant = await store.get_open_grant(tx, conversation_id)
    if grant is None:
        raise NotFound("you have no read-only access to this conversation")
    await store.end_grant(tx, grant.id)
    async with tx.as_system():
        await conversation_service.internal_append_staff_event(
            tx, conversation_id, type_=ACCESS_ENDED, subject_id=tx.actor.account
        )
    await audit_service.record(
        tx, "access.ended", conversation_id=conversation_id, object_id=grant.id
    )


async def access_granted(tx: Tx, conversation_id: uuid.UUID) -> Grant:
    """The admin's open read-only access; NotFound without one (or once it expired)."""
    tenant_service.require_admin(tx)
    grant = await store.get_open_grant(tx, conversation_id)
    if grant is None:
        raise NotFound("no such conversation")
    return grant


async def frozen_states(tx: Tx, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, Frozen]:
    """The frozen ones among conversations the actor can read, with the reason."""
    if not conversation_ids:
        return {}
    found = {}
    for row in await store.list_frozen(tx, conversation_ids):
        reason = await key_service.keyring().decrypt(
            tx,
            row["tenant_id"],
            bytes(row["frozen_reason_ct"]),
            version=row["frozen_key_version"],
            context=_frozen_context(row["id"]),
        )
        found[row["id"]] = Frozen(row["id"], row["frozen_at"], row["frozen_by"], reason.decode())
    return found


async def internal_due(tx: Tx, *, now: dt.datetime, limit: int) -> list[Grant]:
    """System: grants past their expiry at `now` not yet noted."""
    return await store.list_due(tx, now=now, limit=limit)


async def internal_note_expired(tx: Tx, grant: Grant) -> bool:
    """In the grant's organisation, acting as the system for the admin who held it:
    access.expired on the staff timeline, in the audit, and told to the other admins.
    False (nothing done) if it was noted already: safe to run twice."""
    if not await store.claim(tx, grant.id):
        return False
    await conversation_service.internal_append_staff_event(
        tx, grant.conversation_id, type_=ACCESS_EXPIRED, subject_id=grant.account_id
    )
    await _announce(tx, grant.conversation_id)
    await audit_service.record(
        tx,
        "access.expired",
        conversation_id=grant.conversation_id,
        object_id=grant.id,
        subject_account_id=grant.account_id,
    )
    return True

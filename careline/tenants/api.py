"""HTTP: who am I, the member directory, the admin's member management and the
organisation's settings."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from careline.auth import service as auth_service
from careline.auth.api import CurrentActor, current_actor
from careline.auth.records import Session
from careline.auth.schemas import SessionRead
from careline.care import service as care_service
from careline.db.tx import Actor, Role, transaction
from careline.kit import limits
from careline.kit.errors import InvalidInput, Unauthenticated
from careline.kit.pagination import clamp_limit, decode_text_cursor, encode_cursor
from careline.tenants import service as tenant_service
from careline.tenants.records import (
    ConversationStart,
    EscalationSettings,
    Member,
    OrganisationSettings,
)
from careline.tenants.schemas import (
    MemberPage,
    MemberRead,
    MemberUpdate,
    MeRead,
    MeUpdate,
    OrganisationSettingsRead,
    OrganisationSettingsUpdate,
    RevokedRead,
    RoleName,
    SessionProbeRead,
    TenantSettingsRead,
    TenantSettingsUpdate,
)
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1", tags=["people"], responses=ERRORS)


def member_read(member: Member, *, show_email: bool) -> dict[str, Any]:
    return {
        "account_id": member.account_id,
        "role": member.role.value,
        "display_name": member.display_name,
        "email": member.email if show_email else None,
        "last_seen_at": member.last_seen_at,
        "disabled": member.disabled,
    }


@router.get("/me", response_model=MeRead)
async def get_me(actor: CurrentActor, request: Request) -> dict[str, Any]:
    """The signed-in person, their organisation and role."""
    return await _me(actor, request)


@router.get("/auth/session", response_model=SessionProbeRead, tags=["auth"])
async def probe_session(request: Request) -> dict[str, Any]:
    """Whether this request is signed in, answered 200 either way (so a browser finds out
    it is signed out without a failed request): `{"signed_in": false, "me": null}` with
    no session or one that ended; `{"signed_in": true, "me": {...}}` (as GET /me)
    otherwise. A malformed Authorization header is still 401 `bad_authorization`."""
    try:
        actor = await current_actor(request)
    except Unauthenticated as exc:
        if exc.code == "bad_authorization":
            raise
        return {"signed_in": False, "me": None}
    return {"signed_in": True, "me": await _me(actor, request)}


async def _me(actor: Actor, request: Request) -> dict[str, Any]:
    async with transaction(actor, readonly=True) as tx:
        me = await tenant_service.get_member(tx, actor.account)
        tenant = await tenant_service.get_tenant(tx, actor.tenant)
        keep_archived = await tenant_service.keep_archived(tx)
        acting_for: list[Member] = []
        if actor.role is Role.GUARDIAN:
            ids = await care_service.clients_of(tx, actor.account)
            acting_for = list((await tenant_service.members_by_ids(tx, ids)).values())
    token = request.state.session_token
    return {
        "account_id": me.account_id,
        "tenant_id": tenant.id,
        "tenant_slug": tenant.slug,
        "tenant_name": tenant.name,
        "role": me.role.value,
        "display_name": me.display_name,
        "email": me.email,
        "session_id": actor.session_id,
        "csrf_token": auth_service.csrf_token(token) if request.state.cookie_session else None,
        "acting_for": [member_read(m, show_email=False) for m in acting_for],
        "keep_archived": keep_archived,
    }


@router.patch("/me", status_code=204)
async def update_me(body: MeUpdate, actor: CurrentActor) -> None:
    """Change your display name, your password (the current password is required) or
    `keep_archived` (archived conversations stay archived when a message comes). A
    password change may be told 503 `sign_in_busy` (Retry-After) when the node's password
    threads and their waiting room are full; nothing is changed then."""
    await tenant_service.do_update_profile(
        actor,
        display_name=body.display_name,
        password=body.password,
        current_password=body.current_password,
        keep_archived=body.keep_archived,
    )


async def _page(
    actor: CurrentActor, role: RoleName | None, cursor: str | None, limit: int | None
) -> dict[str, Any]:
    after = decode_text_cursor(cursor)
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        members = await tenant_service.list_members(
            tx,
            role=Role(role) if role else None,
            after=after,
            limit=size,
        )
    show_email = actor.role.is_staff
    last = members[-1] if len(members) == size else None
    return {
        "items": [member_read(m, show_email=show_email) for m in members],
        "next_cursor": encode_cursor([last.sort_key, str(last.account_id)]) if last else None,
    }


@router.get("/members", response_model=MemberPage)
async def list_members(
    actor: CurrentActor,
    role: RoleName | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """People in your organisation you may see: everyone for staff; for clients and
    guardians, the staff and the people they share a conversation with."""
    return await _page(actor, role, cursor, limit)


def organisation_settings_read(
    settings: OrganisationSettings, escalation: EscalationSettings
) -> dict[str, Any]:
    return {
        "conversation_start": settings.conversation_start.value,
        "device_storage": settings.device_storage,
        "escalation_hours": escalation.hours,
        "escalation_admin_hours": escalation.admin_hours,
        "time_zone": escalation.time_zone,
        "work_start": escalation.work_start.strftime("%H:%M"),
        "work_end": escalation.work_end.strftime("%H:%M"),
        "work_days": list(escalation.work_days),
    }


# The update's escalation fields, by EscalationSettings' names.
_ESCALATION_FIELDS = {
    "escalation_hours": "hours",
    "escalation_admin_hours": "admin_hours",
    "time_zone": "time_zone",
    "work_start": "work_start",
    "work_end": "work_end",
    "work_days": "work_days",
}
_NOT_NULL = ("time_zone", "work_start", "work_end", "work_days")


@router.get("/organisation/settings", response_model=OrganisationSettingsRead)
async def get_organisation_settings(actor: CurrentActor) -> dict[str, Any]:
    """The organisation's settings every member's client applies: who may start a
    conversation with whom, whether devices keep recent conversations, and unread
    escalation with the working week it counts in."""
    async with transaction(actor, readonly=True) as tx:
        settings = await tenant_service.get_organisation_settings(tx)
        escalation = await tenant_service.get_escalation_settings(tx)
    return organisation_settings_read(settings, escalation)


admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)


@admin.patch("/organisation/settings", status_code=204)
async def update_organisation_settings(
    body: OrganisationSettingsUpdate, actor: CurrentActor
) -> Response:
    """Change the organisation's settings; fields left out stay as they are (null turns
    an escalation threshold off)."""
    given = body.model_fields_set
    for name in _NOT_NULL:
        if name in given and getattr(body, name) is None:
            raise InvalidInput(f"{name} cannot be null", code="null_field")
    changes: dict[str, Any] = {
        field: getattr(body, name) for name, field in _ESCALATION_FIELDS.items() if name in given
    }
    for name in ("work_start", "work_end"):
        if name in changes:
            changes[name] = tenant_service.parse_clock_time(changes[name])
    async with transaction(actor) as tx:
        if changes:
            await tenant_service.do_update_escalation_settings(tx, changes)
        await tenant_service.do_update_organisation_settings(
            tx,
            conversation_start=ConversationStart(body.conversation_start)
            if body.conversation_start
            else None,
            device_storage=body.device_storage,
        )
    return Response(status_code=204)


def session_read(session: Session, *, current: uuid.UUID | None) -> dict[str, Any]:
    return {
        "id": session.id,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "expires_at": session.expires_at,
        "user_agent": session.user_agent,
        "current": session.id == current,
    }


@admin.get("/members/{account_id}/sessions", response_model=list[SessionRead])
async def list_member_sessions(account_id: uuid.UUID, actor: CurrentActor) -> list[dict[str, Any]]:
    """A member's signed-in sessions in this organisation, last used first. Their
    sessions in other organisations are not listed (nor counted)."""
    async with transaction(actor, readonly=True) as tx:
        sessions = await auth_service.list_member_sessions(tx, account_id)
    return [session_read(s, current=actor.session_id) for s in sessions]


@admin.delete("/members/{account_id}/sessions/{session_id}", status_code=204)
async def revoke_member_session(
    account_id: uuid.UUID, session_id: uuid.UUID, actor: CurrentActor
) -> Response:
    """End one of a member's sessions in this organisation (a lost phone); its sockets
    close within a second and its next request answers 401."""
    async with transaction(actor) as tx:
        await auth_service.do_revoke_member_session(tx, account_id, session_id)
    return Response(status_code=204)


@admin.get("/members/{account_id}", response_model=MemberRead)
async def get_member(account_id: uuid.UUID, actor: CurrentActor) -> dict[str, Any]:
    async with transaction(actor, readonly=True) as tx:
        tenant_service.require_admin(tx)
        member = await tenant_service.get_member(tx, account_id)
    return member_read(member, show_email=True)


@admin.patch("/members/{account_id}", response_model=MemberRead)
async def update_member(
    account_id: uuid.UUID, body: MemberUpdate, actor: CurrentActor
) -> dict[str, Any]:
    """Change a member's role, or disable them (which also ends their sessions)."""
    async with transaction(actor) as tx:
        member = await tenant_service.do_update_member(
            tx, account_id, role=Role(body.role) if body.role else None, disabled=body.disabled
        )
        if body.disabled:
            await auth_service.do_revoke_sessions(tx, account_id)
    return member_read(member, show_email=True)


@admin.post("/members/{account_id}/revoke-sessions", response_model=RevokedRead)
async def revoke_sessions(account_id: uuid.UUID, actor: CurrentActor) -> dict[str, int]:
    """Sign a member out everywhere; their open sockets close within a second."""
    async with transaction(actor) as tx:
        count = await auth_service.do_revoke_sessions(tx, account_id)
    return {"revoked": count}


@admin.get("/settings", response_model=TenantSettingsRead)
async def get_settings(actor: CurrentActor) -> dict[str, Any]:
    """The organisation's settings."""
    async with transaction(actor, readonly=True) as tx:
        tenant_service.require_admin(tx)
        settings = await tenant_service.get_settings(tx)
    return {"file_mb_per_person_per_day": settings.file_mb_per_person_per_day}


@admin.patch("/settings", response_model=TenantSettingsRead)
async def update_settings(body: TenantSettingsUpdate, actor: CurrentActor) -> dict[str, Any]:
    """Change the organisation's settings; fields left out stay as they are."""
    async with transaction(actor) as tx:
        settings = await tenant_service.do_update_settings(
            tx, file_mb_per_person_per_day=body.file_mb_per_person_per_day
        )
    return {"file_mb_per_person_per_day": settings.file_mb_per_person_per_day}

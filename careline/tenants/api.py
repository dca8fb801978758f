"""HTTP: who am I, the member directory, the admin's member management and the
organisation's settings."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request

from careline.auth import service as auth_service
from careline.auth.api import CurrentActor
from careline.care import service as care_service
from careline.db.tx import Role, transaction
from careline.kit import limits
from careline.kit.pagination import clamp_limit, decode_text_cursor, encode_cursor
from careline.tenants import service as tenant_service
from careline.tenants.records import Member
from careline.tenants.schemas import (
    MemberPage,
    MemberRead,
    MemberUpdate,
    MeRead,
    MeUpdate,
    RevokedRead,
    RoleName,
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


admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)


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

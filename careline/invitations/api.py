"""HTTP: an admin invites people and withdraws invitations; a person sees the
invitations addressed to them and accepts or declines, signed in or through the link."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from careline.auth import api as auth_api
from careline.auth.api import CurrentActor
from careline.auth.schemas import SignedInRead
from careline.db.tx import Actor, Role, transaction
from careline.invitations import accepting, jobs
from careline.invitations import service as invitation_service
from careline.invitations.records import Invitation, Offer
from careline.invitations.schemas import (
    AcceptedRead,
    InvitationCreate,
    InvitationCreated,
    InvitationPage,
    OfferRead,
    TokenAccept,
    TokenBody,
)
from careline.kit import clock, limits
from careline.kit.pagination import clamp_limit, decode_time_cursor, encode_cursor
from careline.mail import smtp
from careline.tenants import service as tenant_service
from careline.web.http import ERRORS

admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)
router = APIRouter(prefix="/api/v1/invitations", tags=["invitations"], responses=ERRORS)


def invitation_read(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "email": invitation.email,
        "display_name": invitation.display_name,
        "role": invitation.role.value,
        "state": invitation.state.value,
        "delivery": invitation.delivery.value,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "expired": invitation.expired(clock.now()),
    }


def offer_read(offer: Offer) -> dict[str, Any]:
    return {
        "id": offer.invitation.id,
        "tenant_slug": offer.tenant_slug,
        "tenant_name": offer.tenant_name,
        "role": offer.invitation.role.value,
        "display_name": offer.invitation.display_name,
        "email": offer.invitation.email,
        "expires_at": offer.invitation.expires_at,
    }


@admin.post("/members", response_model=InvitationCreated, status_code=201)
async def create_member(body: InvitationCreate, actor: CurrentActor) -> dict[str, Any]:
    """Invite a person: they become a member once they accept. The answer is the same
    whether or not the e-mail has a careline account anywhere. The link is e-mailed when
    SMTP is configured; otherwise it is returned here, once, for you to pass on."""
    by_mail = smtp.configured()
    async with transaction(actor) as tx:
        invitation, token = await invitation_service.do_invite(
            tx,
            email=body.email,
            display_name=body.display_name,
            role=Role(body.role),
            by_mail=by_mail,
        )
    if by_mail:
        await jobs.defer_mail(invitation.id, invitation.tenant_id)
    return {
        "invitation": invitation_read(invitation),
        "link": invitation_service.invitation_link(token) if token else None,
    }


@admin.get("/invitations", response_model=InvitationPage)
async def list_invitations(
    actor: CurrentActor,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Invitations waiting for an answer (expired ones included, marked), newest first."""
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        found = await invitation_service.list_pending(
            tx, after=decode_time_cursor(cursor), limit=size
        )
    last = found[-1] if len(found) == size else None
    return {
        "items": [invitation_read(i) for i in found],
        "next_cursor": encode_cursor([last.created_at.isoformat(), str(last.id)]) if last else None,
    }


@admin.delete("/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(invitation_id: uuid.UUID, actor: CurrentActor) -> Response:
    """Withdraw a pending invitation; its link stops working at once."""
    async with transaction(actor) as tx:
        await invitation_service.do_revoke(tx, invitation_id)
    return Response(status_code=204)


@router.get("", response_model=list[OfferRead])
async def list_my_invitations(actor: CurrentActor) -> list[dict[str, Any]]:
    """Invitations addressed to your e-mail, from any organisation, still open."""
    async with transaction(actor, readonly=True) as tx:
        offers = await invitation_service.list_offers(tx)
    return [offer_read(o) for o in offers]


@router.post("/{invitation_id}/accept", response_model=AcceptedRead)
async def accept_invitation(invitation_id: uuid.UUID, actor: CurrentActor) -> dict[str, Any]:
    """Join the organisation that invited you. Sign in to it afterwards (choose it by
    its slug); this session stays in the organisation it was opened for."""
    async with transaction(Actor.system()) as tx:
        invitation = await invitation_service.internal_accept_own(tx, invitation_id, actor.account)
        tenant = await tenant_service.get_tenant(tx, invitation.tenant_id)
    return {"tenant_slug": tenant.slug, "tenant_name": tenant.name, "role": invitation.role.value}


@router.post("/{invitation_id}/decline", status_code=204)
async def decline_invitation(invitation_id: uuid.UUID, actor: CurrentActor) -> Response:
    """Say no; the organisation's admins see it no longer pending."""
    async with transaction(Actor.system()) as tx:
        await invitation_service.internal_decline_own(tx, invitation_id, actor.account)
    return Response(status_code=204)


@router.post("/preview", response_model=OfferRead)
async def preview_invitation(body: TokenBody) -> dict[str, Any]:
    """What a link invites to, for the invite page. Says nothing about whether the
    e-mail has an account."""
    return offer_read(await accepting.preview(body.token))


@router.post("/accept", response_model=SignedInRead)
async def accept_by_link(
    body: TokenAccept, request: Request, response: Response
) -> dict[str, object]:
    """Accept through the link and sign in to the organisation (cookie, as at sign-in).
    A new account gives `display_name` and chooses its password; an existing account
    gives its own password and no name. The link then stops working. Like a sign-in it
    spends the account's and address's sign-in budget (429 `sign_in_budget`), and may be
    told 503 `sign_in_busy` when the node's password threads are full (Retry-After)."""
    signed = await accepting.accept(
        accepting.Acceptance(
            token=body.token,
            password=body.password,
            display_name=body.display_name,
            address=request.client.host if request.client else "unknown",
            user_agent=request.headers.get("user-agent", ""),
            device_cookie=None,
        )
    )
    return auth_api.start_browser_session(response, signed)

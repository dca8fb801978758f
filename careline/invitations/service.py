"""Invitations: an admin invites someone by e-mail; the person says yes (or no).

Adding a person never looks at accounts: whether the e-mail already has an account in
some organisation changes nothing the admin sees, and nothing joins until the person
accepts, signed in as themselves or through the link. The link's token is random,
works once, expires (CARELINE_INVITATION_DAYS) and is stored only as its SHA-256.

Errors: Forbidden `admin_only`; Conflict `already_member`; RateLimited `rate_limited`
(budget `invitations`); NotFound for an invitation outside the organisation or not
addressed to you, and `invitation_not_found` for an unknown link; Gone
`invitation_expired` / `invitation_used` / `invitation_revoked` / `invitation_declined`;
InvalidInput for a bad e-mail, name or role.
"""

from __future__ import annotations

import datetime as dt
import uuid

from careline import config
from careline.audit.changes import record_change
from careline.db.tx import Role, Tx
from careline.invitations import store
from careline.invitations.records import Delivery, Invitation, Offer, State
from careline.kit import budgets, clock, limits, tokens
from careline.kit.errors import Conflict, Gone, NotFound
from careline.kit.ids import new_id
from careline.kit.text import clean_email
from careline.tenants import service as tenant_service

_CLOSED = {
    State.ACCEPTED: ("this invitation has been accepted already", "invitation_used"),
    State.REVOKED: ("this invitation was withdrawn", "invitation_revoked"),
    State.DECLINED: ("this invitation was declined", "invitation_declined"),
}


def invitation_link(token: str) -> str:
    """The page that accepts an invitation. The token rides in the fragment, so it never
    reaches a server log, a proxy or a Referer header."""
    return f"{config.current().base_url}/invite#{token}"


def expiry(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=config.current().invitation_days)


def check_usable(invitation: Invitation, now: dt.datetime) -> Invitation:
    """An invitation that can still be accepted, or Gone with the reason."""
    if invitation.state in _CLOSED:
        detail, code = _CLOSED[invitation.state]
        raise Gone(detail, code=code)
    if invitation.expired(now):
        raise Gone("this invitation has expired; ask for a new one", code="invitation_expired")
    return invitation


async def do_invite(
    tx: Tx, *, email: str, display_name: str, role: Role, by_mail: bool
) -> tuple[Invitation, str | None]:
    """Admin: invite someone, or renew the pending invitation to the same e-mail (its
    old link stops working). Returns the invitation and, unless it goes by e-mail, the
    token of its link (shown once). Raises Conflict `already_member` for a member of
    this organisation, whom the admin can already see."""
    tenant_service.require_admin(tx)
    tenant_service.check_role(role)
    email = clean_email(email, max_chars=limits.EMAIL_MAX_CHARS)
    display_name = tenant_service.check_display_name(display_name)
    if await tenant_service.find_member_by_email(tx, email) is not None:
        raise Conflict("this person is already a member", code="already_member")
    # Spent last, once the invitation would be made: a refusal above costs nothing. Each
    # one may send an e-mail, so an admin's account cannot be made to flood inboxes.
    await budgets.spend(
        budgets.charge("invitations", config.current().budget_invitations, str(tx.actor.account))
    )
    token = None if by_mail else tokens.new_token()
    invitation = await store.upsert_pending(
        tx,
        invitation_id=new_id(),
        tenant_id=tx.actor.tenant,
        email=email,
        display_name=display_name,
        role=role,
        invited_by=tx.actor.account_id,
        expires_at=expiry(clock.now()),
        token_hash=tokens.token_hash(token) if token else None,
        delivery=Delivery.QUEUED if by_mail else Delivery.LINK,
    )
    # No subject yet: who the invitation is for is known once they accept it.
    await record_change(tx, "member.invited", object_id=invitation.id, detail={"role": role.value})
    return invitation, token


async def list_pending(
    tx: Tx, *, after: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[Invitation]:
    """Admin: the organisation's invitations still waiting for an answer, newest first."""
    tenant_service.require_admin(tx)
    return await store.list_pending(tx, tx.actor.tenant, after=after, limit=limit)


async def do_revoke(tx: Tx, invitation_id: uuid.UUID) -> None:
    """Admin: withdraw a pending invitation; its link stops working."""
    tenant_service.require_admin(tx)
    invitation = await store.lock(tx, invitation_id)
    # RLS also shows an admin the invitations addressed to their own e-mail elsewhere.
    if (
        invitation is None
        or invitation.tenant_id != tx.actor.tenant
        or invitation.state is not State.PENDING
    ):
        raise NotFound("no such invitation")
    await store.close(tx, invitation_id, State.REVOKED)
    await record_change(tx, "invitation.revoked", object_id=invitation_id)


async def list_offers(tx: Tx) -> list[Offer]:
    """The pending invitations addressed to the signed-in person's e-mail."""
    return await store.list_offers(tx, now=clock.now())


async def _join(tx: Tx, invitation: Invitation, account_id: uuid.UUID, display_name: str) -> None:
    # Joined meanwhile by other means (the CLI): the membership stands as it is.
    await tenant_service.internal_join(
        tx,
        tenant_id=invitation.tenant_id,
        account_id=account_id,
        role=invitation.role,
        display_name=display_name,
    )
    await store.close(tx, invitation.id, State.ACCEPTED, account_id=account_id)


async def _lock_own(tx: Tx, invitation_id: uuid.UUID, account_id: uuid.UUID) -> Invitation:
    invitation = await store.lock(tx, invitation_id)
    if invitation is None or (
        await tenant_service.internal_account_id_by_email(tx, invitation.email) != account_id
    ):
        raise NotFound("no such invitation")
    return check_usable(invitation, clock.now())


async def internal_accept_own(
    tx: Tx, invitation_id: uuid.UUID, account_id: uuid.UUID
) -> Invitation:
    """System, for a signed-in person: accept an invitation addressed to their own
    e-mail. The membership takes the name the admin gave; the person can change it."""
    invitation = await _lock_own(tx, invitation_id, account_id)
    await _join(tx, invitation, account_id, invitation.display_name)
    return invitation


async def internal_decline_own(tx: Tx, invitation_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """System, for a signed-in person: say no to an invitation addressed to them."""
    await _lock_own(tx, invitation_id, account_id)
    await store.close(tx, invitation_id, State.DECLINED)


async def internal_by_token(tx: Tx, token: str) -> Invitation:
    """System: the usable invitation behind a link's token."""
    invitation = await store.lock_by_token(tx, tokens.token_hash(token))
    if invitation is None:
        raise NotFound(
            "this invitation link is not valid (a newer invitation may have replaced it)",
            code="invitation_not_found",
        )
    return check_usable(invitation, clock.now())


async def internal_accept_by_token(
    tx: Tx, token: str, *, account_id: uuid.UUID, display_name: str | None
) -> Invitation:
    """System: accept through the link, for an account whose owner has just proved
    who they are (or has just been created). A new account names itself."""
    invitation = await internal_by_token(tx, token)
    await _join(tx, invitation, account_id, display_name or invitation.display_name)
    return invitation


async def internal_mint_for_mail(tx: Tx, invitation_id: uuid.UUID) -> tuple[Invitation, str] | None:
    """System: a fresh token for an invitation waiting for its e-mail, or None when it
    no longer waits (sent, withdrawn, accepted). A token is made here, in the job, so
    no token ever sits anywhere but in the e-mail and, hashed, in its row."""
    invitation = await store.lock_for_mail(tx, invitation_id)
    if invitation is None:
        return None
    token = tokens.new_token()
    now = clock.now()
    await store.set_token(tx, invitation_id, tokens.token_hash(token), expires_at=expiry(now))
    return invitation, token


async def internal_note_mail(
    tx: Tx, invitation_id: uuid.UUID, token: str, *, delivered: bool
) -> None:
    delivery = Delivery.SENT if delivered else Delivery.FAILED
    await store.set_delivery(tx, invitation_id, delivery, token_hash=tokens.token_hash(token))


async def internal_unmailed(
    tx: Tx, *, older_than: dt.datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    return await store.list_unmailed(tx, older_than=older_than, limit=limit)

"""Accepting an invitation through its link: the one place in this domain that opens its
own transactions, because proving who the person is (a password check under the
sign-in throttle) must happen between reading the invitation and joining.

The token alone never makes anyone a member of an existing account: when the e-mail
already has an account, its owner's own password is required, exactly as at sign-in.
Only for an e-mail with no account does the link let its holder choose the name and
password of the new account.
"""

from __future__ import annotations

from dataclasses import dataclass

from careline.auth import service as auth_service
from careline.auth.records import SignedIn
from careline.db.tx import Actor, transaction
from careline.invitations import service as invitation_service
from careline.invitations.records import Offer
from careline.kit.errors import Conflict, Unauthenticated
from careline.tenants import service as tenant_service


@dataclass(frozen=True, slots=True)
class Acceptance:
    token: str
    password: str
    display_name: str | None  # given: "I am new to careline"; None: "I have an account"
    address: str
    user_agent: str
    device_cookie: str | None


async def preview(token: str) -> Offer:
    """What the link is for (organisation, role, expiry), without saying whether the
    e-mail has an account: the admin may be the one holding the link."""
    async with transaction(Actor.system()) as tx:
        invitation = await invitation_service.internal_by_token(tx, token)
        tenant = await tenant_service.get_tenant(tx, invitation.tenant_id)
    return Offer(invitation, tenant.slug, tenant.name)


def _account_exists() -> Conflict:
    return Conflict(
        "this e-mail already has a careline account: sign in with its password to accept",
        code="account_exists",
    )


async def accept(acceptance: Acceptance) -> SignedIn:
    """Join the organisation and open a session in it. Raises the link's errors
    (invitation_not_found, invitation_expired, ...), Unauthenticated
    `invalid_credentials` (wrong password, or no account to sign in to: one answer),
    Conflict `account_exists` (asked to create an account the e-mail already has),
    RateLimited (`rate_limited`, `sign_in_budget`), HashingBusy (503 `sign_in_busy`), or
    InvalidInput for a weak password or bad name."""
    async with transaction(Actor.system()) as tx:
        invitation = await invitation_service.internal_by_token(tx, acceptance.token)
        account_id = await tenant_service.internal_account_id_by_email(tx, invitation.email)
    if account_id is not None:
        if acceptance.display_name is not None:
            raise _account_exists()
        await auth_service.check_credentials(
            auth_service.Credentials(
                email=invitation.email,
                password=acceptance.password,
                tenant_slug=None,
                address=acceptance.address,
                user_agent=acceptance.user_agent,
                device_cookie=acceptance.device_cookie,
            )
        )
    elif acceptance.display_name is None:
        raise Unauthenticated("wrong e-mail or password", code="invalid_credentials")
    else:
        # No password to check, but a session all the same: it spends the sign-in budget
        # (check_credentials did above for an existing account).
        await auth_service.spend_sign_in_budget(invitation.email, acceptance.address)
    async with transaction(Actor.system()) as tx:
        if account_id is None:
            assert acceptance.display_name is not None
            if await tenant_service.internal_account_id_by_email(tx, invitation.email):
                raise _account_exists()  # made meanwhile, e.g. through another invitation
            account_id = await tenant_service.internal_create_account(
                tx,
                email=invitation.email,
                display_name=acceptance.display_name,
                password=acceptance.password,
            )
        invitation = await invitation_service.internal_accept_by_token(
            tx, acceptance.token, account_id=account_id, display_name=acceptance.display_name
        )
        tenant = await tenant_service.get_tenant(tx, invitation.tenant_id)
    return await auth_service.open_session(
        account_id,
        tenant,
        invitation.role,
        email=invitation.email,
        user_agent=acceptance.user_agent,
    )

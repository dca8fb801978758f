"""Sign-in, sessions and their revocation.

Failed sign-ins slow down (exponentially, capped) per address and per account, and
successful ones spend a budget per account and per address (careline/auth/throttle.py,
whose docstring says what is counted when). The per-account delay is what stops
guessing one password from many addresses; so that an attacker cannot use it to keep a
person out, a browser that has signed in to the account before carries a signed device
cookie and is throttled on its own key instead (OWASP: "Slow Down Online Guessing
Attacks with Device Cookies").
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from dataclasses import dataclass

from careline import config
from careline.audit.changes import record_change
from careline.auth import store, throttle
from careline.auth.records import Session, SignedIn
from careline.db.tx import Actor, Role, Tx, transaction
from careline.keys import service as key_service
from careline.kit import clock, tokens
from careline.kit.errors import Conflict, Forbidden, NotFound, Unauthenticated
from careline.kit.events import Event
from careline.kit.ids import new_id
from careline.tenants import service as tenant_service
from careline.tenants.records import LoginIdentity, Tenant

log = logging.getLogger(__name__)

_TOUCH_EVERY = dt.timedelta(seconds=60)  # last_used_at is written at most this often
SESSION_REVOKED = "session.revoked"
SESSION_COOKIE = "careline_session"  # HttpOnly; the browser sends it to HTTP and the socket


@dataclass(frozen=True, slots=True)
class Credentials:
    email: str
    password: str
    tenant_slug: str | None
    address: str
    user_agent: str
    device_cookie: str | None


def _device_mac(nonce: str, email: str) -> str:
    return tokens.derive(key_service.derived_secret("device-cookie"), f"{nonce}:{email.lower()}")


def _new_device_cookie(email: str) -> str:
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{_device_mac(nonce, email)}"


def _device_nonce(cookie: str | None, email: str) -> str | None:
    """The nonce of a valid device cookie for this e-mail, else None."""
    if not cookie or "." not in cookie or len(cookie) > 200:
        return None
    nonce, _, mac = cookie.partition(".")
    return nonce if tokens.same(mac, _device_mac(nonce, email)) else None


def _throttle_keys(creds: Credentials) -> throttle.Keys:
    nonce = _device_nonce(creds.device_cookie, creds.email)
    return throttle.keys_for(creds.email, creds.address, nonce)


async def check_credentials(creds: Credentials) -> LoginIdentity:
    """The account behind an e-mail and its password, under the sign-in throttle and
    budget (careline/auth/throttle.py); the password is checked in the password threads.
    Raises RateLimited (wait: `rate_limited` after failures, `sign_in_budget` after
    successes), HashingBusy (503 `sign_in_busy`) or Unauthenticated (wrong e-mail or
    password, same answer for both, and for a disabled account)."""
    system = Actor.system()
    keys = _throttle_keys(creds)
    await throttle.admit(keys)
    async with transaction(system, readonly=True) as tx:
        identity = await tenant_service.get_login_identity(tx, creds.email)
    hasher = tenant_service.passwords()
    ok = await hasher.verify(identity.password_hash if identity else None, creds.password)
    if not ok or identity is None or identity.disabled:
        await throttle.note_failure(keys)
        log.info("sign-in failed", extra={"address": creds.address})
        raise Unauthenticated("wrong e-mail or password", code="invalid_credentials")
    await throttle.note_success(keys)
    if hasher.needs_rehash(identity.password_hash):
        new_hash = await hasher.hash(creds.password)
        async with transaction(system) as tx:
            await tenant_service.internal_set_password_hash(tx, identity.account_id, new_hash)
    return identity


async def spend_sign_in_budget(email: str, address: str) -> None:
    """For a session opened without a password check (a new account through an
    invitation): the same budget as a sign-in. Raises RateLimited `sign_in_budget`."""
    await throttle.spend(throttle.keys_for(email, address, None))


async def do_sign_in(creds: Credentials) -> SignedIn:
    """Check the password and open a session. Raises what check_credentials raises,
    Conflict (several organisations and none chosen) or Forbidden (not a member of the
    chosen one). Only memberships count: an invitation not yet accepted lists nothing."""
    identity = await check_credentials(creds)
    async with transaction(Actor.system()) as tx:
        memberships = await tenant_service.list_active_memberships(tx, identity.account_id)
    if creds.tenant_slug is not None:
        memberships = [m for m in memberships if m[0].slug == creds.tenant_slug]
    if not memberships:
        raise Forbidden("you are not a member of this organisation", code="no_membership")
    if len(memberships) > 1:
        raise Conflict(
            "choose an organisation",
            code="tenant_choice_required",
            extra={
                "tenants": [
                    {"slug": t.slug, "name": t.name, "id": str(t.id)} for t, _ in memberships
                ]
            },
        )
    tenant, role = memberships[0]
    return await open_session(
        identity.account_id, tenant, role, email=creds.email, user_agent=creds.user_agent
    )


async def open_session(
    account_id: uuid.UUID, tenant: Tenant, role: Role, *, email: str, user_agent: str
) -> SignedIn:
    """A new session of a member whose identity has just been proved."""
    token = tokens.new_token()
    session_id = new_id()
    settings = config.current()
    async with transaction(Actor.system(tenant.id)) as tx:
        await store.insert_session(
            tx,
            session_id=session_id,
            token_hash=tokens.token_hash(token),
            account_id=account_id,
            tenant_id=tenant.id,
            expires_at=clock.now() + dt.timedelta(hours=settings.session_absolute_hours),
            user_agent=user_agent[:200],
        )
    actor = Actor(account_id, tenant.id, role, session_id)
    log.info(
        "signed in", extra={"account_id": str(actor.account_id), "session_id": str(session_id)}
    )
    return SignedIn(token, actor, tenant, _new_device_cookie(email))


async def authenticate(token: str) -> Actor | None:
    """The actor of a live session token, or None."""
    if not token or len(token) > 200:
        return None
    idle = dt.timedelta(minutes=config.current().session_idle_minutes)
    async with transaction(Actor.system()) as tx:
        row = await store.get_live_session(tx, tokens.token_hash(token), idle=idle)
        if row is None:
            return None
        if clock.now() - row["last_used_at"] > _TOUCH_EVERY:
            await store.touch_session(tx, row["id"])
    return Actor(row["account_id"], row["tenant_id"], Role(row["role"]), row["id"])


def csrf_token(session_token: str) -> str:
    return tokens.derive(session_token, "csrf")


async def touch(actor: Actor) -> None:
    """Keep a session alive while its socket is in use."""
    if actor.session_id is None:
        return
    async with transaction(Actor.system(actor.tenant_id)) as tx:
        await store.touch_session(tx, actor.session_id)


def _revoked_event(tx: Tx, account_id: uuid.UUID, session_ids: list[uuid.UUID]) -> None:
    if session_ids:
        tx.emit(
            Event(
                type=SESSION_REVOKED,
                tenant_id=tx.actor.tenant,
                account_ids=(account_id,),
                data={"session_ids": [str(s) for s in session_ids]},
            )
        )


async def do_sign_out(tx: Tx) -> None:
    """End the acting session; its sockets close. Emits session.revoked."""
    assert tx.actor.session_id is not None
    revoked = await store.revoke_sessions(
        tx, account_id=tx.actor.account, session_id=tx.actor.session_id
    )
    _revoked_event(tx, tx.actor.account, revoked)


async def do_revoke_own_session(tx: Tx, session_id: uuid.UUID) -> None:
    revoked = await store.revoke_sessions(
        tx, account_id=tx.actor.account, session_id=session_id, tenant_id=tx.actor.tenant
    )
    if not revoked:
        raise NotFound("no such session")
    _revoked_event(tx, tx.actor.account, revoked)


async def do_revoke_sessions(tx: Tx, account_id: uuid.UUID) -> int:
    """Admin: end every session of a member in this organisation; their sockets close
    within a second. Emits session.revoked. Returns how many sessions ended."""
    tenant_service.require_admin(tx)
    await tenant_service.get_member(tx, account_id)  # NotFound outside the organisation
    # This organisation's sessions only (RLS agrees): the person's sessions in their
    # other organisations are none of this admin's business.
    revoked = await store.revoke_sessions(tx, account_id=account_id, tenant_id=tx.actor.tenant)
    _revoked_event(tx, account_id, revoked)
    await record_change(
        tx, "session.revoked", subject_account_id=account_id, detail={"count": len(revoked)}
    )
    return len(revoked)


async def list_member_sessions(tx: Tx, account_id: uuid.UUID) -> list[Session]:
    """Admin: a member's live sessions in this organisation. NotFound for someone who is
    not a member here; a person who belongs to another organisation too keeps those
    sessions out of this admin's sight (each session is of one organisation)."""
    tenant_service.require_admin(tx)
    await tenant_service.get_member(tx, account_id)
    return await store.list_sessions(tx, account_id, tx.actor.tenant)


async def do_revoke_member_session(tx: Tx, account_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """Admin: end one session of a member of this organisation; its sockets close. Emits
    session.revoked. NotFound for a member or a session not of this organisation."""
    tenant_service.require_admin(tx)
    await tenant_service.get_member(tx, account_id)
    revoked = await store.revoke_sessions(
        tx, account_id=account_id, session_id=session_id, tenant_id=tx.actor.tenant
    )
    if not revoked:
        raise NotFound("no such session")
    _revoked_event(tx, account_id, revoked)
    await record_change(
        tx,
        "session.revoked",
        object_id=session_id,
        subject_account_id=account_id,
        detail={"count": len(revoked)},
    )


async def list_own_sessions(tx: Tx) -> list[Session]:
    """Your sessions in the acting organisation."""
    return await store.list_sessions(tx, tx.actor.account, tx.actor.tenant)

"""The signed, expiring token of an e-mail's one-click unsubscribe link (RFC 8058).

A token names one person in one organisation and one thing to stop ("email": e-mail
notifications, "digest": digests) and when it stops working; an HMAC-SHA256 under a
key derived from the master key covers all of it. Anyone holding the link may use it
without signing in (that is what one-click means), so it can do exactly one thing:
turn that one preference off. An altered or made-up token is `unsubscribe_invalid`, an
old one `unsubscribe_expired` (both 4xx, changing nothing).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal

from careline import config
from careline.db.tx import Actor, transaction
from careline.keys import service as key_service
from careline.kit import clock, tokens
from careline.kit.errors import AppError
from careline.notifications import email_store
from careline.tenants import service as tenant_service

What = Literal["email", "digest"]
_PURPOSE = "notifications.unsubscribe"
_VERSION = 1
_WHAT: dict[What, int] = {"email": 1, "digest": 2}
_BODY_BYTES = 2 + 16 + 16 + 8


class UnsubscribeInvalid(AppError):
    status, code, title = 403, "unsubscribe_invalid", "Unsubscribe link not valid"


class UnsubscribeExpired(AppError):
    status, code, title = 410, "unsubscribe_expired", "Unsubscribe link expired"


@dataclass(frozen=True, slots=True)
class Target:
    tenant_id: uuid.UUID
    account_id: uuid.UUID
    what: What
    expires_at: dt.datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(body: str) -> str:
    return tokens.derive(key_service.derived_secret(_PURPOSE), body)


def make_token(
    tenant_id: uuid.UUID, account_id: uuid.UUID, what: What, *, now: dt.datetime | None = None
) -> str:
    """A token that turns `what` off for this person, valid for
    CARELINE_NOTIFY_UNSUBSCRIBE_DAYS from `now`."""
    days = config.current().notify_unsubscribe_days
    expires = int(((now or clock.now()) + dt.timedelta(days=days)).timestamp())
    raw = bytes([_VERSION, _WHAT[what]]) + tenant_id.bytes + account_id.bytes
    body = _b64(raw + expires.to_bytes(8, "big"))
    return f"{body}.{_mac(body)}"


def check_token(token: str) -> Target:
    """What the token may do, or UnsubscribeInvalid / UnsubscribeExpired. The MAC is
    checked first, so an altered expiry reads as invalid, not expired."""
    body, dot, mac = token.partition(".")
    if not dot or not body or not tokens.same(_mac(body), mac):
        raise UnsubscribeInvalid("this unsubscribe link is not valid: nothing was changed")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise UnsubscribeInvalid("this unsubscribe link is not valid") from None
    kinds = {number: name for name, number in _WHAT.items()}
    if len(raw) != _BODY_BYTES or raw[0] != _VERSION or raw[1] not in kinds:
        raise UnsubscribeInvalid("this unsubscribe link is not valid")
    expires = int.from_bytes(raw[34:42], "big")
    if expires < clock.now().timestamp():
        raise UnsubscribeExpired(
            "this unsubscribe link has expired: nothing was changed; use a newer e-mail's "
            "link or the notification settings"
        )
    return Target(
        tenant_id=uuid.UUID(bytes=raw[2:18]),
        account_id=uuid.UUID(bytes=raw[18:34]),
        what=kinds[raw[1]],
        expires_at=dt.datetime.fromtimestamp(expires, dt.UTC),
    )


async def organisation_of(target: Target) -> str:
    """The organisation's name, for the page (the only name it shows)."""
    async with transaction(Actor.system(target.tenant_id), readonly=True) as tx:
        tenant = await tenant_service.get_tenant(tx, target.tenant_id)
    return tenant.name


async def do_unsubscribe(target: Target) -> None:
    """Turn off exactly what the token names, for exactly that person (idempotent)."""
    async with transaction(Actor.system(target.tenant_id)) as tx:
        if target.what == "email":
            await email_store.update_email_off(tx, target.tenant_id, target.account_id)
        else:
            await email_store.update_digest_off(tx, target.tenant_id, target.account_id)

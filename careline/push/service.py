"""Push subscriptions: a browser's subscription made by a person signed in to one
organisation, bound to that session; and the server key browsers subscribe with.

Errors: InvalidInput (422) with the codes `push_endpoint_insecure`,
`push_endpoint_invalid`, `push_key_invalid`, `push_auth_invalid`; Conflict (409)
`push_subscriptions_full`; NotFound (404) `push_subscription_not_found`.
"""

from __future__ import annotations

import binascii
import ipaddress
import uuid
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import _check_sub

from careline import config
from careline.db.tx import Tx
from careline.keys import service as key_service
from careline.kit import limits
from careline.kit.errors import Conflict, InvalidInput, NotFound
from careline.push import store, vapid
from careline.push.sender import Target

_P256DH_BYTES = 65  # an uncompressed P-256 point (RFC 8291 section 3.1)
_AUTH_BYTES = 16  # the authentication secret (RFC 8291 section 3.2)


def server_key() -> Any:
    """The installation's VAPID key (made at first call; see vapid.py)."""
    ring = key_service.keyring()
    return vapid.load(config.current().data_dir, ring.master_keys, ring.current_master_id)


def application_server_key() -> str:
    return vapid.application_server_key(server_key())


def contact() -> str:
    """The JWT's `sub` (RFC 8292 section 2.1): the configured contact, else careline's
    own https origin, else a mailto: the push service can at least parse (development:
    some push services refuse it, so a deployment sets an https public_url or this)."""
    settings = config.current()
    if settings.push_contact:
        return settings.push_contact
    base = urlsplit(settings.base_url)
    own = f"https://{base.hostname}"
    if base.scheme == "https" and check_contact(own):
        return own
    return "mailto:push@localhost"


def check_contact(value: str) -> bool:
    """Whether py_vapid signs with this `sub` (it refuses what it cannot parse)."""
    return bool(_check_sub(value))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _private_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    return not address.is_global


def check_endpoint(endpoint: str) -> str:
    """A push service URL careline may POST to. https only, to a public name; plain
    http only to this machine's loopback and only while careline itself is served over
    plain http on loopback (development, tests, bench), never in a deployment. A
    subscription cannot make careline call into its own network (no private addresses)."""
    if len(endpoint) > limits.PUSH_ENDPOINT_MAX_CHARS:
        raise InvalidInput("the endpoint is too long", code="push_endpoint_invalid")
    if any(c <= " " or c == "\x7f" for c in endpoint):
        raise InvalidInput(
            "the endpoint holds spaces or control characters", code="push_endpoint_invalid"
        )
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidInput("the endpoint is not a URL", code="push_endpoint_invalid") from None
    if not host or parts.username or parts.password or parts.fragment:
        raise InvalidInput("the endpoint is not a push URL", code="push_endpoint_invalid")
    if parts.scheme == "https":
        if _private_address(host) and not _loopback_allowed():
            raise InvalidInput(
                "the endpoint is not a public push service", code="push_endpoint_invalid"
            )
        return endpoint
    if parts.scheme == "http" and _loopback(host) and _loopback_allowed():
        return endpoint
    raise InvalidInput("a push endpoint must use https", code="push_endpoint_insecure")


def _loopback_allowed() -> bool:
    base = urlsplit(config.current().base_url)
    return base.scheme == "http" and _loopback(base.hostname or "")


def _key(text: Any, *, size: int, code: str, what: str) -> bytes:
    # The length is checked on the text first: an oversize key is refused unread.
    if not isinstance(text, str) or len(text) > limits.PUSH_KEY_MAX_CHARS:
        raise InvalidInput(f"{what} is not a base64url key", code=code)
    try:
        raw = vapid.b64url_decode(text)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{what} is not base64url", code=code) from None
    if len(raw) != size:
        raise InvalidInput(f"{what} must be {size} bytes", code=code)
    return raw


def check_subscription(endpoint: str, p256dh: str, auth: str) -> Target:
    """The subscription as the browser's PushSubscription.toJSON() gives it, checked."""
    check_endpoint(endpoint)
    public = _key(p256dh, size=_P256DH_BYTES, code="push_key_invalid", what="keys.p256dh")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    except ValueError:
        raise InvalidInput("keys.p256dh is not a P-256 point", code="push_key_invalid") from None
    secret = _key(auth, size=_AUTH_BYTES, code="push_auth_invalid", what="keys.auth")
    return Target(endpoint, public, secret)


async def do_subscribe(tx: Tx, target: Target) -> uuid.UUID:
    """Keep this browser's subscription for the actor in the actor's organisation, on
    the actor's session: it ends with the session (signing out, revocation, expiry)."""
    if await store.count_own(tx) >= limits.PUSH_SUBSCRIPTIONS_MAX:
        await store.delete_dead(tx, tx.actor.tenant, tx.actor.account)
        if await store.count_own(tx) >= limits.PUSH_SUBSCRIPTIONS_MAX:
            raise Conflict(
                "too many devices receive push notifications; turn one off first",
                code="push_subscriptions_full",
            )
    # As the system: a browser another person of this organisation subscribed before
    # (a shared device) now belongs to whoever signed in on it last.
    async with tx.as_system():
        return await store.upsert_subscription(
            tx,
            subscription_id=uuid.uuid4(),
            session_id=tx.actor.session_id,
            endpoint=target.endpoint,
            p256dh=target.p256dh,
            auth=target.auth,
        )


async def list_own_subscriptions(tx: Tx) -> list[Any]:
    """The actor's subscriptions in this organisation (at most PUSH_SUBSCRIPTIONS_MAX)."""
    return await store.list_own(tx)


async def do_unsubscribe(tx: Tx, endpoint: str) -> None:
    """Forget the actor's subscription for `endpoint` (this organisation only)."""
    if not await store.delete_own_subscription(tx, endpoint):
        raise NotFound("no such push subscription", code="push_subscription_not_found")


async def internal_targets(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> list[Any]:
    """As the system: where a push for this person in this organisation goes. Those
    whose session ended are removed here."""
    await store.delete_dead(tx, tenant_id, account_id)
    return await store.list_live(tx, tenant_id, account_id)


async def internal_target(tx: Tx, subscription_id: uuid.UUID) -> Any:
    return await store.get_live(tx, subscription_id)


async def internal_remove(tx: Tx, subscription_id: uuid.UUID) -> None:
    await store.delete_subscription(tx, subscription_id)


async def internal_sent(tx: Tx, subscription_id: uuid.UUID) -> None:
    await store.touch_subscription(tx, subscription_id)


async def internal_retry_target(tx: Tx, notification_id: uuid.UUID) -> Any:
    return await store.get_retry_target(tx, notification_id)

"""The adapter to a push service (RFC 8030): one encrypted, VAPID-signed POST to a
subscription's endpoint, over aiohttp.

It answers with the push service's status and Retry-After, whatever they are: what a
status means (sent, gone, try later) is the channel's decision. A push service that
cannot be reached or answers too slowly is PushUnavailable ("not now, try later"). The
payload is encrypted before it leaves (RFC 8291, aes128gcm) and nothing here is logged:
an endpoint is a capability URL and is never written anywhere but its row.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from py_vapid import Vapid02
from pywebpush import WebPusher

from careline.push.vapid import b64url

# RFC 8292 section 2: exp no more than 24 hours ahead. 12 h leaves room for clock skew.
JWT_LIFETIME_SECONDS = 12 * 3600


class PushUnavailable(Exception):
    """The push service could not be reached or did not answer in time. The message is
    a reason code, never the endpoint."""


@dataclass(frozen=True, slots=True)
class Target:
    endpoint: str = field(repr=False)
    p256dh: bytes = field(repr=False)
    auth: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    retry_after: float | None  # seconds, from Retry-After (delta or HTTP date)


def origin(endpoint: str) -> str:
    """The JWT's audience: the endpoint's scheme, host and port (RFC 8292 section 2)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def vapid_headers(key: Vapid02, endpoint: str, *, subject: str) -> dict[str, str]:
    """The Authorization header for this endpoint. A fresh claims dict per call: the
    audience differs per push service (and pywebpush's own helper mutates the dict)."""
    claims = {
        "aud": origin(endpoint),
        "exp": int(time.time()) + JWT_LIFETIME_SECONDS,
        "sub": subject,
    }
    signed: dict[str, str] = key.sign(claims)
    return signed


async def post(
    session: aiohttp.ClientSession,
    key: Vapid02,
    target: Target,
    payload: bytes,
    *,
    subject: str,
    ttl: int,
    urgency: str,
    topic: str,
    timeout_seconds: float,
) -> Reply:
    """Encrypt `payload` to the subscription and POST it; the push service's answer."""
    headers = {
        **vapid_headers(key, target.endpoint, subject=subject),
        "Urgency": urgency,  # RFC 8030 5.3
        "Topic": topic,  # RFC 8030 5.4: replaces an undelivered push of the same record
    }
    subscription = {
        "endpoint": target.endpoint,
        "keys": {"p256dh": b64url(target.p256dh), "auth": b64url(target.auth)},
    }
    pusher = WebPusher(subscription, aiohttp_session=session)
    try:
        response = await pusher.send_async(
            payload,
            headers,
            ttl=ttl,
            content_encoding="aes128gcm",
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        )
    except TimeoutError:
        raise PushUnavailable("push_timeout") from None
    except aiohttp.ClientError:
        raise PushUnavailable("push_unreachable") from None
    assert not isinstance(response, str)  # only with curl=True
    return Reply(response.status, parse_retry_after(response.headers.get("Retry-After")))

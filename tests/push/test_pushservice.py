"""The tests' push service refuses what the RFCs forbid, so a test that passes against it
means careline's pushes would pass a real one: a sound push is taken and decrypted;
a wrong audience, an expiry too far, another server key, a bad signature, no TTL, the
old aesgcm coding, or a body not encrypted to the subscription are 400s and findings."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

from careline.push import sender, vapid
from careline.push.sender import Target
from tests.support.pushservice import PushService, Subscriber

SERVER = Vapid02(ec.generate_private_key(ec.SECP256R1()))
SERVER_KEY = vapid.application_server_key(SERVER)


def target(sub: Subscriber) -> Target:
    return Target(sub.endpoint, vapid.b64url_decode(sub.p256dh), sub.auth)


async def post(
    sub: Subscriber,
    *,
    claims: dict[str, Any] | None = None,
    key: Vapid02 = SERVER,
    k: str | None = None,
    headers: Callable[[dict[str, str]], dict[str, str]] = lambda h: h,
    encoding: str = "aes128gcm",
    keys_of: Subscriber | None = None,
    ttl: int = 60,
) -> int:
    signed = key.sign(
        claims
        or {
            "aud": sender.origin(sub.endpoint),
            "exp": int(time.time()) + 3600,
            "sub": "mailto:a@b.c",
        }
    )
    if k is not None:
        token = signed["Authorization"].split("t=", 1)[1].split(",", 1)[0]
        signed = {"Authorization": f"vapid t={token},k={k}"}
    enc = keys_of or sub
    subscription = {
        "endpoint": sub.endpoint,
        "keys": {"p256dh": enc.p256dh, "auth": vapid.b64url(enc.auth)},
    }
    async with aiohttp.ClientSession() as session:
        response = await WebPusher(subscription, aiohttp_session=session).send_async(
            b'{"title": "x"}', headers(signed), ttl=ttl, content_encoding=encoding
        )
        assert not isinstance(response, str)
        return response.status


async def test_a_sound_push_is_taken_and_decrypted(push_service: PushService) -> None:
    sub = push_service.subscriber(server_key=SERVER_KEY)
    async with aiohttp.ClientSession() as session:
        reply = await sender.post(
            session,
            SERVER,
            target(sub),
            b'{"title": "Org"}',
            subject="mailto:ops@example.org",
            ttl=60,
            urgency="high",
            topic="abc",
            timeout_seconds=5,
        )
    assert reply.status == 201
    assert push_service.delivered(sub) == [{"title": "Org"}]


@pytest.mark.parametrize(
    ("case", "finding"),
    [
        ("aud", "aud"),
        ("exp", "exp"),
        ("sub", "sub"),
        ("other_server_key", "applicationServerKey"),
        ("bad_signature", "signature"),
        ("no_ttl", "TTL"),
        ("urgency", "Urgency"),
        ("topic", "Topic"),
        ("aesgcm", "aes128gcm"),
        ("other_keys", "decrypt"),
    ],
)
async def test_what_the_rfcs_forbid_is_refused(
    push_service: PushService, case: str, finding: str
) -> None:
    sub = push_service.subscriber(server_key=SERVER_KEY)
    good = {"aud": push_service.origin, "exp": int(time.time()) + 3600, "sub": "mailto:a@b.c"}
    other = Vapid02(ec.generate_private_key(ec.SECP256R1()))
    kwargs: dict[str, Any] = {
        "aud": {"claims": {**good, "aud": "http://127.0.0.1:1"}},
        "exp": {"claims": {**good, "exp": int(time.time()) + 25 * 3600}},
        "sub": {"claims": {**good, "sub": "ops"}, "key": _no_strict(SERVER)},
        "other_server_key": {"key": other},
        "bad_signature": {"key": other, "k": SERVER_KEY},
        "no_ttl": {"headers": lambda h: {**h, "TTL": "soon"}, "ttl": 0},
        "urgency": {"headers": lambda h: {**h, "Urgency": "urgent"}},
        "topic": {"headers": lambda h: {**h, "Topic": "x" * 33}},
        "aesgcm": {"encoding": "aesgcm"},
        "other_keys": {"keys_of": push_service.subscriber()},
    }[case]
    before = len(push_service.problems)

    assert await post(sub, **kwargs) == 400

    assert len(push_service.problems) == before + 1
    assert finding in push_service.problems[-1]
    assert push_service.delivered(sub) == []


def _no_strict(key: Vapid02) -> Vapid02:
    return Vapid02(key.private_key, conf={"no-strict": True})  # signs any `sub`


async def test_it_answers_what_it_is_told(push_service: PushService) -> None:
    sub = push_service.subscriber()
    push_service.answer(sub, 429, retry_after=3)
    push_service.answer(sub, 500)
    assert await post(sub) == 429
    assert push_service.received(sub)[-1].status == 429
    assert await post(sub) == 500
    assert await post(sub) == 201
    push_service.answer(sub, 410)
    assert [await post(sub) for _ in range(2)] == [410, 410]  # gone stays gone

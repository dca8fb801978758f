"""The bench's push endpoint takes what a push service takes, and only that: a push
signed with VAPID for its origin and encrypted to the subscriber (RFC 8291/8292) is
accepted with 201 and recorded; anything a real push service would refuse is refused
and counted, so `careline bench notify` times only pushes a browser would get."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import http_ece
import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from careline.bench.pushsink import PushSink, b64url, unb64url


def _public(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _jwt(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any]) -> str:
    head = b64url(orjson.dumps({"typ": "JWT", "alg": "ES256"}))
    body = b64url(orjson.dumps(claims))
    der = key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{head}.{body}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _push(
    subscription: dict[str, Any],
    payload: dict[str, Any],
    *,
    aud: str,
    signer: ec.EllipticCurvePrivateKey | None = None,
    encoding: str = "aes128gcm",
) -> tuple[dict[str, str], bytes]:
    """Headers and body as a VAPID sender (pywebpush) makes them."""
    vapid = ec.generate_private_key(ec.SECP256R1())
    claims = {"aud": aud, "exp": int(time.time()) + 3600, "sub": "mailto:ops@careline.test"}
    body = http_ece.encrypt(
        orjson.dumps(payload),
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=unb64url(subscription["keys"]["p256dh"]),
        auth_secret=unb64url(subscription["keys"]["auth"]),
        version="aes128gcm",
    )
    headers = {
        "Authorization": f"vapid t={_jwt(signer or vapid, claims)}, k={b64url(_public(vapid))}",
        "Content-Encoding": encoding,
        "TTL": "60",
        "Urgency": "high",
    }
    return headers, body


@pytest.fixture
async def sink() -> AsyncIterator[PushSink]:
    async with PushSink() as started:
        yield started


async def _post(endpoint: str, headers: dict[str, str], body: bytes) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(endpoint, headers=headers, data=body) as answer,
    ):
        return answer.status


async def test_a_push_signed_for_its_origin_and_encrypted_to_the_subscriber_is_taken(
    sink: PushSink,
) -> None:
    subscription = sink.subscribe("7")
    headers, body = _push(subscription, {"title": "careline", "count": 3}, aud=sink.origin)
    assert await _post(subscription["endpoint"], headers, body) == 201
    (arrival,) = sink.arrivals
    assert (arrival.name, arrival.payload, arrival.urgency, arrival.ttl) == (
        "7",
        {"title": "careline", "count": 3},
        "high",
        60,
    )
    assert sink.refused == {}


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("another origin", "vapid_aud"),
        ("signed by another key", "vapid_signature"),
        ("old encoding", "content_encoding"),
        ("encrypted to another subscriber", "decrypt"),
    ],
)
async def test_what_a_push_service_refuses_is_refused_and_counted(
    sink: PushSink, case: str, reason: str
) -> None:
    subscription = sink.subscribe("1")
    other = sink.subscribe("2")
    payload = {"title": "careline", "count": 1}
    aud = "http://127.0.0.1:1" if case == "another origin" else sink.origin
    signer = ec.generate_private_key(ec.SECP256R1()) if case == "signed by another key" else None
    encoding = "aesgcm" if case == "old encoding" else "aes128gcm"
    target = other if case == "encrypted to another subscriber" else subscription
    headers, body = _push(target, payload, aud=aud, signer=signer, encoding=encoding)
    assert await _post(subscription["endpoint"], headers, body) == 400
    assert sink.arrivals == []
    assert sink.refused == {reason: 1}
